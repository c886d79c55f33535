package audit

import (
	"flag"
	"fmt"
	"slices"
	"testing"
	"time"

	"lextrail/internal/store"
)

var benchEvents = flag.Int("audit.events", 100_000, "events generated for BenchmarkLookupP99 (target size: 10,000,000)")

// BenchmarkLookupP99 generates N events in SQLite (mixed names, users,
// keys, sources, resources; 1% writes) and reports the p99 latency of a
// 50-item LookupEvents page for each attribute filter and unfiltered.
//
//	go test ./internal/audit -run - -bench LookupP99 -benchtime 1x -audit.events 1000000
func BenchmarkLookupP99(b *testing.B) {
	db := openSQLite(b)
	n := *benchEvents
	base := time.Unix(1767225600, 0)
	gen := time.Now()
	var first *Event
	for done := 0; done < n; {
		batch := make([]*Event, 0, 1000)
		for len(batch) < 1000 && done < n {
			ev := testEvent("111122223333", base.Add(time.Duration(done)*time.Second/10))
			ev.EventName = []string{"GetCallerIdentity", "GetBot", "PutBot", "LookupEvents"}[done%4]
			ev.ReadOnly = done%100 != 0
			ev.Username = fmt.Sprintf("user%d", done%50)
			ev.AccessKeyID = fmt.Sprintf("AKIA%016d", done%200)
			ev.EventSource = []string{"sts.amazonaws.com", "lex.amazonaws.com", "cloudtrail.amazonaws.com"}[done%3]
			ev.Resources[0].ARN = fmt.Sprintf("arn:aws:things:eu-west-1:111122223333:thing/t%d", done%1000)
			if first == nil {
				first = ev
			}
			batch = append(batch, ev)
			done++
		}
		if err := db.Write(bg, func(tx *store.Tx) error { return Insert(bg, db, tx, batch) }); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("generated %d events in %v", n, time.Since(gen))
	cases := []struct{ attr, value string }{
		{"", ""}, {AttrEventID, first.EventID}, {AttrEventName, "PutBot"}, {AttrReadOnly, "false"},
		{AttrUsername, "user7"}, {AttrResourceType, "AWS::Things::Thing"}, {AttrResourceName, "t999"},
		{AttrEventSource, "lex.amazonaws.com"}, {AttrAccessKeyID, fmt.Sprintf("AKIA%016d", 3)},
	}
	b.ResetTimer()
	for range b.N {
		for _, tc := range cases {
			var lat []time.Duration
			for i := 0; i < 100; i++ {
				q := Query{AccountID: "111122223333", Region: "eu-west-1", Attr: tc.attr, Value: tc.value, Limit: 51}
				if i%2 == 1 { // a later page and a time window
					q.After = &Position{TimeMs: base.Add(time.Duration(n/2) * time.Second / 10).UnixMilli(), Seq: int64(n / 2)}
					q.Start = base
				}
				t0 := time.Now()
				if _, err := Lookup(bg, db, q); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			name := tc.attr
			if name == "" {
				name = "none"
			}
			b.ReportMetric(float64(lat[98].Microseconds())/1000, "p99ms_"+name)
		}
	}
}
