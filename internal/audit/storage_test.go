package audit

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lextrail/internal/catalog"
	"lextrail/internal/store"
	"lextrail/internal/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var bg = context.Background()

func openSQLite(t testing.TB) *store.DB {
	db, err := store.Open(bg, store.Config{URL: filepath.Join(t.TempDir(), "audit.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openPostgres(t testing.TB) *store.DB {
	url := pgtest.Start(t)
	db, err := store.Open(bg, store.Config{URL: url, MaxReadConns: 32})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func testEvent(acct string, at time.Time) *Event {
	ev := Build(call(fakeService(false), "CreateThing", principals()["root"]), &createThingInput{ThingName: "t"}, nil, nil, at)
	ev.AccountID = acct
	return ev
}

// TestSequenceIsCommitOrder (PostgreSQL): many concurrent writers, each
// taking its sequence number in its own transaction and then lingering
// before commit, and a cursor reader that repeatedly reads seq > cursor.
// The reader must never see a sequence number at or below one it has
// already passed (a late commit it would have skipped).
func TestSequenceIsCommitOrder(t *testing.T) {
	db := openPostgres(t)
	const writers, perWriter = 16, 40
	var wg sync.WaitGroup
	var done atomic.Bool
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				err := db.Write(bg, func(tx *store.Tx) error {
					if err := Insert(bg, db, tx, []*Event{testEvent("111122223333", time.Now())}); err != nil {
						return err
					}
					if i%3 == 0 {
						time.Sleep(time.Millisecond) // commit late
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); done.Store(true) }()
	var cursor int64
	seen := map[int64]bool{}
	for {
		finished := done.Load()
		var got []int64
		err := db.Read(bg, func(tx *store.Tx) error {
			rows, err := tx.Query(bg, `SELECT seq FROM events WHERE seq > $1 ORDER BY seq`, cursor)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var s int64
				rows.Scan(&s)
				got = append(got, s)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range got {
			if s != cursor+1 {
				t.Fatalf("cursor at %d read %d: a lower sequence had not committed yet (would be skipped)", cursor, s)
			}
			seen[s] = true
			cursor = s
		}
		if finished && len(got) == 0 {
			break
		}
	}
	if len(seen) != writers*perWriter {
		t.Fatalf("read %d events, want %d", len(seen), writers*perWriter)
	}
}

// TestLookupPaths runs the lookup queries on both drivers: scoping, data
// events hidden, attribute filters, inclusive bounds, positions.
func TestLookupPaths(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *store.DB{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			base := time.Unix(1767225600, 0)
			var evs []*Event
			for i := 0; i < 10; i++ {
				evs = append(evs, testEvent("111122223333", base.Add(time.Duration(i/2)*time.Second)))
			}
			other := testEvent("999999999999", base)
			data := Build(call(fakeService(false), "PutThingData", principals()["root"]), nil, nil, nil, base)
			evs = append(evs, other, data)
			if err := db.Write(bg, func(tx *store.Tx) error { return Insert(bg, db, tx, evs) }); err != nil {
				t.Fatal(err)
			}
			q := Query{AccountID: "111122223333", Region: "eu-west-1", Limit: 100}
			rows, err := Lookup(bg, db, q)
			if err != nil || len(rows) != 10 {
				t.Fatalf("scoped lookup: %d rows, %v (data event or other account leaked?)", len(rows), err)
			}
			for i := 1; i < len(rows); i++ {
				if rows[i].TimeMs > rows[i-1].TimeMs || (rows[i].TimeMs == rows[i-1].TimeMs && rows[i].Seq > rows[i-1].Seq) {
					t.Fatal("not newest first")
				}
			}
			q.IncludeData = true
			if rows, _ := Lookup(bg, db, q); len(rows) != 11 {
				t.Errorf("IncludeData: %d rows", len(rows))
			}
			q.IncludeData = false
			q.Attr, q.Value = AttrResourceName, "t"
			if rows, _ := Lookup(bg, db, q); len(rows) != 10 {
				t.Errorf("ResourceName: %d rows", len(rows))
			}
			q.Attr, q.Value = AttrResourceType, "AWS::Things::Thing"
			q.Start, q.End = base.Add(time.Second), base.Add(2*time.Second)
			if rows, _ := Lookup(bg, db, q); len(rows) != 4 {
				t.Errorf("ResourceType in [1s,2s]: %d rows", len(rows))
			}
			// Paging by position, 3 at a time.
			q = Query{AccountID: "111122223333", Region: "eu-west-1", Limit: 3, Attr: AttrEventName, Value: "CreateThing"}
			var all []int64
			for {
				rows, err := Lookup(bg, db, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rows {
					all = append(all, r.Seq)
				}
				if len(rows) < 3 {
					break
				}
				p := rows[len(rows)-1].Position()
				q.After = &p
			}
			if fmt.Sprint(len(all)) != "10" {
				t.Errorf("paged %v", all)
			}
		})
	}
}

// TestRetentionPurge: with an injected clock, events older than the
// retention go, in batches, with their attribute rows; newer ones stay.
func TestRetentionPurge(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *store.DB{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) { testRetentionPurge(t, open(t)) })
	}
}

func testRetentionPurge(t *testing.T, db *store.DB) {
	base := time.Unix(1767225600, 0)
	var evs []*Event
	for i := 0; i < 25; i++ {
		evs = append(evs, testEvent("111122223333", base.Add(time.Duration(i)*time.Hour)))
	}
	if err := db.Write(bg, func(tx *store.Tx) error { return Insert(bg, db, tx, evs) }); err != nil {
		t.Fatal(err)
	}
	// Index the first 10 only: the purge meets indexed events and, from
	// hour 10 on, events of the tail.
	if err := db.Write(bg, func(tx *store.Tx) error { _, err := IndexPending(bg, db, tx, 10); return err }); err != nil {
		t.Fatal(err)
	}
	perEvent := countEntries(indexEntries(t, db)) / 10
	if perEvent != 8 { // i, n, r, u, s, k, t, m (the name, tagged with the ARN)
		t.Fatalf("%d index entries per event, want 8", perEvent)
	}
	now := base.Add(24*time.Hour + 30*time.Minute)
	p := NewPurger(RetentionConfig{DB: db, Retention: 12 * time.Hour, BatchSize: 4, Now: func() time.Time { return now }})
	n, err := p.PurgeOnce(bg)
	if err != nil || n != 13 { // hours 0..12 are older than now-12h (12:30)
		t.Fatalf("purged %d, %v; want 13", n, err)
	}
	count := func() (events, entries int) {
		db.Read(bg, func(tx *store.Tx) error {
			return tx.QueryRow(bg, `SELECT COUNT(*) FROM events`).Scan(&events)
		})
		return events, countEntries(indexEntries(t, db))
	}
	if events, entries := count(); events != 12 || entries != 0 {
		t.Errorf("left %d events, %d index entries; want 12, 0", events, entries)
	}
	// The 25 records' block stays while any of its events does.
	if rows, err := Lookup(bg, db, Query{AccountID: "111122223333", Region: "eu-west-1", Limit: 50}); err != nil || len(rows) != 12 || rows[0].Record != string(evs[24].Record) {
		t.Errorf("lookup after the purge: %d rows, %v", len(rows), err)
	}
	if err := db.Write(bg, func(tx *store.Tx) error { _, err := IndexPending(bg, db, tx, 0); return err }); err != nil {
		t.Fatal(err)
	}
	if events, entries := count(); events != 12 || entries != 12*perEvent {
		t.Errorf("after indexing the rest: %d events, %d index entries; want 12, %d", events, entries, 12*perEvent)
	}
	if n, _ := p.PurgeOnce(bg); n != 0 {
		t.Errorf("second pass purged %d", n)
	}
	// The worker loop: ticks come from the injected timer.
	tick := make(chan time.Time)
	now = now.Add(12 * time.Hour)
	p = NewPurger(RetentionConfig{DB: db, Retention: 12 * time.Hour, Now: func() time.Time { return now },
		After: func(time.Duration) <-chan time.Time { return tick }})
	ctx, cancel := context.WithCancel(bg)
	stopped := make(chan struct{})
	go func() { p.Run(ctx); close(stopped) }()
	tick <- now // the first pass ran before waiting on the tick
	cancel()
	<-stopped
	if events, entries := count(); events != 0 || entries != 0 {
		t.Errorf("worker left %d events, %d index entries", events, entries)
	}
	var blocks int
	db.Read(bg, func(tx *store.Tx) error { return tx.QueryRow(bg, `SELECT COUNT(*) FROM event_blocks`).Scan(&blocks) })
	if blocks != 0 {
		t.Errorf("worker left %d record blocks", blocks)
	}
	// The history is empty: numbering goes on after the purged events
	// (on SQLite the horizon is the highest stored number, or the
	// counter the purge kept it in), and none is looked up.
	var h int64
	db.Read(bg, func(tx *store.Tx) error { var err error; h, err = Horizon(bg, tx); return err })
	if h != 25 {
		t.Errorf("horizon of the emptied history %d, want 25", h)
	}
	next := testEvent("111122223333", now)
	if err := db.Write(bg, func(tx *store.Tx) error { return Insert(bg, db, tx, []*Event{next}) }); err != nil {
		t.Fatal(err)
	}
	if next.Seq != 26 {
		t.Errorf("first event after the purge numbered %d, want 26", next.Seq)
	}
	rows, err := Lookup(bg, db, Query{AccountID: "111122223333", Region: "eu-west-1", Limit: 50})
	if err != nil || len(rows) != 1 || rows[0].Seq != 26 {
		t.Errorf("lookup after the purge: %v, %v", rows, err)
	}
}

// TestGroupCommitter: concurrent Record calls all become durable, batched.
func TestGroupCommitter(t *testing.T) {
	db := openSQLite(t)
	r := New(Config{DB: db})
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Record(bg, testEvent("111122223333", time.Now())); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	r.Close()
	// After Close, events are still written (one by one).
	if err := r.Record(bg, testEvent("111122223333", time.Now())); err != nil {
		t.Fatal(err)
	}
	var n, maxSeq int64
	db.Read(bg, func(tx *store.Tx) error {
		return tx.QueryRow(bg, `SELECT COUNT(*), MAX(seq) FROM events`).Scan(&n, &maxSeq)
	})
	if n != 201 || maxSeq != 201 {
		t.Errorf("%d events, max seq %d", n, maxSeq)
	}
}

// TestInsertResources: an event's resources column holds each distinct
// (attribute, value) once, through the single-event and the batched
// statements alike, and indexing turns each into one entry.
func TestInsertResources(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *store.DB{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			mk := func() *Event {
				ev := testEvent("111122223333", time.Unix(1767225600, 0))
				ev.Resources = nil
				for i := 0; i < 4; i++ { // 4 resources, 2 distinct ARNs, 1 type
					ev.Resources = append(ev.Resources, catalog.Resource{Type: "AWS::Things::Thing", ARN: fmt.Sprintf("arn:aws:things:eu-west-1:111122223333:thing/t%d", i%2)})
				}
				ev.Resources = append(ev.Resources, catalog.Resource{Type: "AWS::Things::Other", ARN: "arn:aws:things:eu-west-1:111122223333:other/t0"})
				return ev
			}
			data := Build(call(fakeService(false), "PutThingData", principals()["root"]), &createThingInput{ThingName: "t"}, nil, nil, time.Unix(1767225600, 0))
			for _, evs := range [][]*Event{{mk()}, {mk(), mk(), data}, make([]*Event, 65)} {
				for i := range evs {
					if evs[i] == nil {
						evs[i] = mk()
					}
				}
				if err := db.Write(bg, func(tx *store.Tx) error { return Insert(bg, db, tx, evs) }); err != nil {
					t.Fatal(err)
				}
			}
			events := 3 + 65
			want := `["tAWS::Things::Thing","marn:aws:things:eu-west-1:111122223333:thing/t0","mt0","marn:aws:things:eu-west-1:111122223333:thing/t1","mt1","tAWS::Things::Other","marn:aws:things:eu-west-1:111122223333:other/t0"]`
			var n, withData int
			if err := db.Write(bg, func(tx *store.Tx) error {
				if _, err := IndexPending(bg, db, tx, 0); err != nil {
					return err
				}
				if err := tx.QueryRow(bg, `SELECT COUNT(*) FROM events WHERE resources = $1`, want).Scan(&n); err != nil {
					return err
				}
				if err := tx.QueryRow(bg, `SELECT COUNT(*) FROM events WHERE category = 'Data' AND resources IS NULL`).Scan(&withData); err != nil {
					return err
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if n != events || withData != 1 {
				t.Fatalf("%d events with the resources column %s, want %d; data event without one: %d", n, want, events, withData)
			}
			// Per event: 2 types; 3 ARNs, entries of their names' rows
			// (t0 twice, t1): 5 entries.
			m := indexEntries(t, db)
			n = len(m["t"]) + len(m["m"])
			if n != events*5 {
				t.Fatalf("%d resource index entries, want %d", n, events*5)
			}
		})
	}
}
