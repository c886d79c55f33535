package lexruntime

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/dialog"
	"lextrail/internal/services/lexmodels"
	"lextrail/internal/store"
)

// panicRecorder panics in WriteTurns for a write named "panic".
type panicRecorder struct {
	mu      sync.Mutex
	batches int
	turns   int
}

func (r *panicRecorder) PrepareTurn(t *Turn) TurnWrite { return t.RequestID }

func (r *panicRecorder) WriteTurns(ctx context.Context, tx *store.Tx, ws []TurnWrite) error {
	r.mu.Lock()
	r.batches++
	r.turns += len(ws)
	r.mu.Unlock()
	for _, w := range ws {
		if w == "panic" {
			panic("recorder panic")
		}
	}
	return nil
}

// TestCommitterConcurrentTurns: turns committed by many requests at once
// (on SQLite led by the requests themselves, several to a transaction)
// are each committed exactly once, every request learns its own outcome
// (a lost compare-and-swap is 409 for that turn only), and the committer
// is idle afterwards; a commit that panics fails its turns, the panic
// reaches its leader's request, and later commits proceed.
func TestCommitterConcurrentTurns(t *testing.T) {
	eachDriver(t, func(t *testing.T, ctx context.Context, db *store.DB, st *statements) {
		rec := &panicRecorder{}
		c := newCommitter(db, st, rec)
		now := time.Now()
		write := func(user, name string, prev int64) *turnWrite {
			k := sessionKey{"123456789012", "us-east-1", "Bot", "prod", user}
			s := &session{ID: "s-" + user, BotVersion: "1", ModelID: "m", State: dialog.NewState("s-" + user), Started: now, Expires: now.Add(time.Minute)}
			return &turnWrite{k: k, sess: s, prev: &session{Turn: prev}, now: now, rec: rec.PrepareTurn(&Turn{RequestID: name})}
		}
		const n = 200
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// users 0..149 once, users 0..49 a second time as new
				// sessions: of each such pair exactly one commits
				errs[i] = c.commit(ctx, write(fmt.Sprintf("u%d", i%150), fmt.Sprint(i), -1))
			}()
		}
		wg.Wait()
		won := map[int]int{}
		for i, err := range errs {
			if err == nil {
				won[i%150]++
			} else if e := awserr.As(err); e == nil || e.Code != "ConflictException" {
				t.Fatalf("turn %d: %v", i, err)
			}
		}
		for u := range 150 {
			if won[u] != 1 {
				t.Fatalf("user %d: %d turns committed, want 1", u, won[u])
			}
		}
		var rows int
		if err := db.Read(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `SELECT COUNT(*) FROM lex_sessions`).Scan(&rows)
		}); err != nil {
			t.Fatal(err)
		}
		if rows != 150 || rec.turns != 150 {
			t.Fatalf("%d session rows, %d recorded turns; want 150 each", rows, rec.turns)
		}
		if c.group && rec.batches >= n {
			t.Errorf("SQLite: %d commits for %d concurrent turns: none were grouped", rec.batches, n)
		}
		c.mu.Lock()
		idle := !c.busy && len(c.queue) == 0
		c.mu.Unlock()
		if !idle {
			t.Fatal("committer not idle after every turn returned")
		}

		func() {
			defer func() {
				if p := recover(); p != "recorder panic" {
					t.Fatalf("recovered %v, want the recorder's panic", p)
				}
			}()
			c.commit(ctx, write("p1", "panic", -1))
			t.Fatal("the panicking commit returned")
		}()
		if err := c.commit(ctx, write("p2", "after", -1)); err != nil {
			t.Fatalf("commit after a panicked one: %v", err)
		}
		var p1 int
		db.Read(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `SELECT COUNT(*) FROM lex_sessions WHERE user_id = 'p1'`).Scan(&p1)
		})
		if p1 != 0 {
			t.Fatal("the turn whose commit panicked was written")
		}
	})
}

// TestResolveMemo: the bot version a cached turn talks to is resolved
// again, in the commit's transaction, whenever anything may have changed
// it — on SQLite the committer keeps what it resolved from one commit to
// the next only while no other write of this process ran
// (store.WriteSeq) and no other process committed (data_version) — so a
// turn cached before a rebuild made here or on another process on the
// same database is stale, never committed.
func TestResolveMemo(t *testing.T) {
	eachDriverURL(t, func(t *testing.T, ctx context.Context, url string, db *store.DB, st *statements) {
		c := newCommitter(db, st, nil)
		now := time.Now()
		exec := func(db *store.DB, q string, args ...any) {
			t.Helper()
			if err := db.Write(ctx, func(tx *store.Tx) error { _, err := tx.Exec(ctx, q, args...); return err }); err != nil {
				t.Fatal(err)
			}
		}
		const acct, region = "123456789012", "us-east-1"
		exec(db, `INSERT INTO lex_aliases (account_id, region, bot_name, name, name_lower, bot_version, checksum, created_ms, updated_ms)
			VALUES ($1, $2, 'Bot', 'prod', 'prod', '1', 'c', 0, 0)`, acct, region)
		exec(db, `INSERT INTO lex_resources (account_id, region, kind, name, version, version_num, name_lower, checksum, doc, content_hash, status, model_id, created_ms, updated_ms)
			VALUES ($1, $2, 'bot', 'Bot', '1', 1, 'bot', 'c', '{}', 'h', 'READY', 'm1', 0, 0)`, acct, region)
		n := 0
		turn := func(model string) error {
			n++
			user := fmt.Sprintf("u%d", n)
			k := sessionKey{acct, region, "Bot", "prod", user}
			s := &session{ID: "s-" + user, BotVersion: "1", ModelID: model, State: dialog.NewState("s-" + user), Started: now, Expires: now.Add(time.Minute)}
			return c.commit(ctx, &turnWrite{k: k, sess: s, prev: &session{Turn: -1}, now: now,
				cached: &lexmodels.RuntimeBot{Version: "1", Status: "READY", ModelID: model, AliasVersion: "1"}})
		}
		for range 3 { // resolved once, then (SQLite) from the memo
			if err := turn("m1"); err != nil {
				t.Fatal(err)
			}
		}
		// a rebuild written by this process
		exec(db, `UPDATE lex_resources SET model_id = 'm2' WHERE name = 'Bot'`)
		if err := turn("m1"); err != errStale {
			t.Fatalf("turn cached before a rebuild here: %v, want stale", err)
		}
		if err := turn("m2"); err != nil {
			t.Fatal(err)
		}
		// a rebuild written by another process
		other, err := store.Open(ctx, store.Config{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		exec(other, `UPDATE lex_resources SET model_id = 'm3' WHERE name = 'Bot'`)
		if err := turn("m2"); err != errStale {
			t.Fatalf("turn cached before a rebuild on another process: %v, want stale", err)
		}
		if err := turn("m3"); err != nil {
			t.Fatal(err)
		}
		// the alias deleted on the other process
		exec(other, `DELETE FROM lex_aliases WHERE name = 'prod'`)
		if err := turn("m3"); err != errStale {
			t.Fatalf("turn cached before its alias was deleted: %v, want stale", err)
		}
	})
}
