package lexruntime

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/dialog"
	"lextrail/internal/services/lexmodels"
	"lextrail/internal/store"
	"lextrail/internal/store/pgtest"
)

// eachDriver runs fn on a fresh database of each driver (PostgreSQL
// skipped with a reason where initdb is absent) with the runtime's
// statements.
func eachDriver(t *testing.T, fn func(t *testing.T, ctx context.Context, db *store.DB, st *statements)) {
	eachDriverURL(t, func(t *testing.T, ctx context.Context, _ string, db *store.DB, st *statements) { fn(t, ctx, db, st) })
}

// eachDriverURL is eachDriver, telling fn the database URL too.
func eachDriverURL(t *testing.T, fn func(t *testing.T, ctx context.Context, url string, db *store.DB, st *statements)) {
	for _, drv := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "db.sqlite") }},
		{"postgres", func(t *testing.T) string { return pgtest.Start(t) }},
	} {
		t.Run(drv.name, func(t *testing.T) {
			ctx := context.Background()
			url := drv.url(t)
			db, err := store.Open(ctx, store.Config{URL: url})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			st, err := prepare(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			fn(t, ctx, url, db, st)
		})
	}
}

// TestSessionCAS: the session write is a compare-and-swap on the turn
// counter, so of several nodes racing to commit a turn of one session
// exactly one wins (the others answer 409), on both drivers.
func TestSessionCAS(t *testing.T) {
	eachDriver(t, func(t *testing.T, ctx context.Context, db *store.DB, st *statements) {
		var err error
		k := sessionKey{"123456789012", "us-east-1", "Bot", "prod", "user-1"}
		now := time.Now()
		s := &session{ID: "s1", BotVersion: "1", ModelID: "m", State: dialog.NewState("s1"), Started: now, Expires: now.Add(time.Minute)}
		save := func(prev *session) bool {
			t.Helper()
			var ok bool
			if err := db.Write(ctx, func(tx *store.Tx) error {
				var err error
				ok, err = st.saveSession(ctx, tx, k, s, prev, false, now)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return ok
		}
		load := func() *session {
			t.Helper()
			var got *session
			if err := db.Read(ctx, func(tx *store.Tx) error { got, err = st.loadSession(ctx, tx, k); return err }); err != nil {
				t.Fatal(err)
			}
			return got
		}
		none := &session{Turn: -1}
		if !save(none) || save(none) {
			t.Fatal("creating a session twice from 'no row' must fail the second time")
		}
		v0 := load()
		if v0.Turn != 0 || v0.Version == 0 {
			t.Fatalf("first write: %+v", v0)
		}
		if !save(v0) || save(v0) {
			t.Fatal("a stale version must not commit")
		}
		got := load()
		if got.Turn != 1 || got.ID != "s1" || got.Version == v0.Version || got.Version != s.Version || !got.live(now) || got.live(now.Add(2*time.Minute)) {
			t.Fatalf("loaded %+v", got)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mine := *s
				db.Write(ctx, func(tx *store.Tx) error {
					ok, err := st.saveSession(ctx, tx, k, &mine, got, true, now)
					if ok {
						wins.Add(1)
					}
					return err
				})
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d of 8 racing writers committed", wins.Load())
		}
		var ok bool
		db.Write(ctx, func(tx *store.Tx) error { ok, err = st.deleteSessionRow(ctx, tx, k, got); return err })
		if ok {
			t.Fatal("delete with a stale version succeeded")
		}
		cur := load()
		db.Write(ctx, func(tx *store.Tx) error { ok, err = st.deleteSessionRow(ctx, tx, k, cur); return err })
		if !ok {
			t.Fatal("delete failed")
		}
		var cont bool
		db.Write(ctx, func(tx *store.Tx) error { cont, err = st.saveSession(ctx, tx, k, s, cur, true, now); return err })
		if cont {
			t.Fatal("a turn continuing a deleted session re-created it")
		}
		// A deleted session started again counts turns from 0: a writer
		// still holding turn 0 of the old session must not overwrite
		// turn 0 of the new one (the CAS is on the version).
		if !save(none) {
			t.Fatal("re-creating the session failed")
		}
		if save(v0) {
			t.Fatal("a writer of the deleted session overwrote the new one")
		}
	})
}

// TestBotStatus: what each build status of the version answers.
func TestBotStatus(t *testing.T) {
	s := &Service{}
	for _, tc := range []struct {
		rb   lexmodels.RuntimeBot
		code string
	}{
		{lexmodels.RuntimeBot{Status: "BUILDING"}, "BadGatewayException"},
		{lexmodels.RuntimeBot{Status: "READY"}, "BadGatewayException"}, // READY but the model row is being replaced
		{lexmodels.RuntimeBot{Status: "NOT_BUILT"}, "BadRequestException"},
		{lexmodels.RuntimeBot{Status: "FAILED", FailureReason: "no intents"}, "BadRequestException"},
		{lexmodels.RuntimeBot{Status: ""}, "NotFoundException"},
	} {
		cv := &conv{k: sessionKey{bot: "B"}, rb: &tc.rb}
		err := s.load(context.Background(), cv)
		if e := awserr.As(err); e == nil || e.Code != tc.code {
			t.Errorf("status %q: %v, want %s", tc.rb.Status, err, tc.code)
		}
	}
}

// TestEncodeStoredEqualsMarshal: the hand-built session document is
// encoding/json's, with and without conversation-log settings.
func TestEncodeStoredEqualsMarshal(t *testing.T) {
	st := dialog.NewState("sess-1")
	st.Attributes = map[string]string{"a": "<b>&\"c\""}
	for _, logs := range []json.RawMessage{nil, json.RawMessage(`{"iamRoleArn":"arn:aws:iam::1:role/r","logSettings":[{"logType":"TEXT"}]}`)} {
		s := &session{State: st, Logs: logs}
		got, err := encodeStored(s)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(stored{Dialog: st, Logs: logs})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("encodeStored:\n%s\nwant\n%s", got, want)
		}
	}
}

// TestSweepDeadline: a continuing turn leaves the row's sweep_ms (and so
// the sweeper's index) alone while its new expiry stays within it, and
// raises it (rounded up to the minute) when the expiry passes it; the
// sweeper deletes a row only once both deadlines have passed.
func TestSweepDeadline(t *testing.T) {
	eachDriver(t, func(t *testing.T, ctx context.Context, db *store.DB, st *statements) {
		k := sessionKey{"123456789012", "us-east-1", "Bot", "prod", "user-1"}
		t0 := time.UnixMilli(1_800_000_000_000) // a whole minute
		ttl := 10 * time.Second
		prev := &session{Turn: -1}
		write := func(now time.Time) *session {
			t.Helper()
			s := &session{ID: "s1", BotVersion: "1", ModelID: "m", State: dialog.NewState("s1"), Started: t0, Expires: now.Add(ttl)}
			var ok bool
			if err := db.Write(ctx, func(tx *store.Tx) error {
				var err error
				ok, err = st.saveSession(ctx, tx, k, s, prev, prev.Turn >= 0, now)
				return err
			}); err != nil || !ok {
				t.Fatalf("save: %v %v", ok, err)
			}
			var stored session
			var sweep int64
			if err := db.Read(ctx, func(tx *store.Tx) error {
				got, err := st.loadSession(ctx, tx, k)
				if got != nil {
					stored, sweep = *got, got.Sweep
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if sweep != s.Sweep || stored.Version != s.Version {
				t.Fatalf("stored sweep %d version %d, written %d %d", sweep, stored.Version, s.Sweep, s.Version)
			}
			prev = s
			return s
		}
		minute := time.Minute.Milliseconds()
		if s := write(t0.Add(time.Second)); s.Sweep != t0.UnixMilli()+minute {
			t.Fatalf("new session: sweep %d, want the next minute %d", s.Sweep, t0.UnixMilli()+minute)
		}
		if s := write(t0.Add(30 * time.Second)); s.Sweep != t0.UnixMilli()+minute {
			t.Fatalf("expiry within the deadline moved it: %d", s.Sweep)
		}
		if s := write(t0.Add(55 * time.Second)); s.Sweep != t0.UnixMilli()+2*minute {
			t.Fatalf("expiry past the deadline: sweep %d, want %d", s.Sweep, t0.UnixMilli()+2*minute)
		}
		sweep := func(now time.Time) int64 {
			t.Helper()
			var n int64
			if err := db.Write(ctx, func(tx *store.Tx) error {
				res, err := tx.Exec(ctx, `DELETE FROM lex_sessions WHERE sweep_ms <= $1 AND expires_ms <= $1`, store.Millis(now))
				if err == nil {
					n, err = res.RowsAffected()
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return n
		}
		// expired at 1:05, swept from 2:00
		if n := sweep(t0.Add(90 * time.Second)); n != 0 {
			t.Fatal("swept before its sweep deadline")
		}
		if n := sweep(t0.Add(2 * time.Minute)); n != 1 {
			t.Fatal("not swept after both deadlines")
		}
	})
}

// TestSweepChunks: a sweep deletes every expired session, in transactions
// of at most sweepChunk rows, and leaves live ones.
func TestSweepChunks(t *testing.T) {
	eachDriver(t, func(t *testing.T, ctx context.Context, db *store.DB, st *statements) {
		now := time.UnixMilli(1_800_000_000_000)
		const expired = 2*sweepChunk + 7
		if err := db.Write(ctx, func(tx *store.Tx) error {
			for i := range expired + 1 {
				exp := now.Add(-time.Hour)
				if i == expired {
					exp = now.Add(time.Hour) // live
				}
				s := &session{ID: "s", BotVersion: "1", ModelID: "m", State: dialog.NewState("s"), Started: exp, Expires: exp}
				k := sessionKey{"123456789012", "us-east-1", "Bot", "prod", fmt.Sprintf("user-%d", i)}
				if ok, err := st.saveSession(ctx, tx, k, s, &session{Turn: -1}, false, exp); err != nil || !ok {
					return fmt.Errorf("save %d: %v %v", i, ok, err)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		before := db.WriteSeq()
		sw := (&Service{cfg: Config{DB: db, Now: func() time.Time { return now }}}).Sweeper()
		n, err := sw.SweepOnce(ctx)
		if err != nil || n != expired {
			t.Fatalf("swept %d, %v; want %d", n, err, expired)
		}
		if db.Driver() == store.DriverSQLite {
			if got := db.WriteSeq() - before; got != 3 {
				t.Errorf("%d sweep transactions, want 3 of at most %d rows", got, sweepChunk)
			}
		}
		var left int
		db.Read(ctx, func(tx *store.Tx) error { return tx.QueryRow(ctx, `SELECT COUNT(*) FROM lex_sessions`).Scan(&left) })
		if left != 1 {
			t.Fatalf("%d sessions left, want the live one", left)
		}
	})
}
