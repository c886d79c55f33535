package build

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"I want to order {FlowerType}, please!", "i want to order {FlowerType} please", ""},
		{"{A} and {B}", "{A} and {B}", ""},
		{"don't stop", "don't stop", ""},
		{"Pedir {Comida} mañana", "pedir {Comida} mañana", ""},
		{"broken {Slot", "", "unclosed"},
		{"broken } here", "", "unmatched"},
		{"empty {}", "", "empty"},
		{"  ", "", "no words"},
	} {
		got, err := Parse(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%q) err %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got.Text != tc.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", tc.in, got.Text, err, tc.want)
		}
	}
}

func raw(v any) json.RawMessage { b, _ := json.Marshal(v); return b }

// bigBot is 100 intents × 50 utterances over 20 slot types.
func bigBot() Input {
	in := Input{}
	var refs []map[string]string
	for i := 0; i < 20; i++ {
		var vals []map[string]any
		for v := 0; v < 50; v++ {
			vals = append(vals, map[string]any{"value": fmt.Sprintf("value %d of type %d", v, i), "synonyms": []string{fmt.Sprintf("syn %d %d", v, i)}})
		}
		in.SlotTypes = append(in.SlotTypes, Resource{Name: fmt.Sprintf("Type%c", 'A'+i), Version: "1", Def: raw(map[string]any{"enumerationValues": vals})})
	}
	for i := 0; i < 100; i++ {
		name := fmt.Sprintf("Intent%03d", i)
		var utt []string
		for u := 0; u < 50; u++ {
			utt = append(utt, fmt.Sprintf("do thing %d for %d with {Thing}", u, i))
		}
		slots := []map[string]any{{"name": "Thing", "slotConstraint": "Required", "slotType": fmt.Sprintf("Type%c", 'A'+i%20), "slotTypeVersion": "1",
			"valueElicitationPrompt": map[string]any{"maxAttempts": 2, "messages": []any{map[string]string{"contentType": "PlainText", "content": "Which?"}}}}}
		if i >= 20 {
			slots[0]["name"] = fmt.Sprintf("Thing")
			slots[0]["slotType"] = "TypeA" // same-named slots share a type
		}
		in.Intents = append(in.Intents, Resource{Name: name, Version: "1", Def: raw(map[string]any{"sampleUtterances": utt, "slots": slots})})
		refs = append(refs, map[string]string{"intentName": name, "intentVersion": "1"})
	}
	for i := range in.Intents[:20] {
		var d map[string]any
		json.Unmarshal(in.Intents[i].Def, &d)
		d["slots"].([]any)[0].(map[string]any)["slotType"] = "TypeA"
		in.Intents[i].Def = raw(d)
	}
	in.Bot = Resource{Name: "BigBot", Version: "$LATEST", Def: raw(map[string]any{"locale": "en-US", "intents": refs})}
	return in
}

func TestCompileBigBot(t *testing.T) {
	m, err := Compile(bigBot())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Intents) != 100 || len(m.Intents[0].Templates) != 50 {
		t.Fatalf("model: %d intents", len(m.Intents))
	}
}

func TestCompileFailures(t *testing.T) {
	in := bigBot()
	var d map[string]any
	json.Unmarshal(in.Intents[0].Def, &d)
	d["sampleUtterances"] = []string{"go {Missing}", "do thing 1 for 1 with {Thing}"}
	in.Intents[0].Def = raw(d)
	in.SlotTypes = in.SlotTypes[1:] // TypeA gone
	// A required slot without a prompt (PutIntent refuses one; the build
	// checks what it compiles all the same).
	var d2 map[string]any
	json.Unmarshal(in.Intents[2].Def, &d2)
	delete(d2["slots"].([]any)[0].(map[string]any), "valueElicitationPrompt")
	in.Intents[2].Def = raw(d2)
	_, err := Compile(in)
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("err %v", err)
	}
	all := strings.Join(e.Reasons, "\n")
	for _, want := range []string{"refers to slot {Missing}", "uses slot type TypeA version 1, which does not exist", "appears in both intent Intent000 and intent Intent001",
		"Slot Thing of intent Intent002 is required but has no valueElicitationPrompt."} {
		if !strings.Contains(all, want) {
			t.Errorf("reasons lack %q:\n%s", want, all)
		}
	}
}

func BenchmarkCompile100x50(b *testing.B) {
	in := bigBot()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Compile(in); err != nil {
			b.Fatal(err)
		}
	}
}
