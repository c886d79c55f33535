package audit

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lextrail/internal/store"
	"lextrail/internal/store/pgtest"
)

// twoNodes opens the same database twice: two lextrail nodes (on SQLite,
// two handles on one file).
func twoNodes(t *testing.T, driver string) (*store.DB, *store.DB) {
	url := ""
	if driver == "postgres" {
		url = pgtest.Start(t)
	} else {
		url = "sqlite://" + t.TempDir() + "/audit.db"
	}
	var dbs [2]*store.DB
	for i := range dbs {
		db, err := store.Open(bg, store.Config{URL: url, MaxReadConns: 32})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	return dbs[0], dbs[1]
}

// TestLookupFindsEventAtOnce: writers on two nodes each commit events
// with a username of their own and look each one up by it right after the
// commit, while both nodes' indexers run in small batches: every lookup
// finds its event exactly once, whether it was indexed yet or not. At the
// end the index covers the whole counter with each entry once.
func TestLookupFindsEventAtOnce(t *testing.T) {
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			a, b := twoNodes(t, driver)
			const writers, perWriter = 8, 25
			var wg sync.WaitGroup
			var done atomic.Bool
			var indexed [2]atomic.Int64
			for i, db := range []*store.DB{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for !done.Load() {
						err := db.Write(bg, func(tx *store.Tx) error {
							n, err := IndexPending(bg, db, tx, 7)
							indexed[i].Add(n)
							return err
						})
						if err != nil {
							t.Error(err)
							return
						}
						time.Sleep(time.Millisecond)
					}
				}()
			}
			var writing sync.WaitGroup
			for w := 0; w < writers; w++ {
				db := []*store.DB{a, b}[w%2]
				writing.Add(1)
				go func() {
					defer writing.Done()
					for i := 0; i < perWriter; i++ {
						ev := testEvent("111122223333", time.Unix(1767225600, 0).Add(time.Duration(i)*time.Second))
						ev.Username = fmt.Sprintf("w%d-%d", w, i)
						if err := db.Write(bg, func(tx *store.Tx) error { return Insert(bg, db, tx, []*Event{ev}) }); err != nil {
							t.Error(err)
							return
						}
						other := []*store.DB{b, a}[w%2] // the other node looks it up
						rows, err := Lookup(bg, other, Query{AccountID: "111122223333", Region: "eu-west-1", Attr: AttrUsername, Value: ev.Username, Limit: 5})
						if err != nil {
							t.Error(err)
							return
						}
						if len(rows) != 1 || rows[0].EventID != ev.EventID {
							t.Errorf("lookup of %s right after its commit: %d rows", ev.Username, len(rows))
						}
					}
				}()
			}
			writing.Wait()
			done.Store(true)
			wg.Wait()
			if err := a.Write(bg, func(tx *store.Tx) error { _, err := IndexPending(bg, a, tx, 0); return err }); err != nil {
				t.Fatal(err)
			}
			var entries, distinct, upto, counter int64
			a.Read(bg, func(tx *store.Tx) error {
				tx.QueryRow(bg, `SELECT upto FROM audit_index_state`).Scan(&upto)
				var err error
				counter, err = Horizon(bg, tx)
				return err
			})
			seen := map[int64]bool{}
			for _, e := range indexEntries(t, a)["u"] {
				entries++
				seen[e.seq] = true
			}
			distinct = int64(len(seen))
			if entries != writers*perWriter || distinct != entries || upto != counter || counter != writers*perWriter {
				t.Errorf("username entries %d (%d events), upto %d, counter %d; want %d each", entries, distinct, upto, counter, writers*perWriter)
			}
			t.Logf("indexed by the two nodes' indexers while writing: %d, %d", indexed[0].Load(), indexed[1].Load())
		})
	}
}

// TestPagingWhileIndexing: paging through a history 7 events at a time
// while the index advances by 13 between pages (so pages straddle the
// index's end and the tail moves under them) and newer events keep
// arriving: every event once, newest first.
func TestPagingWhileIndexing(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *store.DB{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			base := time.Unix(1767225600, 0)
			const n = 300
			for i := 0; i < n; i += 10 {
				var evs []*Event
				for j := i; j < i+10; j++ {
					evs = append(evs, testEvent("111122223333", base.Add(time.Duration(j/3)*time.Second)))
				}
				if err := db.Write(bg, func(tx *store.Tx) error { return Insert(bg, db, tx, evs) }); err != nil {
					t.Fatal(err)
				}
			}
			for _, attr := range []string{"", AttrEventName, AttrResourceName} {
				q := Query{AccountID: "111122223333", Region: "eu-west-1", Limit: 7, End: base.Add(n * time.Second)}
				if attr != "" {
					q.Attr, q.Value = attr, map[string]string{AttrEventName: "CreateThing", AttrResourceName: "t"}[attr]
				}
				var got []int64
				for page := 0; ; page++ {
					rows, err := Lookup(bg, db, q)
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range rows {
						got = append(got, r.Seq)
					}
					if len(rows) < q.Limit {
						break
					}
					p := rows[len(rows)-1].Position()
					q.After = &p
					err = db.Write(bg, func(tx *store.Tx) error {
						if _, err := IndexPending(bg, db, tx, 13); err != nil {
							return err
						}
						if page%5 == 0 { // a newer event, outside the window
							return Insert(bg, db, tx, []*Event{testEvent("111122223333", base.Add(2*n*time.Second))})
						}
						return nil
					})
					if err != nil {
						t.Fatal(err)
					}
				}
				if len(got) != n {
					t.Fatalf("%q: paged %d events, want %d", attr, len(got), n)
				}
				for i := range got {
					if got[i] != int64(n-i) {
						t.Fatalf("%q: event %d of the pages is seq %d, want %d", attr, i, got[i], n-i)
					}
				}
			}
		})
	}
}

// TestRecorderIndexes: the Recorder's indexer indexes what it committed
// (after IndexDelay, or at once when IndexBatch events gathered), and
// finds by polling what another writer committed without telling it.
func TestRecorderIndexes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		count int
	}{
		{"delay", Config{IndexDelay: 20 * time.Millisecond, IndexPoll: time.Hour}, 10},
		{"batch full", Config{IndexDelay: time.Hour, IndexBatch: 8, IndexPoll: time.Hour}, 8},
		{"poll", Config{IndexDelay: time.Hour, IndexPoll: 20 * time.Millisecond}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openSQLite(t)
			cfg := tc.cfg
			cfg.DB = db
			r := New(cfg)
			defer r.Close()
			for i := 0; i < tc.count; i++ {
				if err := r.Record(bg, testEvent("111122223333", time.Now())); err != nil {
					t.Fatal(err)
				}
			}
			if tc.count == 0 { // written behind the Recorder's back
				if err := db.Write(bg, func(tx *store.Tx) error { return Insert(bg, db, tx, []*Event{testEvent("111122223333", time.Now())}) }); err != nil {
					t.Fatal(err)
				}
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				n, err := Pending(bg, db)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d events still unindexed", n)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}
