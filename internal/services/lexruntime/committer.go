package lexruntime

import (
	"context"
	"errors"
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
	rec TurnWrite
	err error
	// done tells the waiting request that its turn was committed or
	// failed (false), or that it is to lead the next commit (true).
	done chan bool
	// queued is when the turn was queued, woken when it was told.
	queued, woken time.Time
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
//
// The group commit has no goroutine of its own (leader/follower): a
// request that finds no commit in progress commits at once, itself and
// whatever turns queued meanwhile; requests that arrive during a commit
// queue their turns and wait. When a commit ends, its leader wakes the
// turns it committed and hands the lead to the oldest queued turn, whose
// request then commits the next batch. So a turn never waits for a
// dedicated committer goroutine to be scheduled — on a busy 2-core
// server, a wake-up can wait behind every runnable request — only for the
// commit in progress and its own wake-up.
type committer struct {
	db    *store.DB
	rec   TurnRecorder
	st    *statements
	group bool

	mu sync.Mutex
	// queue holds the turns waiting for the next commit; busy is set
	// while a leader commits (or has been chosen and not yet started).
	queue []*turnWrite
	busy  bool
	times *timings
	// memo, memoSeq and memoDV belong to the leader (write).
	memo    resolved
	memoSeq uint64
	memoDV  int64
}

const maxBatch = 64

func newCommitter(db *store.DB, st *statements, rec TurnRecorder) *committer {
	return &committer{db: db, st: st, rec: rec, group: db.Driver() == store.DriverSQLite, times: &timings{}}
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
	if err := ctx.Err(); err != nil {
		return err
	}
	w.done = make(chan bool, 1)
	w.queued = time.Now()
	c.mu.Lock()
	c.queue = append(c.queue, w)
	if c.busy {
		c.mu.Unlock()
		// Once queued, the turn is committed or failed by a leader, or
		// this request is made the next leader.
		lead := <-w.done
		c.times.wake.add(time.Since(w.woken))
		if !lead {
			return w.err
		}
		c.mu.Lock()
	} else {
		c.busy = true
	}
	n := min(len(c.queue), maxBatch)
	batch := make([]*turnWrite, n)
	copy(batch, c.queue)
	rest := copy(c.queue, c.queue[n:])
	clear(c.queue[rest:])
	c.queue = c.queue[:rest]
	c.mu.Unlock()
	c.lead(w, batch)
	return w.err
}

// lead commits batch (self's request leads it), wakes its other turns and hands
// the lead to the oldest queued turn, if any. If the commit panics, the
// batch fails, the lead is handed on all the same, and the panic goes on
// up the leader's request.
func (c *committer) lead(self *turnWrite, batch []*turnWrite) {
	t := time.Now()
	for _, w := range batch {
		c.times.queue.add(t.Sub(w.queued))
	}
	c.times.batches.Add(1)
	c.times.batched.Add(int64(len(batch)))
	ok := false
	defer func() {
		if !ok {
			for _, w := range batch {
				w.err = errCommitPanic
			}
		}
		c.times.write.add(time.Since(t))
		c.mu.Lock()
		var next *turnWrite
		if len(c.queue) > 0 {
			next = c.queue[0]
		} else {
			c.busy = false
		}
		c.mu.Unlock()
		woken := time.Now()
		for _, w := range batch {
			if w != self {
				w.woken = woken
				w.done <- false
			}
		}
		// The next leader is woken last: the goroutine readied last
		// runs next on this core (the scheduler's runnext slot).
		if next != nil {
			next.woken = woken
			next.done <- true
		}
	}()
	c.write(batch)
	ok = true
}

// errCommitPanic fails the turns of a batch whose commit panicked.
var errCommitPanic = errors.New("lexruntime: the turn's commit failed")

// write commits a batch in one transaction.
//
// The bot versions of cached turns are resolved once per version and
// kept from one batch to the next (memo) while nothing else has written
// the database: no other Write of this process started since this
// committer's last one (store.WriteSeq) and no other process committed
// (PRAGMA data_version, read in the transaction). Anything else — a
// rebuild, an alias moved or deleted, here or in another process — and
// the next batch resolves afresh. Only the leader of the moment touches
// memo.
func (c *committer) write(batch []*turnWrite) {
	ctx := context.Background()
	var seq uint64
	var dv int64
	err := c.db.Write(ctx, func(tx *store.Tx) error {
		seq = c.db.WriteSeq()
		if c.anyCached(batch) {
			if err := tx.QueryRow(ctx, dataVersionQuery).Scan(&dv); err != nil {
				return err
			}
			if c.memo == nil || seq != c.memoSeq+1 || dv != c.memoDV || len(c.memo) > maxMemo {
				c.memo = resolved{}
			}
		} else {
			c.memo = nil
		}
		for _, w := range batch {
			w.err = nil
			if err := c.apply(ctx, tx, w, &c.memo); err != nil {
				return err
			}
		}
		return c.record(ctx, tx, batch)
	})
	if err != nil {
		c.memo = nil
		for _, w := range batch {
			w.err = err
		}
		return
	}
	c.memoSeq, c.memoDV = seq, dv
}

// maxMemo bounds the bot versions memo keeps.
const maxMemo = 256

func (c *committer) anyCached(batch []*turnWrite) bool {
	for _, w := range batch {
		if w.cached != nil {
			return true
		}
	}
	return false
}

// resolved memoizes what the bot versions of cached turns resolve to
// (the turns of a batch mostly talk to one bot).
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

// dataVersionQuery is PRAGMA data_version as a SELECT, which the store
// keeps compiled per connection (a PRAGMA statement is compiled anew
// every batch).
const dataVersionQuery = `SELECT data_version FROM pragma_data_version`
