package lexmodels

import (
	"context"
	"fmt"
	"testing"
	"time"

	"lextrail/internal/store"
)

// BenchmarkBuildBot runs the worker's whole build (load from the
// database, compile, store the model) of a bot with 100 intents × 50
// utterances over 20 slot types.
func BenchmarkBuildBot(b *testing.B) {
	ctx := context.Background()
	db := openTestDB(b, TestDrivers[0])
	s := New(Config{DB: db})
	sc := scope{"123456789012", "us-east-1"}
	now := time.Now()
	letter := func(i int) string { return string(rune('A'+i/26)) + string(rune('a'+i%26)) }
	err := db.Write(ctx, func(tx *store.Tx) error {
		for i := 0; i < 20; i++ {
			d := &SlotTypeDef{ValueSelectionStrategy: "ORIGINAL_VALUE"}
			for v := 0; v < 50; v++ {
				d.EnumerationValues = append(d.EnumerationValues, EnumerationValue{Value: fmt.Sprintf("value %d of %d", v, i), Synonyms: []string{fmt.Sprintf("syn %d %d", v, i)}})
			}
			if _, err := s.storeSlotType(ctx, tx, sc, "Type"+letter(i), d, nil, now); err != nil {
				return err
			}
			if _, err := publish(ctx, tx, sc, kindSlotType, "Type"+letter(i), nil, now, nil); err != nil {
				return err
			}
		}
		bot := &BotDef{Locale: "en-US", IdleSessionTTLInSeconds: 300}
		for i := 0; i < 100; i++ {
			typ, ver, two := "Type"+letter(i%20), "1", 2
			d := &IntentDef{FulfillmentActivity: &FulfillmentActivity{Type: "ReturnIntent"},
				Slots: []Slot{{Name: "Thing" + letter(i%20), SlotConstraint: "Required", SlotType: &typ, SlotTypeVersion: &ver,
					ValueElicitationPrompt: &Prompt{MaxAttempts: &two, Messages: []Message{{ContentType: "PlainText", Content: "Which?"}}}}}}
			for u := 0; u < 50; u++ {
				d.SampleUtterances = append(d.SampleUtterances, fmt.Sprintf("do thing %d for %d with {Thing%s}", u, i, letter(i%20)))
			}
			name := "Intent" + letter(i)
			if _, err := s.storeIntent(ctx, tx, sc, name, d, nil, now); err != nil {
				return err
			}
			bot.Intents = append(bot.Intents, IntentRef{IntentName: name, IntentVersion: "$LATEST"})
		}
		_, _, err := s.storeBot(ctx, tx, sc, "BigBot", bot, nil, true, now)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	w := s.Worker()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		jobs, err := w.dueBuilds(ctx)
		if err != nil || len(jobs) != 1 {
			b.Fatalf("due %v %v", jobs, err)
		}
		if ok, err := w.claimBuild(ctx, jobs[0]); !ok || err != nil {
			b.Fatal("claim", err)
		}
		if err := w.runBuild(ctx, jobs[0]); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		var st, reason string
		db.Read(ctx, func(tx *store.Tx) error {
			r, err := getResource(ctx, tx, sc, kindBot, "BigBot", latest)
			st, reason = r.Status, r.FailureReason
			return err
		})
		if st != statusBasic {
			b.Fatalf("status %s %s", st, reason)
		}
		db.Write(ctx, func(tx *store.Tx) error { // queue the next build
			_, err := tx.Exec(ctx, `UPDATE lex_resources SET status='BUILDING', build_gen=build_gen+1 WHERE kind='bot' AND name='BigBot'`)
			return err
		})
		b.StartTimer()
	}
}
