package logs_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"lextrail/internal/services/logs"
)

var benchBots = []string{"OrderFlowers", "BookTrip", "PizzaOrder", "BankBalance", "HelpDesk"}

// benchDoc is a conversation-log turn shaped like spec §4.1 (~650 bytes):
// 10% missed utterances, five bots.
func benchDoc(r *rand.Rand, i int, at time.Time) string {
	bot := benchBots[r.IntN(len(benchBots))]
	missed := r.IntN(10) == 0
	doc := map[string]any{
		"messageVersion": "1.0", "botName": bot, "botAlias": "prod", "botVersion": "3",
		"inputTranscript": []string{"i would like to order flowers", "roses please", "what is the weather", "book a hotel in chicago", "next friday at ten"}[r.IntN(5)],
		"botResponse":     "What day do you want the roses to be picked up?",
		"missedUtterance": missed, "inputDialogMode": "Text", "developerOverride": "false",
		"requestId": fmt.Sprintf("%08x-0c7e-4b0b-9d43-%012x", r.Uint32(), r.Uint64()&0xffffffffffff),
		"userId":    fmt.Sprintf("user-%d", i%50000), "sessionId": fmt.Sprintf("%s-%08x", at.Format("2006-01-02T15:04:05.000Z"), r.Uint32()),
		"dialogState": "ElicitSlot", "locale": "en-US", "timestamp": at.UTC().Format("2006-01-02T15:04:05.000Z"),
		"sessionAttributes": map[string]string{"channel": "web"},
	}
	if !missed {
		doc["intent"] = bot
		doc["nluIntentConfidence"] = float64(r.IntN(100)) / 100
		doc["slots"] = map[string]any{"FlowerType": "roses", "PickupDate": nil, "PickupTime": nil}
		doc["slotToElicit"] = "PickupDate"
		doc["alternativeIntents"] = []any{map[string]any{"name": "AMAZON.FallbackIntent", "nluIntentConfidence": 0.0, "slots": map[string]any{}}}
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// BenchmarkPutLogEvents measures ingest over HTTP with the Go SDK:
// PutLogEvents batches of 1,000 conversation-log documents (events/s is
// the figure; the target is at least 50,000). The parallel variant puts
// to 4 streams at once.
func BenchmarkPutLogEvents(b *testing.B) {
	for _, par := range []int{1, 4} {
		b.Run(fmt.Sprintf("streams=%d", par), func(b *testing.B) {
			f := newFixture(b)
			f.group("bench")
			r := rand.New(rand.NewPCG(1, 2))
			// Pre-build a few batches (document generation is not what is measured).
			const batch = 1000
			var docs [][]string
			for k := 0; k < 8; k++ {
				var d []string
				for i := 0; i < batch; i++ {
					d = append(d, benchDoc(r, k*batch+i, f.now))
				}
				docs = append(docs, d)
			}
			for s := 0; s < par; s++ {
				f.stream("bench", fmt.Sprintf("s%d", s))
			}
			start := f.now.Add(-13 * 24 * time.Hour)
			var mu sync.Mutex
			next := 0
			var bytes int64
			for _, d := range docs[0] {
				bytes += int64(len(d))
			}
			b.SetBytes(bytes)
			b.ResetTimer()
			cpu0 := cpuTime()
			var wg sync.WaitGroup
			for s := 0; s < par; s++ {
				wg.Add(1)
				go func(s int) {
					defer wg.Done()
					evs := make([]types.InputLogEvent, batch)
					for {
						mu.Lock()
						n := next
						next++
						mu.Unlock()
						if n >= b.N {
							return
						}
						base := start.Add(time.Duration(n) * batch * time.Millisecond)
						for i := range evs {
							evs[i] = types.InputLogEvent{Timestamp: aws.Int64(base.Add(time.Duration(i) * time.Millisecond).UnixMilli()), Message: aws.String(docs[n%len(docs)][i])}
						}
						if _, err := f.c.PutLogEvents(f.ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("bench"), LogStreamName: aws.String(fmt.Sprintf("s%d", s)), LogEvents: evs}); err != nil {
							b.Error(err)
							return
						}
					}
				}(s)
			}
			wg.Wait()
			reportCPU(b, cpu0, b.N*batch)
		})
	}
}

// millionEvents loads 1,000,000 conversation-log documents over the last
// 10 days into group g (10 streams), through the Go API.
func millionEvents(b *testing.B, f *fixture, g string) {
	b.Helper()
	f.group(g)
	r := rand.New(rand.NewPCG(3, 4))
	const total, per = 1_000_000, 20_000
	start := f.now.Add(-10 * 24 * time.Hour)
	step := 10 * 24 * time.Hour / total
	t0 := time.Now()
	for k := 0; k < total/per; k++ {
		evs := make([]logs.Event, per)
		for i := range evs {
			n := k*per + i
			at := start.Add(time.Duration(n) * step)
			evs[i] = logs.Event{Timestamp: at, Message: benchDoc(r, n, at)}
		}
		if _, err := f.env.Server.Logs.Append(f.ctx, logs.AppendInput{Region: "us-east-1", Group: "arn:aws:logs:us-east-1:123456789012:log-group:" + g,
			Stream: fmt.Sprintf("aws/lex/bots/prod/3/%d", k%10), CreateStream: true, Events: evs}); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("loaded %d events in %v (%d blocks)", total, time.Since(t0).Round(time.Millisecond), f.count(`SELECT COUNT(*) FROM logs_blocks`))
}

// BenchmarkFilterLogEventsJSON measures FilterLogEvents over 1,000,000
// events with JSON patterns, over HTTP with the Go SDK, following
// nextToken to the end (the target is at most 1 s):
//
//   - missed: { $.botName = "OrderFlowers" && $.missedUtterance IS TRUE }
//     (2% of the events match: 2 pages of 10,000);
//   - rare: { $.userId = "user-4242" && $.missedUtterance IS TRUE } (a
//     handful match; one call reads all 1M);
//   - range: { $.nluIntentConfidence > 0.985 } (a number comparison no
//     literal can pre-filter: every event is scanned as JSON).
func BenchmarkFilterLogEventsJSON(b *testing.B) {
	f := newFixture(b)
	millionEvents(b, f, "million")
	for _, c := range []struct{ name, pattern string }{
		{"missed", `{ $.botName = "OrderFlowers" && $.missedUtterance IS TRUE }`},
		{"rare", `{ $.userId = "user-4242" && $.missedUtterance IS TRUE }`},
		{"range", `{ $.nluIntentConfidence > 0.985 }`},
	} {
		b.Run(c.name, func(b *testing.B) {
			matched, calls := 0, 0
			cpu0 := cpuTime()
			for b.Loop() {
				matched, calls = 0, 0
				var tok *string
				for {
					out, err := f.c.FilterLogEvents(f.ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("million"), FilterPattern: aws.String(c.pattern), NextToken: tok})
					if err != nil {
						b.Fatal(err)
					}
					calls++
					matched += len(out.Events)
					if tok = out.NextToken; tok == nil {
						break
					}
				}
			}
			b.ReportMetric(float64(matched), "matched")
			b.ReportMetric(float64(calls), "calls")
			// CPU seconds per scan (client and server), which the
			// machine's other load does not inflate.
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/scan")
		})
	}
}

// BenchmarkAppend measures ingest without HTTP: the Go API conversation-log
// writers use, batches of 1,000 documents into one stream (the server's
// share of PutLogEvents: batch checks, Bloom filter, block encoding, one
// transaction).
func BenchmarkAppend(b *testing.B) {
	f := newFixture(b)
	f.group("bench")
	r := rand.New(rand.NewPCG(5, 6))
	const batch = 1000
	docs := make([]string, batch)
	for i := range docs {
		docs[i] = benchDoc(r, i, f.now)
	}
	start := f.now.Add(-13 * 24 * time.Hour)
	evs := make([]logs.Event, batch)
	b.ResetTimer()
	cpu0 := cpuTime()
	for n := 0; n < b.N; n++ {
		base := start.Add(time.Duration(n) * batch * time.Millisecond)
		for i := range evs {
			evs[i] = logs.Event{Timestamp: base.Add(time.Duration(i) * time.Millisecond), Message: docs[i]}
		}
		if _, err := f.env.Server.Logs.Append(f.ctx, logs.AppendInput{Region: "us-east-1", Group: "arn:aws:logs:us-east-1:123456789012:log-group:bench", Stream: "s", CreateStream: true, Events: evs}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0, b.N*batch)
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports events/s (wall clock, which depends on what else the
// machine runs) and the CPU time per event (which does not), and from it
// the rate two dedicated cores would sustain.
func reportCPU(b *testing.B, cpu0 time.Duration, events int) {
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	per := float64(cpu.Microseconds()) / float64(events)
	b.ReportMetric(per, "cpu-µs/event")
	b.ReportMetric(2e6/per, "events/s@2cpu")
}
