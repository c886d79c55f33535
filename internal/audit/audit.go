// Package audit owns lextrail's CloudTrail event history: it builds the
// record of every audited call (spec §1) from the operation catalog, the
// call and its principal; stores it with a monotonic sequence, in the
// call's own transaction for mutating calls and through a group committer
// for read-only calls, NoTx calls and failures (so a client never gets an
// answer before its event is durable); looks events up for LookupEvents and
// the offline CLI; and purges them after the retention period.
//
// audit knows no service by name and never changes another package's
// state. Trail delivery (a later consumer of the events table) reads
// events by sequence.
package audit

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/store"
)

// Config configures a Recorder. DB is required.
type Config struct {
	DB *store.DB
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// MaxBatch caps the events the group committer writes in one
	// transaction. Default 256.
	MaxBatch int
	// BatchWait is the longest the committer waits for more events after
	// the first of a batch when fewer than MaxBatch are queued, and it
	// waits only while events arrive more often than one per BatchWait/4
	// (the last batches' average): under load a transaction then commits
	// several events instead of one each (a commit costs several times
	// what an event does), while a lone caller never waits. Default 1ms;
	// negative: never wait (a batch is whatever queued up while the
	// previous one committed).
	BatchWait time.Duration
	// IndexDelay is how long the indexer lets events gather after one was
	// committed before it indexes them (index.go; lookups find them
	// meanwhile by scanning the tail), unless IndexBatch of them gathered
	// first. Default 250ms.
	IndexDelay time.Duration
	// IndexBatch caps the events indexed in one transaction, and is the
	// number of committed events that starts indexing at once. Indexing
	// costs less per event in larger batches (one posting row per distinct
	// attribute value per batch; BenchmarkIndexPending), but holds the
	// single SQLite writer longer. Default 1024.
	IndexBatch int
	// IndexPoll is how often the indexer looks for events it was not told
	// about (other nodes', written without a Recorder, or left unindexed by
	// a previous process), the first time IndexPoll after New. Default 1s.
	IndexPoll time.Duration
}

// Recorder implements the gateway's Auditor.
type Recorder struct {
	cfg   Config
	log   *slog.Logger
	queue chan *pending

	mu     sync.RWMutex
	closed bool
	done   chan struct{}

	kick      chan struct{} // an event committed: index soon
	full      chan struct{} // IndexBatch events committed: index now
	unindexed atomic.Int64  // events committed since the indexer last started
	stopIndex chan struct{}
	indexDone chan struct{}

	insert *store.Deferred // flushEvents
	memo   eventMemo       // the committed events, for the indexer
}

type pending struct {
	ev   *Event
	done chan error
}

var pendingPool = sync.Pool{New: func() any { return &pending{done: make(chan error, 1)} }}

// New starts a Recorder and its group committer. Close stops it.
func New(cfg Config) *Recorder {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	if cfg.BatchWait == 0 {
		cfg.BatchWait = time.Millisecond
	}
	if cfg.IndexDelay <= 0 {
		cfg.IndexDelay = 250 * time.Millisecond
	}
	if cfg.IndexBatch <= 0 {
		cfg.IndexBatch = 1024
	}
	if cfg.IndexPoll <= 0 {
		cfg.IndexPoll = time.Second
	}
	r := &Recorder{cfg: cfg, log: cfg.Logger, queue: make(chan *pending, 4*cfg.MaxBatch), done: make(chan struct{}),
		kick: make(chan struct{}, 1), full: make(chan struct{}, 1), stopIndex: make(chan struct{}), indexDone: make(chan struct{})}
	r.insert = &store.Deferred{Flush: r.flushEvents}
	go r.commitLoop()
	go r.indexLoop()
	return r
}

// IndexNow has the indexer index what is pending now rather than after
// IndexDelay (benchmarks that wait for the index: the wait is then the
// indexing's, not the timer's).
func (r *Recorder) IndexNow() {
	signal(r.full)
	signal(r.kick)
}

// committed tells the indexer that n events committed.
func (r *Recorder) committed(n int) {
	if r.unindexed.Add(int64(n)) >= int64(r.cfg.IndexBatch) {
		signal(r.full)
	}
	signal(r.kick)
}

// signal sends on c (capacity 1) unless a signal is pending already.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Success records a successful call. With a write transaction the event
// is inserted there, just before it commits (store.Tx.Defer: on SQLite
// with the events of every call of its group commit, in one statement),
// so it commits with the state change or not at all; otherwise (tx nil or
// read-only) it goes through the group committer and Success returns once
// it is durable.
func (r *Recorder) Success(ctx context.Context, tx *store.Tx, c *catalog.Call, in, out any) error {
	ev := Build(c, in, out, nil, r.cfg.Now())
	if tx != nil && !tx.ReadOnly() {
		tx.Defer(r.insert, ev)
		return nil
	}
	return r.commit(ctx, ev)
}

// flushEvents is the Deferred Flush that inserts the events of a
// committing transaction.
func (r *Recorder) flushEvents(ctx context.Context, tx *store.Tx, items []any) error {
	evs := make([]*Event, len(items))
	for i, it := range items {
		evs[i] = it.(*Event)
	}
	if err := Insert(ctx, r.cfg.DB, tx, evs); err != nil {
		return err
	}
	tx.AfterCommit(func() {
		r.memo.add(evs)
		r.committed(len(evs))
	})
	return nil
}

// Failure records a failed call (its transaction already rolled back) and
// returns once the event is durable.
func (r *Recorder) Failure(ctx context.Context, c *catalog.Call, in any, err *awserr.Error) error {
	return r.commit(ctx, Build(c, in, nil, err, r.cfg.Now()))
}

// Record stores one event durably through the group committer.
func (r *Recorder) Record(ctx context.Context, ev *Event) error { return r.commit(ctx, ev) }

func (r *Recorder) commit(ctx context.Context, ev *Event) error {
	r.mu.RLock()
	if r.closed {
		r.mu.RUnlock()
		// After Close: write on our own.
		return r.cfg.DB.Write(context.WithoutCancel(ctx), func(tx *store.Tx) error {
			return Insert(ctx, r.cfg.DB, tx, []*Event{ev})
		})
	}
	p := pendingPool.Get().(*pending)
	p.ev = ev
	r.queue <- p
	r.mu.RUnlock()
	// Wait for the batch even if the client went away: the outcome is
	// decided by the committer, and p must not be reused before it answers.
	err := <-p.done
	p.ev = nil
	pendingPool.Put(p)
	return err
}

// commitLoop writes queued events in batches until the queue is closed.
func (r *Recorder) commitLoop() {
	defer close(r.done)
	batch := make([]*pending, 0, r.cfg.MaxBatch)
	evs := make([]*Event, 0, r.cfg.MaxBatch)
	var wait *time.Timer
	// gap estimates the time between arrivals: a moving average over the
	// recent batches of (time since the previous batch began) / (its events).
	var gap time.Duration = math.MaxInt64 / 2
	var prev time.Time
	for first := range r.queue {
		batch = append(batch[:0], first)
		var timer <-chan time.Time
		if r.cfg.BatchWait > 0 && gap < r.cfg.BatchWait/4 && len(r.queue) < r.cfg.MaxBatch-1 {
			if wait == nil {
				wait = time.NewTimer(r.cfg.BatchWait)
			} else {
				wait.Reset(r.cfg.BatchWait)
			}
			timer = wait.C
		}
	gather:
		for len(batch) < r.cfg.MaxBatch {
			select {
			case p, ok := <-r.queue:
				if !ok {
					break gather
				}
				batch = append(batch, p)
			default:
				if timer == nil {
					break gather
				}
				select {
				case p, ok := <-r.queue:
					if !ok {
						break gather
					}
					batch = append(batch, p)
				case <-timer:
					break gather
				}
			}
		}
		if timer != nil {
			wait.Stop()
		}
		now := time.Now()
		if !prev.IsZero() {
			// Since the previous batch began, len(batch) events arrived
			// (besides those that queued during this batch's wait, which
			// the wait itself brought in: counted all the same).
			g := now.Sub(prev) / time.Duration(len(batch))
			gap = min(gap, time.Second)
			gap = (3*gap + g) / 4
		}
		prev = now
		evs = evs[:0]
		for _, p := range batch {
			evs = append(evs, p.ev)
		}
		commits.Add(1)
		err := r.cfg.DB.Write(context.Background(), func(tx *store.Tx) error {
			return Insert(context.Background(), r.cfg.DB, tx, evs)
		})
		if err != nil {
			r.log.Error("audit: committing events", "events", len(evs), "err", err)
		} else {
			r.memo.add(evs)
			r.committed(len(evs))
		}
		for _, p := range batch {
			p.done <- err
		}
		clear(batch)
	}
}

// Close flushes queued events and stops the committer. Events recorded
// after Close are written one by one.
func (r *Recorder) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	close(r.queue)
	r.mu.Unlock()
	<-r.done
	close(r.stopIndex)
	<-r.indexDone
	return nil
}

// indexLoop indexes committed events (index.go): IndexDelay after it was
// told of one or as soon as IndexBatch committed, and every IndexPoll
// (the first time IndexPoll after New) for events it was not told of.
func (r *Recorder) indexLoop() {
	defer close(r.indexDone)
	ctx := context.Background()
	poll := time.NewTicker(r.cfg.IndexPoll)
	defer poll.Stop()
	for {
		// The first pass over what was there at start (another node's
		// events, or a tail left by a previous process) waits for the first
		// poll too: lookups read the tail meanwhile, and Insert bounds it.
		select {
		case <-r.stopIndex:
			return
		case <-poll.C:
		case <-r.kick:
			t := time.NewTimer(r.cfg.IndexDelay)
			select {
			case <-r.stopIndex:
				t.Stop()
				return
			case <-t.C:
			case <-r.full:
				t.Stop()
			}
		}
		r.unindexed.Store(0)
		select { // a full signal from before the reset is stale
		case <-r.full:
		default:
		}
		if pending, err := Pending(ctx, r.cfg.DB); err != nil || pending == 0 {
			if err != nil {
				r.log.Error("audit: reading the index state", "err", err)
			}
			continue
		}
		for {
			var n int64
			err := r.cfg.DB.Write(ctx, func(tx *store.Tx) error {
				var err error
				n, err = indexPending(ctx, r.cfg.DB, tx, int64(r.cfg.IndexBatch), &r.memo)
				return err
			})
			if err != nil {
				r.log.Error("audit: indexing events", "err", err)
				break
			}
			if n < int64(r.cfg.IndexBatch) {
				break
			}
			select {
			case <-r.stopIndex:
				return
			default:
			}
		}
	}
}

// commits counts the group committer's transactions (benchmarks).
var commits atomic.Int64

// ErrClosed is returned by operations on a closed history.
var ErrClosed = errors.New("audit: closed")
