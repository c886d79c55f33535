package dialog

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"lextrail/internal/services/lexmodels/build"
)

// bigBot is a 50-intent bot with 30 sample utterances each, a custom slot
// type of 40 values and a DATE slot: the benchmarks' bot.
func bigBot(tb testing.TB) (*build.Model, []string) {
	common := strings.Fields("i want to please can you the a my for book order get show me need would like some")
	syl := []string{"ba", "ko", "ri", "ten", "mu", "sa", "lo", "ve", "dri", "pel", "nu", "gor", "fi", "ta", "zel"}
	word := func(i, k int) string { return syl[i%15] + syl[(i/15+k)%15] + syl[(k*7+i)%15] + "o" }
	var vals []any
	for v := 0; v < 40; v++ {
		vals = append(vals, m{"value": fmt.Sprintf("item%d", v), "synonyms": []string{fmt.Sprintf("thing%d", v)}})
	}
	in := build.Input{SlotTypes: []build.Resource{{Name: "Items", Version: "1", Def: jsonOf(m{"enumerationValues": vals, "valueSelectionStrategy": "TOP_RESOLUTION"})}}}
	var refs []any
	var starts []string
	for i := 0; i < 50; i++ {
		name := "Intent" + string(rune('A'+i%26)) + string(rune('a'+i/26))
		var utts []string
		for j := 0; j < 30; j++ {
			var ws []string
			for k := 0; k < 3; k++ {
				ws = append(ws, common[(i+j+k*5)%len(common)], word(i, (j+k)%12))
			}
			if j%2 == 0 {
				ws = append(ws, "{Item}")
			}
			if j%5 == 0 {
				ws = append(ws, "on", "{When}")
			}
			utts = append(utts, strings.Join(ws, " "))
		}
		starts = append(starts, strings.Replace(utts[2], "{Item}", fmt.Sprintf("thing%d", i%40), 1))
		p := m{"maxAttempts": 2, "messages": plain("Which?")}
		in.Intents = append(in.Intents, build.Resource{Name: name, Version: "1", Def: jsonOf(m{"sampleUtterances": utts, "fulfillmentActivity": m{"type": "ReturnIntent"},
			"slots": []any{m{"name": "Item", "slotConstraint": "Required", "slotType": "Items", "slotTypeVersion": "1", "priority": 1, "valueElicitationPrompt": p},
				m{"name": "When", "slotConstraint": "Required", "slotType": "AMAZON.DATE", "priority": 2, "valueElicitationPrompt": p}}})})
		refs = append(refs, m{"intentName": name, "intentVersion": "1"})
	}
	in.Bot = build.Resource{Name: "Big", Version: "1", Def: jsonOf(m{"locale": "en-US", "intents": refs,
		"clarificationPrompt": m{"maxAttempts": 2, "messages": plain("Sorry?")}, "abortStatement": m{"messages": plain("Bye.")}})}
	bm, err := build.Compile(in)
	if err != nil {
		tb.Fatal(err)
	}
	return bm, starts
}

// BenchmarkLoadBot50x30 is what a runtime node does on a model cache miss:
// decode the stored artefact and load its language model.
func BenchmarkLoadBot50x30(b *testing.B) {
	bm, _ := bigBot(b)
	data, _ := json.Marshal(bm)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	defer cpuPerOp(b)()
	for i := 0; i < b.N; i++ {
		var m build.Model
		if err := json.Unmarshal(data, &m); err != nil {
			b.Fatal(err)
		}
		if _, err := NewBot(&m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTurn50x30 is one engine turn pair on the 50-intent bot: an
// utterance that starts an intent, then its DATE slot's answer.
func BenchmarkTurn50x30(b *testing.B) {
	bm, starts := bigBot(b)
	bot, err := NewBot(bm)
	if err != nil {
		b.Fatal(err)
	}
	e := New(Config{})
	b.ResetTimer()
	defer cpuPerOp(b)()
	for i := 0; i < b.N; i++ {
		s := NewState("s")
		r, err := e.Turn(context.Background(), bot, s, Input{Text: starts[i%len(starts)], Now: ref})
		if err != nil || r.DialogState != ElicitSlot {
			b.Fatalf("%v %+v", err, r)
		}
		if r, err = e.Turn(context.Background(), bot, s, Input{Text: "next friday", Now: ref}); err != nil || r.DialogState != ReadyForFulfillment {
			b.Fatalf("%v %+v", err, r)
		}
	}
}
