package audit

import (
	"flag"
	"fmt"
	"slices"
	"testing"
	"time"

	"lextrail/internal/catalog"
	"lextrail/internal/store"
)

var (
	benchEvents = flag.Int("audit.events", 100_000, "events generated for BenchmarkLookupP99 (target size: 10,000,000)")
	benchTail   = flag.Int("audit.tail", maxTail, "BenchmarkLookupP99: newest events left unindexed (the tail lookups scan; at most maxTail in a running server)")
)

// BenchmarkLookupP99 generates N events in SQLite (mixed names, users,
// keys, sources, resources; 1% writes) and reports the p99 latency of a
// 50-item LookupEvents page for each attribute filter and unfiltered, half
// of them on a later page with a time window. The default size is small;
// the target is measured with
//
//	go test ./internal/audit -run - -bench LookupP99 -benchtime 1x -audit.events 10000000 -timeout 60m
//
// Measured 2026-12-01 with the posting-list index (migration 0261) on 2
// shared cores, 10M events: insert 48k events/s, index 8m06s; p99 ms:
// none 15.4, EventId 4.3, EventName 6.6, ReadOnly=false 4.7,
// ReadOnly=true 9.0, Username 6.1, ResourceType 13.5, ResourceName 10.7,
// ResourceName by ARN 9.5, EventSource 6.8, AccessKeyId 5.8, absent
// AccessKeyId 4.5 (the floor: the 4,096-event tail scan).
//
// TestLookupGenerated checks the same lookups' answers at a small size.
func BenchmarkLookupP99(b *testing.B) {
	db := openSQLite(b)
	n := *benchEvents
	base, first := genLookupEvents(b, db, n)
	indexTo(b, db, int64(max(n-*benchTail, 0)))
	cases := lookupCases(first)
	b.ResetTimer()
	for range b.N {
		for _, tc := range cases {
			var lat []time.Duration
			for i := 0; i < 100; i++ {
				q := lookupCaseQuery(tc, base, n, i%2 == 1)
				t0 := time.Now()
				if _, err := Lookup(bg, db, q); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[98].Microseconds())/1000, "p99ms_"+tc.name)
		}
	}
}

// TestLookupGenerated runs the benchmark's lookups over a small generated
// history and checks every answer: each row matches the filter, rows are
// newest first and inside the window, and the counts are right. It does
// so with none of the history indexed (every event in the tail), part of
// it and all of it, on both drivers.
func TestLookupGenerated(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *store.DB{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			const n = 4000
			base, first := genLookupEvents(t, db, n)
			indexed := int64(0)
			for _, upto := range []int64{0, n/2 + 7, n} {
				if err := db.Write(bg, func(tx *store.Tx) error {
					if upto == indexed {
						return nil
					}
					k, err := IndexPending(bg, db, tx, upto-indexed)
					indexed += k
					return err
				}); err != nil || indexed != upto {
					t.Fatalf("indexed to %d, want %d: %v", indexed, upto, err)
				}
				checkGenerated(t, db, base, first, n, fmt.Sprintf("indexed to %d", upto))
			}
		})
	}
}

func checkGenerated(t *testing.T, db *store.DB, base time.Time, first *Event, n int, state string) {
	t.Helper()
	for _, tc := range lookupCases(first) {
		for _, window := range []bool{false, true} {
			q := lookupCaseQuery(tc, base, n, window)
			rows, err := Lookup(bg, db, q)
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			for i := 0; i < n && want < q.Limit; i++ {
				j := n - 1 - i // newest first
				if window && (j+1 >= n/2 || j < 0) {
					continue
				}
				if genMatches(j, tc.attr, tc.value, first) {
					want++
				}
			}
			if len(rows) != want {
				t.Errorf("%s: %s window=%v: %d rows, want %d", state, tc.name, window, len(rows), want)
			}
			for k, r := range rows {
				if k > 0 && (r.TimeMs > rows[k-1].TimeMs || (r.TimeMs == rows[k-1].TimeMs && r.Seq >= rows[k-1].Seq)) {
					t.Fatalf("%s: %s: rows out of order at %d", state, tc.name, k)
				}
				if window && (r.Seq >= int64(n/2) || r.TimeMs < base.UnixMilli()) {
					t.Fatalf("%s: %s: row seq %d outside the window", state, tc.name, r.Seq)
				}
				if !genMatches(int(r.Seq-1), tc.attr, tc.value, first) {
					t.Fatalf("%s: %s: row seq %d does not match %s=%s", state, tc.name, r.Seq, tc.attr, tc.value)
				}
			}
		}
	}
}

type lookupCase struct{ name, attr, value string }

func lookupCases(first *Event) []lookupCase {
	return []lookupCase{
		{"none", "", ""}, {"EventId", AttrEventID, first.EventID}, {"EventName", AttrEventName, "PutBot"},
		{"ReadOnly", AttrReadOnly, "false"}, {"ReadOnlyTrue", AttrReadOnly, "true"},
		{"Username", AttrUsername, "user7"}, {"ResourceType", AttrResourceType, "AWS::Things::Thing"},
		{"ResourceName", AttrResourceName, "t999"}, {"ResourceARN", AttrResourceName, "arn:aws:things:eu-west-1:111122223333:thing/t998"},
		{"EventSource", AttrEventSource, "lex.amazonaws.com"}, {"AccessKeyId", AttrAccessKeyID, fmt.Sprintf("AKIA%016d", 3)},
		{"AccessKeyIdAbsent", AttrAccessKeyID, "AKIA0000000000009999"},
	}
}

// lookupCaseQuery is a first page, or (window) the page after the middle
// event with a start time.
func lookupCaseQuery(tc lookupCase, base time.Time, n int, window bool) Query {
	q := Query{AccountID: "111122223333", Region: "eu-west-1", Attr: tc.attr, Value: tc.value, Limit: 51}
	if window {
		q.After = &Position{TimeMs: genTime(base, n/2-1).UnixMilli(), Seq: int64(n / 2)}
		q.Start = base
	}
	return q
}

func genTime(base time.Time, i int) time.Time {
	return base.Add(time.Duration(i) * time.Second / 10).Truncate(time.Second)
}

var (
	genNames   = []string{"GetCallerIdentity", "GetBot", "PutBot", "LookupEvents"}
	genSources = []string{"sts.amazonaws.com", "lex.amazonaws.com", "cloudtrail.amazonaws.com"}
)

// genMatches reports whether generated event i (sequence i+1) matches.
func genMatches(i int, attr, value string, first *Event) bool {
	switch attr {
	case "":
		return true
	case AttrEventID:
		return i == 0 && value == first.EventID
	case AttrEventName:
		return genNames[i%4] == value
	case AttrReadOnly:
		return readOnlyValue(i%100 != 0) == value
	case AttrUsername:
		return fmt.Sprintf("user%d", i%50) == value
	case AttrAccessKeyID:
		return fmt.Sprintf("AKIA%016d", i%200) == value
	case AttrEventSource:
		return genSources[i%3] == value
	case AttrResourceType:
		return value == first.Resources[0].Type
	case AttrResourceName:
		arn := fmt.Sprintf("arn:aws:things:eu-west-1:111122223333:thing/t%d", i%1000)
		return value == arn || value == ResourceName(arn)
	}
	return false
}

// genLookupEvents inserts n events (sequence i+1 for event i, ten per
// second from base) and returns base and the first event. It loads like a
// bulk import: through Insert's batched statement, without inline
// indexing; the caller indexes what it wants (indexTo).
func genLookupEvents(tb testing.TB, db *store.DB, n int) (time.Time, *Event) {
	base := time.Unix(1767225600, 0)
	gen := time.Now()
	inlineIndexing = false
	defer func() { inlineIndexing = true }()
	tmpl := testEvent("111122223333", base)
	var first *Event
	evs := make([]Event, 5000)
	batch := make([]*Event, 0, len(evs))
	for done := 0; done < n; {
		batch = batch[:0]
		for len(batch) < len(evs) && done < n {
			ev := &evs[len(batch)]
			*ev = *tmpl
			ev.EventID = newEventID()
			ev.TimeMs = genTime(base, done).UnixMilli()
			ev.EventName = genNames[done%4]
			ev.ReadOnly = done%100 != 0
			ev.Username = fmt.Sprintf("user%d", done%50)
			ev.AccessKeyID = fmt.Sprintf("AKIA%016d", done%200)
			ev.EventSource = genSources[done%3]
			ev.Resources = []catalog.Resource{{ARN: fmt.Sprintf("arn:aws:things:eu-west-1:111122223333:thing/t%d", done%1000), Type: tmpl.Resources[0].Type}}
			if first == nil {
				c := *ev
				first = &c
			}
			batch = append(batch, ev)
			done++
		}
		if err := db.Write(bg, func(tx *store.Tx) error { return Insert(bg, db, tx, batch) }); err != nil {
			tb.Fatal(err)
		}
	}
	tb.Logf("inserted %d events in %v (%.0f/s)", n, time.Since(gen), float64(n)/time.Since(gen).Seconds())
	return base, first
}

// indexTo indexes the history up to sequence upto, 100,000 events per
// transaction.
func indexTo(tb testing.TB, db *store.DB, upto int64) {
	start := time.Now()
	var from int64
	db.Read(bg, func(tx *store.Tx) error {
		return tx.QueryRow(bg, `SELECT upto FROM audit_index_state WHERE id = 1`).Scan(&from)
	})
	for from < upto {
		var n int64
		if err := db.Write(bg, func(tx *store.Tx) error {
			var err error
			n, err = IndexPending(bg, db, tx, min(100_000, upto-from))
			return err
		}); err != nil {
			tb.Fatal(err)
		}
		if n == 0 {
			tb.Fatalf("indexing stopped at %d of %d", from, upto)
		}
		from += n
	}
	tb.Logf("indexed to %d in %v", upto, time.Since(start))
}
