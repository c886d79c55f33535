package lexmodels_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	"github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"

	"lextrail/internal/store"
)

// letters turns n into a name made of letters only (Lex names allow no
// digits).
func letters(prefix string, n int) string {
	b := []byte{}
	for {
		b = append(b, byte('a'+n%26))
		n /= 26
		if n == 0 {
			break
		}
	}
	return prefix + string(b)
}

// BenchmarkPutIntent measures audited PutIntent calls through the Go SDK
// over loopback (SQLite), each creating a new intent, one at a time (the
// in-process SDK client's signing and serialization included). Server
// throughput under concurrent clients is measured with
// `go run ./cmd/lextrail-load -op PutIntent`.
func BenchmarkPutIntent(b *testing.B) {
	f := newFixture(b)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		_, err := f.c.PutIntent(f.ctx, &lm.PutIntentInput{Name: aws.String(letters("Intent", i)),
			SampleUtterances: []string{"order some flowers", "I want {Kind}"},
			Slots: []types.Slot{{Name: aws.String("Kind"), SlotConstraint: types.SlotConstraintRequired, SlotType: aws.String("AMAZON.Color"),
				ValueElicitationPrompt: prompt("Which kind?")}},
			FulfillmentActivity: &types.FulfillmentActivity{Type: types.FulfillmentActivityTypeReturnIntent}})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}

// BenchmarkPutIntentParallel is the same with concurrent clients.
func BenchmarkPutIntentParallel(b *testing.B) {
	f := newFixture(b)
	var mu = make(chan int, 1)
	mu <- 0
	next := func() int { n := <-mu; mu <- n + 1; return n }
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, err := f.c.PutIntent(f.ctx, &lm.PutIntentInput{Name: aws.String(letters("Intent", next())),
				SampleUtterances: []string{"order some flowers"}, FulfillmentActivity: &types.FulfillmentActivity{Type: types.FulfillmentActivityTypeReturnIntent}})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}

// BenchmarkGetBotsPage10k lists a page of 50 bots (filtered and not) in
// an account holding 10,000, and reports the p99 latency.
func BenchmarkGetBotsPage10k(b *testing.B) {
	f := newFixture(b)
	now := store.Millis(time.Now())
	err := f.env.Server.DB.Write(f.ctx, func(tx *store.Tx) error {
		for i := 0; i < 10000; i++ {
			name := letters("Bot", i)
			if _, err := tx.Exec(f.ctx, `INSERT INTO lex_resources (account_id, region, kind, name, version, version_num, name_lower, checksum, description, doc, content_hash, status, created_ms, updated_ms)
				VALUES ($1,'us-east-1','bot',$2,'$LATEST',0,lower($2),'ck','', '{"locale":"en-US","idleSessionTTLInSeconds":300}','h','NOT_BUILT',$3,$3)`, f.env.AccountID, name, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	var token *string
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in := &lm.GetBotsInput{MaxResults: aws.Int32(50), NextToken: token}
		if i%2 == 1 {
			in = &lm.GetBotsInput{MaxResults: aws.Int32(50), NameContains: aws.String("zz")}
		}
		t0 := time.Now()
		out, err := f.c.GetBots(f.ctx, in)
		lat = append(lat, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			token = out.NextToken
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

var _ = fmt.Sprint
