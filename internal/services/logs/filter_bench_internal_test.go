package logs

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"lextrail/internal/logs/filter"
)

// BenchmarkFilterBlocks measures the filter engine alone (no database, no
// HTTP, one goroutine): decompressing, decoding and matching 100,000
// conversation-log documents in blocks as PutLogEvents stores them, per
// pattern of BenchmarkFilterLogEventsJSON. ns/event is the figure.
func BenchmarkFilterBlocks(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	bots := []string{"OrderFlowers", "BookTrip", "PizzaOrder", "BankBalance", "HelpDesk"}
	var evs []event
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 100_000 {
		bot := bots[r.IntN(len(bots))]
		missed := r.IntN(10) == 0
		doc := map[string]any{
			"messageVersion": "1.0", "botName": bot, "botAlias": "prod", "botVersion": "3",
			"inputTranscript": []string{"i would like to order flowers", "roses please", "what is the weather", "book a hotel in chicago", "next friday at ten"}[r.IntN(5)],
			"botResponse":     "What day do you want the roses to be picked up?",
			"missedUtterance": missed, "inputDialogMode": "Text", "developerOverride": "false",
			"requestId": fmt.Sprintf("%08x-0c7e-4b0b-9d43-%012x", r.Uint32(), r.Uint64()&0xffffffffffff),
			"userId":    fmt.Sprintf("user-%d", i%50000), "sessionId": fmt.Sprintf("%s-%08x", at.Format("2006-01-02T15:04:05.000Z"), r.Uint32()),
			"dialogState": "ElicitSlot", "locale": "en-US", "timestamp": at.Format("2006-01-02T15:04:05.000Z"),
			"sessionAttributes": map[string]string{"channel": "web"},
		}
		if !missed {
			doc["intent"] = bot
			doc["nluIntentConfidence"] = float64(r.IntN(100)) / 100
			doc["slots"] = map[string]any{"FlowerType": "roses", "PickupDate": nil, "PickupTime": nil}
			doc["slotToElicit"] = "PickupDate"
			doc["alternativeIntents"] = []any{map[string]any{"name": "AMAZON.FallbackIntent", "nluIntentConfidence": 0.0, "slots": map[string]any{}}}
		}
		msg, _ := json.Marshal(doc)
		evs = append(evs, event{ts: at.UnixMilli() + int64(i), msg: msg})
	}
	type stored struct {
		meta blockMeta
		data []byte
	}
	var blocks []stored
	for _, batch := range splitEvents(evs) {
		raw := encodeBlock(batch, batch[0].ts)
		data, s2 := compressBlock(raw)
		m := blockMeta{streamID: 1, minTS: batch[0].ts, maxTS: batch[len(batch)-1].ts, events: int64(len(batch))}
		if s2 {
			m.flags |= flagS2
		}
		blocks = append(blocks, stored{m, data})
	}
	for _, c := range []struct{ name, pattern string }{
		{"missed", `{ $.botName = "OrderFlowers" && $.missedUtterance IS TRUE }`},
		{"rare", `{ $.userId = "user-4242" && $.missedUtterance IS TRUE }`},
		{"range", `{ $.nluIntentConfidence > 0.985 }`},
	} {
		p, err := filter.Parse(c.pattern)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			sc := &scan{lo: 0, hi: math.MaxInt64 - 1, pattern: p}
			kept := 0
			for b.Loop() {
				kept = 0
				for _, bl := range blocks {
					out, err := filterBlock(sc, bl.meta, bl.data)
					if err != nil {
						b.Fatal(err)
					}
					kept += len(out)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
			b.ReportMetric(float64(kept), "matched")
		})
	}
}
