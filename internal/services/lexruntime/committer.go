package lexruntime

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"lextrail/internal/services/lexmodels"
	"lextrail/internal/store"
)

// errStale fails a turn served from the session cache whose session row
// or bot version changed since it was cached.
var errStale = errors.New("lexruntime: cached session is stale")

// turnWrite is one turn's commit: the session CAS and, maybe, its
// utterance statistic.
type turnWrite struct {
	k    sessionKey
	sess *session
	// prev is the row as read (Turn -1: none); cont: the turn continues
	// its session.
	prev *session
	cont bool
	// cached is set for a turn served from the session cache: the bot
	// version must still resolve to this status and model, else the turn
	// fails with errStale (and is run again from a fresh read).
	cached *lexmodels.RuntimeBot
	now    time.Time
	utter  *utteranceRecord
	// rec is the TurnRecorder's prepared write (nil: none).
	rec  TurnWrite
	err  error
	done chan struct{}
}

type utteranceRecord struct {
	version, text string
	missed        bool
}

// committer writes turns. On SQLite, where writes are serialized on one
// connection anyway, concurrent turns are committed together in one
// transaction (group commit: up to maxBatch turns share one BEGIN/COMMIT
// and its WAL pages); each turn's request still waits for its own
// commit, and a lost CAS fails only that turn (409). On PostgreSQL each
// turn commits in its own transaction, in parallel.
type committer struct {
	db    *store.DB
	rec   TurnRecorder
	st    *statements
	group bool
	once  sync.Once
	ch    chan *turnWrite
}

const maxBatch = 64

func newCommitter(db *store.DB, st *statements, rec TurnRecorder) *committer {
	return &committer{db: db, st: st, rec: rec, group: db.Driver() == store.DriverSQLite, ch: make(chan *turnWrite, 4*maxBatch)}
}

// commit writes w and waits for it.
func (c *committer) commit(ctx context.Context, w *turnWrite) error {
	if !c.group {
		return c.db.Write(ctx, func(tx *store.Tx) error {
			if err := c.apply(ctx, tx, w, nil); err != nil {
				return err
			}
			if w.err != nil {
				return w.err
			}
			return c.record(ctx, tx, []*turnWrite{w})
		})
	}
	c.once.Do(func() { go c.loop() })
	w.done = make(chan struct{})
	select {
	case c.ch <- w:
	case <-ctx.Done():
		return ctx.Err()
	}
	<-w.done // once queued, the turn is committed or failed; wait for which
	return w.err
}

func (c *committer) loop() {
	batch := make([]*turnWrite, 0, maxBatch)
	for w := range c.ch {
		batch = append(batch[:0], w)
		// Let the requests that are about to commit queue their turns
		// first (one yield: microseconds), so that a commit holds more
		// than the one or two turns a busy, CPU-bound server otherwise
		// gives it and its fixed costs (BEGIN/COMMIT, the WAL pages,
		// the recorder's rows) are shared.
		if len(c.ch) < maxBatch {
			runtime.Gosched()
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case w2 := <-c.ch:
				batch = append(batch, w2)
			default:
				break drain
			}
		}
		c.write(batch)
	}
}

// write commits a batch in one transaction.
func (c *committer) write(batch []*turnWrite) {
	err := c.db.Write(context.Background(), func(tx *store.Tx) error {
		var seen resolved
		for _, w := range batch {
			w.err = nil
			if err := c.apply(context.Background(), tx, w, &seen); err != nil {
				return err
			}
		}
		return c.record(context.Background(), tx, batch)
	})
	for _, w := range batch {
		if err != nil {
			w.err = err
		}
		close(w.done)
	}
}

// resolved memoizes, within one transaction, what the bot versions of
// cached turns resolve to (the turns of a batch mostly talk to one bot).
type resolved map[resolveKey]resolution

type resolveKey struct{ acct, region, bot, alias, version string }

type resolution struct {
	rb  *lexmodels.RuntimeBot
	err error
}

// apply runs one turn's statements; a lost CAS sets w.err (409, or
// errStale for a turn served from the session cache) without failing the
// transaction. seen (may be nil) memoizes the bot versions resolved in tx.
func (c *committer) apply(ctx context.Context, tx *store.Tx, w *turnWrite, seen *resolved) error {
	if cb := w.cached; cb != nil {
		rk := resolveKey{w.k.acct, w.k.region, w.k.bot, w.k.alias, cb.Version}
		var r resolution
		var ok bool
		if seen != nil && *seen != nil {
			r, ok = (*seen)[rk]
		}
		if !ok {
			r.rb, r.err = c.st.models.Resolve(ctx, tx, w.k.acct, w.k.region, w.k.bot, w.k.alias, cb.Version)
			if seen != nil {
				if *seen == nil {
					*seen = resolved{}
				}
				(*seen)[rk] = r
			}
		}
		rb, err := r.rb, r.err
		if err != nil && !isNotFound(err) {
			return err
		}
		if err != nil || rb.Status != cb.Status || rb.ModelID != cb.ModelID {
			w.err = errStale
			return nil
		}
	}
	ok, err := c.st.saveSession(ctx, tx, w.k, w.sess, w.prev, w.cont, w.now)
	if err != nil {
		return err
	}
	if !ok {
		w.err = conflict()
		if w.cached != nil {
			w.err = errStale
		}
		return nil
	}
	if u := w.utter; u != nil {
		if err := c.st.models.RecordUtterance(ctx, tx, w.k.acct, w.k.region, w.k.bot, u.version, w.k.user, u.text, u.missed, w.now); err != nil {
			return err
		}
	}
	return nil
}

// record hands the TurnRecorder the prepared writes of the turns that won
// their compare-and-swap.
func (c *committer) record(ctx context.Context, tx *store.Tx, batch []*turnWrite) error {
	if c.rec == nil {
		return nil
	}
	var ws []TurnWrite
	for _, w := range batch {
		if w.rec != nil && w.err == nil {
			ws = append(ws, w.rec)
		}
	}
	if len(ws) == 0 {
		return nil
	}
	return c.rec.WriteTurns(ctx, tx, ws)
}
