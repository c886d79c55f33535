package lexmodels

import (
	"context"
	"testing"
	"time"

	"lextrail/internal/store"
)

// TestUtteranceStats: counts Added stay in memory until a flush, which
// upserts one row per (version, missed, utterance, user, day) and adds to
// it on later flushes; the worker flushes every interval and once more
// when stopped; a failed flush keeps its counts; DeleteUtterances' forget
// drops a user's pending counts; and a process that stops without a
// flush (a crash) loses what was pending — the documented window.
func TestUtteranceStats(t *testing.T) { EachDriver(t, testUtteranceStats) }

func testUtteranceStats(t *testing.T, d TestDriver) {
	ctx := context.Background()
	db := openTestDB(t, d)
	u := New(Config{DB: db, UtteranceFlushInterval: time.Hour}).Utterances()
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return day.Add(time.Duration(h) * time.Hour) }
	type row struct {
		n, first, last int64
	}
	get := func(user, text string, missed bool) map[int64]row {
		t.Helper()
		m := map[int64]row{}
		err := db.Read(ctx, func(tx *store.Tx) error {
			rs, err := tx.Query(ctx, `SELECT day_ms, n, first_ms, last_ms FROM lex_utterance_stats WHERE bot_name='B' AND user_id=$1 AND utterance=$2 AND missed=$3`, user, text, missed)
			if err != nil {
				return err
			}
			defer rs.Close()
			for rs.Next() {
				var dm int64
				var r row
				if err := rs.Scan(&dm, &r.n, &r.first, &r.last); err != nil {
					return err
				}
				m[dm] = r
			}
			return rs.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	add := func(u *UtteranceStats, user, text string, missed bool, h int) {
		u.Add("123456789012", "us-east-1", "B", "1", user, text, missed, at(h))
	}
	add(u, "a", "hello", false, 3)
	add(u, "a", "hello", false, 1)
	add(u, "a", "hello", false, 2)
	add(u, "b", "hello", false, 5)
	add(u, "a", "hello", true, 4)
	add(u, "a", "hello", false, 26) // the next day: a row of its own
	if n := u.Pending(); n != 4 {
		t.Fatalf("pending %d, want 4", n)
	}
	if got := get("a", "hello", false); len(got) != 0 {
		t.Fatalf("written before a flush: %v", got)
	}
	if err := u.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	d0, d1 := store.Millis(day), store.Millis(day.Add(24*time.Hour))
	ms := func(h int) int64 { return store.Millis(at(h)) }
	if got := get("a", "hello", false); len(got) != 2 || got[d0] != (row{3, ms(1), ms(3)}) || got[d1] != (row{1, ms(26), ms(26)}) {
		t.Fatalf("after the flush: %v", got)
	}
	if got := get("a", "hello", true); got[d0] != (row{1, ms(4), ms(4)}) {
		t.Fatalf("missed: %v", got)
	}
	if u.Pending() != 0 {
		t.Fatal("pending after a flush")
	}
	// A later flush adds to the row, widening its first and last.
	add(u, "a", "hello", false, 0)
	add(u, "a", "hello", false, 23)
	if err := u.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := get("a", "hello", false)[d0]; got != (row{5, ms(0), ms(23)}) {
		t.Fatalf("after the second flush: %v", got)
	}

	// A row known to this process but deleted since (DeleteUtterances)
	// is written again.
	if err := db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM lex_utterance_stats WHERE user_id='a' AND utterance='hello' AND missed=$1`, false)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	add(u, "a", "hello", false, 7)
	if err := u.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := get("a", "hello", false); len(got) != 1 || got[d0] != (row{1, ms(7), ms(7)}) {
		t.Fatalf("a deleted known row: %v", got)
	}

	// forget (DeleteUtterances) drops one user's pending counts of the bot.
	add(u, "a", "bye", false, 1)
	add(u, "b", "bye", false, 1)
	u.Add("123456789012", "us-east-1", "Other", "1", "a", "bye", false, at(1))
	if err := db.Write(ctx, func(tx *store.Tx) error { return u.forget(ctx, tx, "123456789012", "us-east-1", "B", "a") }); err != nil {
		t.Fatal(err)
	}
	if err := u.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if len(get("a", "bye", false)) != 0 || len(get("b", "bye", false)) != 1 {
		t.Fatalf("forget: a %v, b %v", get("a", "bye", false), get("b", "bye", false))
	}

	// The worker flushes every interval...
	w := New(Config{DB: db, UtteranceFlushInterval: 20 * time.Millisecond}).Utterances()
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	add(w, "c", "tick", false, 1)
	deadline := time.Now().Add(5 * time.Second)
	for len(get("c", "tick", false)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the worker did not flush within its interval")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// ...and once more when it stops (an interval that never comes).
	w = New(Config{DB: db, UtteranceFlushInterval: time.Hour}).Utterances()
	wctx, stop = context.WithCancel(ctx)
	go func() { done <- w.Run(wctx) }()
	add(w, "c", "shutdown", false, 1)
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := get("c", "shutdown", false); got[d0].n != 1 {
		t.Fatalf("not flushed at shutdown: %v", got)
	}

	// A crash (no flush) loses what was pending: a new process over the
	// same database does not see it.
	lost := New(Config{DB: db, UtteranceFlushInterval: time.Hour}).Utterances()
	add(lost, "c", "lost", false, 1)
	if err := New(Config{DB: db}).Utterances().Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := get("c", "lost", false); len(got) != 0 {
		t.Fatalf("another process flushed this one's counts: %v", got)
	}

	// A failed flush keeps its counts, merged with those Added since.
	bad := openTestDB(t, d)
	f := New(Config{DB: bad}).Utterances()
	add(f, "d", "kept", false, 1)
	bad.Close()
	if err := f.Flush(ctx); err == nil {
		t.Fatal("flush on a closed database succeeded")
	}
	add(f, "d", "kept", false, 2)
	f.mu.Lock()
	c := f.pending[utterKey{"123456789012", "us-east-1", "B", "1", false, "kept", "d", d0}]
	f.mu.Unlock()
	if c == nil || *c != (utterCount{2, ms(1), ms(2)}) {
		t.Fatalf("after a failed flush: %v", c)
	}

	// A flush writes in transactions of at most chunk rows; when one
	// fails, the rows of the chunks before it stay written and the rest
	// are kept for the next flush.
	ch := New(Config{DB: db, UtteranceFlushInterval: time.Hour}).Utterances()
	ch.chunk = 2
	for _, user := range []string{"e1", "e2", "e3", "e4", "e5"} {
		add(ch, user, "chunked", false, 1)
	}
	if err := ch.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"e1", "e2", "e3", "e4", "e5"} {
		if got := get(user, "chunked", false); got[d0].n != 1 {
			t.Fatalf("chunked flush, user %s: %v", user, got)
		}
	}
	trigger := []string{`CREATE TRIGGER utter_boom BEFORE UPDATE ON lex_utterance_stats WHEN NEW.user_id = 'e3' BEGIN SELECT RAISE(ABORT, 'boom'); END`}
	if db.Driver() == store.DriverPostgres {
		trigger = []string{`CREATE FUNCTION utter_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.user_id = 'e3' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER utter_boom BEFORE UPDATE ON lex_utterance_stats FOR EACH ROW EXECUTE FUNCTION utter_boom()`}
	}
	if err := db.Write(ctx, func(tx *store.Tx) error {
		for _, q := range trigger {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"e1", "e2", "e3", "e4", "e5"} {
		add(ch, user, "chunked", false, 2)
	}
	if err := ch.Flush(ctx); err == nil {
		t.Fatal("a flush whose second chunk fails succeeded")
	}
	for i, user := range []string{"e1", "e2", "e3", "e4", "e5"} {
		want := int64(1)
		if i < 2 {
			want = 2
		}
		if got := get(user, "chunked", false); got[d0].n != want {
			t.Fatalf("after the failed chunk, user %s: %v, want n %d", user, got, want)
		}
		ch.mu.Lock()
		_, pending := ch.pending[utterKey{"123456789012", "us-east-1", "B", "1", false, "chunked", user, d0}]
		ch.mu.Unlock()
		if pending != (i >= 2) {
			t.Fatalf("after the failed chunk, user %s pending %v", user, pending)
		}
	}
}
