package lexruntime

import (
	"context"
	"errors"
	"testing"
	"time"

	"lextrail/internal/dialog"
	"lextrail/internal/store"
)

// fakeRecorder records the prepared writes it is handed; a write named
// "fail" fails.
type fakeRecorder struct {
	t       *testing.T
	batches [][]string
}

func (r *fakeRecorder) PrepareTurn(t *Turn) TurnWrite { return t.RequestID }

func (r *fakeRecorder) WriteTurns(ctx context.Context, tx *store.Tx, ws []TurnWrite) error {
	if tx.ReadOnly() {
		r.t.Error("recorder write in a read-only transaction")
	}
	var names []string
	for _, w := range ws {
		names = append(names, w.(string))
	}
	r.batches = append(r.batches, names)
	for _, n := range names {
		if n == "fail" {
			return errQueue
		}
	}
	return nil
}

var errQueue = errors.New("queue insert failed")

// TestRecorderInTurnTransaction: a TurnRecorder's writes run in the
// transaction that commits the turns — only for turns whose session
// compare-and-swap wins — and their failure fails the commit (nothing of
// the turn is written).
func TestRecorderInTurnTransaction(t *testing.T) {
	eachDriver(t, func(t *testing.T, ctx context.Context, db *store.DB, st *statements) {
		rec := &fakeRecorder{t: t}
		c := newCommitter(db, st, rec)
		now := time.Now()
		turn := func(user string, prev int64, name string) error {
			k := sessionKey{"123456789012", "us-east-1", "Bot", "prod", user}
			s := &session{ID: "s-" + user, BotVersion: "1", ModelID: "m", State: dialog.NewState("s-" + user), Started: now, Expires: now.Add(time.Minute)}
			return c.commit(ctx, &turnWrite{k: k, sess: s, prev: &session{Turn: prev}, now: now, rec: rec.PrepareTurn(&Turn{RequestID: name})})
		}
		if err := turn("user-1", -1, "first"); err != nil {
			t.Fatal(err)
		}
		if err := turn("user-1", -1, "lost race"); err == nil {
			t.Fatal("a stale turn committed")
		}
		if err := turn("user-2", -1, "fail"); !errors.Is(err, errQueue) {
			t.Fatalf("a failing recorder write: %v", err)
		}
		if len(rec.batches) != 2 || rec.batches[0][0] != "first" || rec.batches[1][0] != "fail" {
			t.Errorf("recorder writes: %v", rec.batches)
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
