package lexruntime

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"lextrail/internal/dialog"
	"lextrail/internal/store"
	"lextrail/internal/store/pgtest"
)

// TestRecorderInTurnTransaction: a TurnRecorder's write runs in the
// transaction that commits the turn — only when the session's
// compare-and-swap wins — and its failure fails the commit (nothing of
// the turn is written).
func TestRecorderInTurnTransaction(t *testing.T) {
	for _, drv := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "db.sqlite") }},
		{"postgres", func(t *testing.T) string { return pgtest.Start(t) }},
	} {
		t.Run(drv.name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, store.Config{URL: drv.url(t)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			st, err := prepare(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			c := newCommitter(db, st)
			now := time.Now()
			var ran []string
			rec := func(name string, fail error) TxWrite {
				return func(ctx context.Context, tx *store.Tx) error {
					if tx.ReadOnly() {
						t.Error("recorder write in a read-only transaction")
					}
					ran = append(ran, name)
					return fail
				}
			}
			turn := func(user string, prev int64, w TxWrite) error {
				k := sessionKey{"123456789012", "us-east-1", "Bot", "prod", user}
				s := &session{ID: "s-" + user, BotVersion: "1", ModelID: "m", State: dialog.NewState("s-" + user), Started: now, Expires: now.Add(time.Minute)}
				return c.commit(ctx, &turnWrite{k: k, sess: s, prev: prev, now: now, rec: w})
			}
			if err := turn("user-1", -1, rec("first", nil)); err != nil {
				t.Fatal(err)
			}
			if err := turn("user-1", -1, rec("lost race", nil)); err == nil {
				t.Fatal("a stale turn committed")
			}
			boom := errors.New("queue insert failed")
			if err := turn("user-2", -1, rec("failing", boom)); !errors.Is(err, boom) {
				t.Fatalf("a failing recorder write: %v", err)
			}
			if len(ran) != 2 || ran[0] != "first" || ran[1] != "failing" {
				t.Errorf("recorder writes ran: %v", ran)
			}
			var n int
			db.Read(ctx, func(tx *store.Tx) error {
				return tx.QueryRow(ctx, `SELECT COUNT(*) FROM lex_sessions WHERE user_id = 'user-2'`).Scan(&n)
			})
			if n != 0 {
				t.Error("the turn whose recorder write failed was committed")
			}
		})
	}
}
