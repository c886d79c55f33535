package audit

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"testing"
	"time"

	"lextrail/internal/catalog"
	"lextrail/internal/store"
)

// indexEntries reads the whole lookup index: every posting row's entries
// by attribute code, checking each row's n, min_t, max_t, max_seq and
// time window against its list, and the event IDs under code "i" (time 0).
func indexEntries(tb testing.TB, db *store.DB) map[string][]entry {
	tb.Helper()
	m := map[string][]entry{}
	err := db.Read(bg, func(tx *store.Tx) error {
		rs, err := tx.Query(bg, `SELECT attr, value, max_t, max_seq, list, arns FROM event_postings`)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var attr, value, list, arns string
			var maxT, maxSeq int64
			if err := rs.Scan(&attr, &value, &maxT, &maxSeq, &list, &arns); err != nil {
				return err
			}
			var es []entry
			var tags []int
			if err := decodeList(list, maxT, maxSeq, arns != "", func(e entry, tag int) bool { es = append(es, e); tags = append(tags, tag); return true }); err != nil {
				return err
			}
			var arnList []string
			if arns != "" {
				if err := json.Unmarshal([]byte(arns), &arnList); err != nil {
					return err
				}
			}
			for i, tag := range tags {
				if tag < 0 || tag > len(arnList) || (tag > 0 && ResourceName(arnList[tag-1]) != value) {
					tb.Errorf("posting %s=%s: entry %v tagged %d of %v", attr, value, es[i], tag, arnList)
				}
			}
			lo, hi, hs := int64(math.MaxInt64), int64(math.MinInt64), int64(math.MinInt64)
			for i, e := range es {
				lo, hi, hs = min(lo, e.t), max(hi, e.t), max(hs, e.seq)
				if i > 0 && (e.seq > es[i-1].seq || (e.seq == es[i-1].seq && tags[i] == tags[i-1])) {
					tb.Errorf("posting %s=%s: entries not in descending sequence order", attr, value)
				}
			}
			if hi != maxT || hs != maxSeq || bucketOf(lo) != bucketOf(hi) {
				tb.Errorf("posting %s=%s (max_t %d, max_seq %d) lists %v", attr, value, maxT, maxSeq, es)
			}
			m[attr] = append(m[attr], es...)
		}
		if err := rs.Err(); err != nil {
			return err
		}
		ids, err := tx.Query(bg, `SELECT seq FROM event_ids`)
		if err != nil {
			return err
		}
		defer ids.Close()
		for ids.Next() {
			var seq int64
			if err := ids.Scan(&seq); err != nil {
				return err
			}
			m["i"] = append(m["i"], entry{seq: seq})
		}
		return ids.Err()
	})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func countEntries(m map[string][]entry) int {
	n := 0
	for _, es := range m {
		n += len(es)
	}
	return n
}

// TestPostingList: lists round-trip for sequences and times of every
// shape (gaps, equal and decreasing times, negative times, large values).
func TestPostingList(t *testing.T) {
	for _, es := range [][]taggedEntry{
		{{entry{1000, 1}, 0}},
		{{entry{0, 1}, 0}, {entry{0, 2}, 0}, {entry{0, 3}, 0}},
		{{entry{5000, 10}, 1}, {entry{4000, 11}, 2}, {entry{9000, 500}, 1}, {entry{9000, 501}, 40}},
		{{entry{-7000, 3}, 0}, {entry{-12000, 9}, 0}},
		{{entry{1 << 50, 1 << 40}, 3}, {entry{1<<50 + 999, 1<<40 + 1<<33}, 1}},
	} {
		for _, tagged := range []bool{false, true} {
			maxT, maxSeq := int64(math.MinInt64), es[len(es)-1].seq
			want := slices.Clone(es)
			for i, e := range es {
				maxT = max(maxT, e.t)
				if !tagged {
					want[i].tag = 0
				}
			}
			list := string(appendList(nil, es, maxT, maxSeq, tagged))
			var got []taggedEntry
			if err := decodeList(list, maxT, maxSeq, tagged, func(e entry, tag int) bool { got = append(got, taggedEntry{e, tag}); return true }); err != nil {
				t.Fatal(err)
			}
			slices.Reverse(got)
			if !slices.Equal(got, want) {
				t.Errorf("%v (tagged %v): list %q decodes to %v", es, tagged, list, got)
			}
		}
	}
	for _, bad := range []string{"A", "g", "AA!", "__________________"} {
		if err := decodeList(bad, 0, 10, false, func(entry, int) bool { return true }); err == nil {
			t.Errorf("list %q decoded", bad)
		}
	}
	var got []entry
	decodeList("", 7000, 3, false, func(e entry, _ int) bool { got = append(got, e); return true })
	if !slices.Equal(got, []entry{{7000, 3}}) {
		t.Errorf("empty list: %v", got)
	}
}

// TestPostingRows: a batch of events with repeating and distinct values
// becomes one posting row per (scope, attribute, value, time window):
// the repeating values cost a row per batch, not per event.
func TestPostingRows(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *store.DB{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			var evs []*Event
			for i := 0; i < 100; i++ { // 25 s: three 10 s windows
				ev := testEvent("111122223333", genTime(time.Unix(1767225600, 0), i*3))
				ev.Username = fmt.Sprintf("u%d", i%2)
				evs = append(evs, ev)
			}
			if err := db.Write(bg, func(tx *store.Tx) error { return Insert(bg, db, tx, evs) }); err != nil {
				t.Fatal(err)
			}
			if err := db.Write(bg, func(tx *store.Tx) error { _, err := IndexPending(bg, db, tx, 0); return err }); err != nil {
				t.Fatal(err)
			}
			var rows map[string]int
			err := db.Read(bg, func(tx *store.Tx) error {
				rows = map[string]int{}
				rs, err := tx.Query(bg, `SELECT attr, COUNT(*) FROM event_postings GROUP BY attr`)
				if err != nil {
					return err
				}
				defer rs.Close()
				for rs.Next() {
					var a string
					var n int
					if err := rs.Scan(&a, &n); err != nil {
						return err
					}
					rows[a] = n
				}
				return rs.Err()
			})
			if err != nil {
				t.Fatal(err)
			}
			// n, r, s, k, t, m (the name, its ARN's entries tagged in the
			// same rows): one value each; u: two.
			want := map[string]int{"n": 3, "r": 3, "s": 3, "k": 3, "t": 3, "m": 3, "u": 6}
			if !maps.Equal(rows, want) {
				t.Errorf("posting rows per attribute %v, want %v", rows, want)
			}
			m := indexEntries(t, db)
			if got := countEntries(m); got != 100*8 {
				t.Errorf("%d entries, want %d", got, 100*8)
			}
		})
	}
}

// TestPurgePartialPostings (both drivers): events indexed in one batch
// share posting rows; a purge that deletes the older half of them leaves
// the rows (they list retained events too) and no lookup returns a purged
// event, by any attribute; purging the rest deletes the rows.
func TestPurgePartialPostings(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *store.DB{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			base := time.Unix(1767225600, 0) // a 10 s window starts here
			var evs []*Event
			for i := 0; i < 30; i++ {
				evs = append(evs, testEvent("111122223333", base.Add(time.Duration(i/3)*time.Second)))
			}
			if err := db.Write(bg, func(tx *store.Tx) error { return Insert(bg, db, tx, evs) }); err != nil {
				t.Fatal(err)
			}
			if err := db.Write(bg, func(tx *store.Tx) error { _, err := IndexPending(bg, db, tx, 0); return err }); err != nil {
				t.Fatal(err)
			}
			rowCount := func() (n int) {
				db.Read(bg, func(tx *store.Tx) error { return tx.QueryRow(bg, `SELECT COUNT(*) FROM event_postings`).Scan(&n) })
				return
			}
			if n := rowCount(); n != 7 { // n, r, u, s, k, t, m
				t.Fatalf("%d posting rows, want 7", n)
			}
			now := base.Add(5*time.Second + 12*time.Hour) // events before base+5s expire: 15
			p := NewPurger(RetentionConfig{DB: db, Retention: 12 * time.Hour, BatchSize: 4, Now: func() time.Time { return now }})
			if n, err := p.PurgeOnce(bg); err != nil || n != 15 {
				t.Fatalf("purged %d, %v; want 15", n, err)
			}
			if n := rowCount(); n != 7 {
				t.Errorf("%d posting rows after purging half, want 7", n)
			}
			cases := []struct{ attr, value string }{{"", ""}, {AttrEventName, "CreateThing"}, {AttrReadOnly, "false"}, {AttrUsername, "root"},
				{AttrEventSource, evs[0].EventSource}, {AttrAccessKeyID, evs[0].AccessKeyID}, {AttrResourceType, evs[0].Resources[0].Type},
				{AttrResourceName, "t"}, {AttrResourceName, evs[0].Resources[0].ARN}}
			for _, tc := range cases {
				for _, window := range []bool{false, true} {
					q := Query{AccountID: "111122223333", Region: "eu-west-1", Attr: tc.attr, Value: tc.value, Limit: 50}
					want := 15
					if window { // the page after seq 20, from base+4s: seqs 19..16
						q.After, q.Start, want = &Position{TimeMs: base.Add(6 * time.Second).UnixMilli(), Seq: 20}, base.Add(4*time.Second), 4
					}
					rows, err := Lookup(bg, db, q)
					if err != nil {
						t.Fatal(err)
					}
					if len(rows) != want {
						t.Errorf("%s=%s window %v: %d rows, want %d", tc.attr, tc.value, window, len(rows), want)
					}
					for _, r := range rows {
						if r.Seq <= 15 {
							t.Errorf("%s=%s: purged event %d returned", tc.attr, tc.value, r.Seq)
						}
					}
				}
			}
			for i, ev := range []*Event{evs[14], evs[15]} {
				rows, err := Lookup(bg, db, Query{AccountID: "111122223333", Region: "eu-west-1", Attr: AttrEventID, Value: ev.EventID, Limit: 50})
				if err != nil || len(rows) != i {
					t.Errorf("EventId of seq %d: %d rows, %v; want %d", ev.Seq, len(rows), err, i)
				}
			}
			if got := len(indexEntries(t, db)["i"]); got != 15 {
				t.Errorf("%d event IDs left, want 15", got)
			}
			now = now.Add(time.Hour)
			if n, err := p.PurgeOnce(bg); err != nil || n != 15 {
				t.Fatalf("purged %d, %v; want 15", n, err)
			}
			if n := rowCount(); n != 0 {
				t.Errorf("%d posting rows after purging everything", n)
			}
		})
	}
}

// TestIndexFromMemo (both drivers): the index built from a Recorder's
// memo of the events it committed is the one built from the events
// table, row for row; a batch with a number the memo lacks (an event
// written behind its back) is read from the table.
func TestIndexFromMemo(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *store.DB{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) {
			dbs := [2]*store.DB{open(t), open(t)}
			var memo eventMemo
			hits := memoHits.Load()
			base := time.Unix(1767225600, 0)
			data := Build(call(fakeService(false), "PutThingData", principals()["root"]), &createThingInput{ThingName: "t"}, nil, nil, base)
			for round := 0; round < 3; round++ {
				var evs []*Event
				for i := 0; i < 20; i++ {
					ev := testEvent([]string{"111122223333", "444455556666"}[i%2], base.Add(time.Duration(round*20+i)*time.Second))
					ev.Username = fmt.Sprintf("u%d", i%3)
					ev.Resources = append(ev.Resources, catalog.Resource{ARN: fmt.Sprintf("arn:aws:things:eu-west-1:1:thing/x%d", i), Type: "AWS::Things::Thing"})
					evs = append(evs, ev)
				}
				d := *data
				evs = append(evs, &d)
				for k, db := range dbs {
					cp := make([]*Event, len(evs))
					for i, ev := range evs {
						c := *ev
						cp[i] = &c
					}
					if err := db.Write(bg, func(tx *store.Tx) error { return Insert(bg, db, tx, cp) }); err != nil {
						t.Fatal(err)
					}
					if k == 0 && round != 1 { // round 1 is written behind the memo's back
						memo.add(cp)
					}
				}
				for k, db := range dbs {
					m := &memo
					if k == 1 {
						m = nil
					}
					if err := db.Write(bg, func(tx *store.Tx) error { _, err := indexPending(bg, db, tx, 0, m); return err }); err != nil {
						t.Fatal(err)
					}
				}
				if memo.size() != 0 {
					t.Errorf("round %d: the memo kept %d events", round, memo.size())
				}
			}
			var rows [2][]string
			for k, db := range dbs {
				db.Read(bg, func(tx *store.Tx) error {
					rs, err := tx.Query(bg, `SELECT scope, attr, value, max_t, max_seq, list FROM event_postings ORDER BY scope, attr, value, max_t, max_seq`)
					if err != nil {
						t.Fatal(err)
					}
					defer rs.Close()
					for rs.Next() {
						var a, v, l string
						var sc, mt, ms int64
						rs.Scan(&sc, &a, &v, &mt, &ms, &l)
						rows[k] = append(rows[k], fmt.Sprint(sc, a, v, mt, ms, l))
					}
					return rs.Err()
				})
			}
			if !slices.Equal(rows[0], rows[1]) || len(rows[0]) == 0 {
				t.Errorf("posting rows from the memo %v\nfrom the table %v", rows[0], rows[1])
			}
			if a, b := indexEntries(t, dbs[0]), indexEntries(t, dbs[1]); len(a["i"]) != 60 || len(b["i"]) != 60 {
				t.Errorf("event IDs: %d from the memo, %d from the table; want 60", len(a["i"]), len(b["i"]))
			}
			if n := memoHits.Load() - hits; n != 2 {
				t.Errorf("%d batches indexed from the memo, want 2", n)
			}
			// A gap: the memo does not answer.
			memo.add([]*Event{{Seq: 100, Category: CategoryManagement}, {Seq: 102, Category: CategoryManagement}})
			if _, ok := memo.take(99, 102); ok {
				t.Error("the memo answered for a range it lacks a number of")
			}
			// Out of order, and the window sliding along.
			for from := int64(102); from < 3*memoMax; from += memoMax / 3 {
				var evs []*Event
				for s := from + memoMax/3; s > from; s-- {
					evs = append(evs, &Event{Seq: s, Category: CategoryManagement, EventID: fmt.Sprint(s)})
				}
				memo.add(evs[:len(evs)/2])
				memo.add(evs[len(evs)/2:])
				got, ok := memo.take(from, from+memoMax/3)
				if !ok || len(got) != memoMax/3 || got[0].seq != from+1 || got[len(got)-1].id != fmt.Sprint(from+memoMax/3) || memo.size() != 0 {
					t.Fatalf("from %d: ok %v, %d events, memo keeps %d", from, ok, len(got), memo.size())
				}
			}
		})
	}
}

// TestLookupSharedShortName (both drivers): resources whose ARNs share a
// short name share its posting rows, tagged: a lookup by ARN finds only
// the events with that ARN, by the short name all of them; before and
// after indexing.
func TestLookupSharedShortName(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *store.DB{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			user := catalog.Resource{ARN: "arn:aws:iam::111122223333:user/x", Type: "AWS::IAM::User"}
			role := catalog.Resource{ARN: "arn:aws:iam::111122223333:role/x", Type: "AWS::IAM::Role"}
			bare := catalog.Resource{ARN: "x", Type: "AWS::Things::Bare"}
			var evs []*Event
			for i, res := range [][]catalog.Resource{{user}, {role}, {user, role}, {bare}, {role, user}, {user}} {
				ev := testEvent("111122223333", time.Unix(1767225600, 0).Add(time.Duration(i)*time.Second))
				ev.Resources = res
				evs = append(evs, ev)
			}
			if err := db.Write(bg, func(tx *store.Tx) error { return Insert(bg, db, tx, evs) }); err != nil {
				t.Fatal(err)
			}
			for _, state := range []string{"unindexed", "indexed"} {
				if state == "indexed" {
					if err := db.Write(bg, func(tx *store.Tx) error { _, err := IndexPending(bg, db, tx, 0); return err }); err != nil {
						t.Fatal(err)
					}
				}
				for _, tc := range []struct {
					value string
					want  []int64
				}{
					{user.ARN, []int64{6, 5, 3, 1}}, {role.ARN, []int64{5, 3, 2}}, {"x", []int64{6, 5, 4, 3, 2, 1}},
					{"arn:aws:iam::111122223333:group/x", nil}, {"y", nil},
				} {
					rows, err := Lookup(bg, db, Query{AccountID: "111122223333", Region: "eu-west-1", Attr: AttrResourceName, Value: tc.value, Limit: 50})
					if err != nil {
						t.Fatal(err)
					}
					var got []int64
					for _, r := range rows {
						got = append(got, r.Seq)
					}
					if !slices.Equal(got, tc.want) {
						t.Errorf("%s: ResourceName %s: %v, want %v", state, tc.value, got, tc.want)
					}
				}
			}
		})
	}
}
