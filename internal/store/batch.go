package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// batcher is SQLite's group committer for write transactions. SQLite has
// one writer at a time, and most of a small write transaction's cost is
// its commit, which appends every page the transaction changed to the WAL
// (two system calls a page). Transactions that queue up while one runs
// are therefore run together: one goroutine, the writer, begins a
// transaction and hands it to each waiting caller in turn; the caller runs
// its fn in a savepoint of it (in its own goroutine, so panics and stacks
// stay the caller's; the batch's first fn runs without one: if it fails,
// the writer rolls the whole transaction back, which holds nothing else
// yet, and the calls still queued form the next batch) and gives it back;
// when no caller is waiting any more (or maxBatch have run) the writer
// commits, and every caller whose fn succeeded learns the commit's
// outcome. A fn that fails, panics or whose context ends rolls back to its
// savepoint and returns at once; the others are unaffected. Nothing waits for company: an idle server commits each
// write on its own, as before.
type batcher struct {
	db   *DB
	reqs chan *writeReq
	mu   sync.RWMutex // held to send on reqs; taken exclusively by close
	shut bool
	done chan struct{}
	// commits counts committed batches (tests).
	commits atomic.Int64
}

// maxBatch caps the calls committed together.
const maxBatch = 64

// writeReq is one Write call's exchange with the writer.
type writeReq struct {
	ctx    context.Context
	turn   chan *sql.Tx   // the shared transaction, or nil: result has the error
	fnDone chan fnOutcome // the caller is done with the transaction
	// first is set by the writer before it hands the transaction over:
	// the call is the batch's first, whose fn runs without a savepoint.
	first  bool
	result chan error // the commit's outcome (only for fns that succeeded)
}

// fnOutcome is how a caller hands the transaction back.
type fnOutcome struct {
	failed   bool  // fn failed and its savepoint was rolled back: no result follows
	fatal    error // the transaction is unusable (the batch is lost)
	deferred []deferredItem
}

var reqPool = sync.Pool{New: func() any {
	return &writeReq{turn: make(chan *sql.Tx, 1), fnDone: make(chan fnOutcome, 1), result: make(chan error, 1)}
}}

// errUndo is how the batch's first call, which has no savepoint, tells
// the writer that its fn failed: the writer rolls the transaction back
// (it holds nothing else) as it does a lost batch.
var errUndo = errors.New("store: the batch's first call failed")

// errClosed is returned by Write after Close.
var errClosed = errors.New("store: closed")

func newBatcher(db *DB) *batcher {
	b := &batcher{db: db, reqs: make(chan *writeReq, 1024), done: make(chan struct{})}
	go b.run()
	return b
}

func (b *batcher) close() {
	b.mu.Lock()
	if !b.shut {
		b.shut = true
		close(b.reqs)
	}
	b.mu.Unlock()
	<-b.done
}

const (
	sqlSavepoint = `SAVEPOINT lextrail_write`
	sqlRelease   = `RELEASE SAVEPOINT lextrail_write`
	sqlRollback  = `ROLLBACK TO SAVEPOINT lextrail_write`
)

// write is DB.Write on SQLite.
func (b *batcher) write(ctx context.Context, fn func(*Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := reqPool.Get().(*writeReq)
	r.ctx = ctx
	b.mu.RLock()
	if b.shut {
		b.mu.RUnlock()
		reqPool.Put(r)
		return errClosed
	}
	b.reqs <- r
	b.mu.RUnlock()

	stx := <-r.turn
	if stx == nil {
		err := <-r.result
		r.ctx = nil
		reqPool.Put(r)
		return err
	}
	t := &Tx{tx: stx, shared: true}
	bg := context.Background()
	first := r.first
	if !first {
		if _, err := t.Exec(bg, sqlSavepoint); err != nil {
			r.fnDone <- fnOutcome{failed: true, fatal: err} // the writer gives the batch up
			return fmt.Errorf("store: begin: %w", err)
		}
	}
	release := func() error {
		if first {
			return nil
		}
		_, err := t.Exec(bg, sqlRelease)
		return err
	}
	// rollback undoes fn's savepoint (the first fn: has the writer roll
	// the transaction back) and hands the transaction back. The writer
	// may still hold r afterwards, so r is not reused.
	rollback := func() {
		if first {
			r.fnDone <- fnOutcome{failed: true, fatal: errUndo}
			return
		}
		var fatal error
		if _, err := t.Exec(bg, sqlRollback); err != nil {
			fatal = err
		} else if _, err := t.Exec(bg, sqlRelease); err != nil {
			fatal = err
		}
		r.fnDone <- fnOutcome{failed: true, fatal: fatal}
	}
	var panicked bool
	var pval any
	b.db.writeSeq.Add(1)
	func() {
		defer func() {
			if p := recover(); p != nil {
				panicked, pval = true, p
			}
		}()
		err = fn(t)
	}()
	switch {
	case panicked:
		rollback()
		panic(pval)
	case err != nil:
		rollback()
		return err
	case ctx.Err() != nil: // fn ignored its context ending: undo as an aborted tx would
		rollback()
		return ctx.Err()
	}
	if rerr := release(); rerr != nil {
		r.fnDone <- fnOutcome{failed: true, fatal: rerr}
		return fmt.Errorf("store: commit: %w", rerr)
	}
	r.fnDone <- fnOutcome{deferred: t.deferred}
	if err := <-r.result; err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	r.ctx = nil
	reqPool.Put(r)
	for _, f := range t.after {
		f()
	}
	return nil
}

// run is the writer: it forms batches from queued calls until close.
func (b *batcher) run() {
	defer close(b.done)
	for first := range b.reqs {
		stx, err := b.db.write.BeginTx(context.Background(), nil)
		if err != nil {
			first.turn <- nil
			first.result <- fmt.Errorf("store: begin: %w", err)
			continue
		}
		var succeeded []*writeReq
		var deferred []deferredItem
		var lost error // the transaction died under a call: the batch is lost
		n, ran := 0, 0
		for r := first; r != nil; r = b.next(n) {
			n++
			if err := r.ctx.Err(); err != nil { // gave up while queued: fn does not run
				r.turn <- nil
				r.result <- err
				continue
			}
			r.first = ran == 0
			ran++
			r.turn <- stx
			out := <-r.fnDone
			if out.fatal != nil {
				lost = out.fatal
				break
			}
			if !out.failed {
				succeeded = append(succeeded, r)
				deferred = append(deferred, out.deferred...)
			}
		}
		// The calls' deferred writes, outside their savepoints. A failure
		// loses the batch: none of its calls was answered yet.
		var flushed *Tx
		if lost == nil && len(deferred) > 0 {
			flushed = &Tx{tx: stx, shared: true}
			if err := flushDeferred(context.Background(), flushed, deferred); err != nil {
				lost = err
			}
		}
		if lost != nil {
			_ = stx.Rollback()
			for _, r := range succeeded {
				r.result <- fmt.Errorf("transaction lost with a later call of its batch: %w", lost)
			}
			continue
		}
		err = stx.Commit()
		b.commits.Add(1)
		if err == nil && flushed != nil {
			for _, f := range flushed.after {
				f()
			}
		}
		for _, r := range succeeded {
			r.result <- err
		}
	}
}

// next returns the next queued call for the current batch without
// waiting, or nil when none is queued or the batch is full.
func (b *batcher) next(n int) *writeReq {
	if n >= maxBatch {
		return nil
	}
	select {
	case r, ok := <-b.reqs:
		if ok {
			return r
		}
	default:
	}
	return nil
}
