// Package delivery owns the trail delivery worker: it moves every trail's
// events from the event history to gzipped CloudTrail log files in the
// trail's bucket (spec §2), sends the SNS notice of each file, and has
// internal/trail/digest write the digests, exactly once whatever happens:
//
//   - Each trail's cursor is an events sequence number. A delivery batch
//     takes the events after the cursor up to the safe horizon
//     (audit.Horizon: every event at or below it has committed, none can
//     commit later), so a late commit is never skipped.
//   - The batch (its sequence range and the trail's settings) is stored
//     before anything is written, and its object keys are derived from
//     (trail, account, region, batch, part): a retry after a failure or a
//     crash rewrites the same objects with the same content.
//   - The files' delivery record, the cursor and the status are committed
//     in one transaction, and only by the holder of the trail's lease, so
//     several lextrail processes on one PostgreSQL never deliver a batch
//     twice; a worker that lost its lease cannot commit.
//   - A failing bucket (no such bucket, a policy that denies the CloudTrail
//     principal) keeps the batch: the error shows in GetTrailStatus and
//     the batch is retried with backoff until it is delivered.
//
// Files hold the events of one recipient account and region per window
// (default 5 minutes, down to 1 second), in sequence order, at most
// MaxFileBytes uncompressed; they are written as the CloudTrail service
// principal through the bucket policy (internal/services/s3's Go API).
package delivery

import (
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/objstore"
	"lextrail/internal/policy"
	"lextrail/internal/store"
	"lextrail/internal/trail"
	"lextrail/internal/trail/digest"
)

// Buckets is where log files are written: the S3 service's Go API.
type Buckets interface {
	// Authorize evaluates the bucket policy for principal performing
	// action on bucket/key with the condition keys (lower-case names).
	Authorize(ctx context.Context, bucket, key, action string, principal *policy.Principal, conditionKeys map[string][]string) error
	Put(ctx context.Context, bucket, key string, r io.Reader, opts objstore.PutOptions) (objstore.Info, error)
}

// Notifier publishes a trail's notices to its SNS topic (the SNS service
// implements it through the server's wiring) as the CloudTrail principal
// for the trail sourceARN, the topic policy deciding. The message is
// queued in tx and goes out only if tx commits: the notice and the
// record that it was sent commit together (one notice per file).
type Notifier interface {
	Publish(ctx context.Context, tx *store.Tx, topicARN, message, sourceARN, sourceAccount string) error
}

// Keys checks a trail's KMS key before its files are written SSE-KMS
// (the KMS service implements it through the server's wiring): may the
// CloudTrail principal generate data keys with it for the trail?
type Keys interface {
	AuthorizeTrail(ctx context.Context, tx *store.Tx, keyARN, trailARN, account, region string) error
}

// Config configures a Worker. DB and Buckets are required.
type Config struct {
	DB      *store.DB
	Buckets Buckets
	// Notifier sends SNS notices; nil leaves notices unsent (the Trails
	// API refuses topics then).
	Notifier Notifier
	// Keys checks SSE-KMS keys before writing; nil checks none.
	Keys Keys
	// Digests writes digests; nil writes none.
	Digests *digest.Writer
	// Interval is the delivery window. Default 5 minutes; at least 1s.
	Interval time.Duration
	// MaxFileBytes caps a log file's uncompressed size, which bounds its
	// compressed size too (CloudTrail: 50 MB). Default 50,000,000.
	MaxFileBytes int64
	// CompressionLevel is the log files' gzip level. Default
	// gzip.BestSpeed: measured on 1 KB CloudTrail records, about 1.5 times
	// the delivery throughput of the default level, for files about a
	// quarter larger.
	CompressionLevel int
	// MaxBatchEvents caps the sequence numbers one batch spans (a
	// backlog is delivered in several batches). Default 100,000.
	MaxBatchEvents int64
	// LeaseTTL is how long a trail's lease lasts (renewed while
	// working); another process takes a trail over after it. Default 2m.
	LeaseTTL time.Duration
	// MinBackoff and MaxBackoff bound the wait between attempts at a
	// failing delivery or notice. Defaults 1s and 5m.
	MinBackoff, MaxBackoff time.Duration
	// Poll is how often the worker looks for flush requests and retries
	// between window ends. Default 1s.
	Poll time.Duration
	// FileRecord is how long the record of a delivered, notified and
	// digested file is kept. Default 7 days.
	FileRecord time.Duration
	// Owner names this worker in leases. Default a random ID.
	Owner string
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// After is the timer (tests inject one). Default time.After.
	After  func(time.Duration) <-chan time.Time
	Logger *slog.Logger
	// FailPoint, for fault tests, is called at named points of a
	// delivery ("after-put": the batch's objects are written, the
	// delivery is not committed). An error it returns aborts the pass at
	// that point as a crash would: nothing is recorded or released.
	FailPoint func(point string) error
}

// Worker delivers trails. Several workers (in one or several processes)
// may run on one database.
type Worker struct {
	cfg Config
	log *slog.Logger

	pass sync.Mutex // one pass at a time (Run's and callers' of Pass and Flush)

	mu        sync.Mutex
	notifyErr map[string]failure   // trail ID -> failing notices
	digestErr map[string]failure   // trail ID -> failing digests
	lastCheck map[string]time.Time // trail ID -> digest interval last looked at
	settled   map[string]string    // trail ID -> digest state whose chains are all closed
}

type failure struct {
	n    int
	next time.Time
}

// ErrCrash is what a FailPoint returns to simulate a crash.
var ErrCrash = errors.New("delivery: simulated crash")

// New returns a worker.
func New(cfg Config) *Worker {
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Minute
	}
	cfg.Interval = max(cfg.Interval, time.Second)
	if cfg.MaxFileBytes <= 0 {
		cfg.MaxFileBytes = 50_000_000
	}
	if cfg.CompressionLevel == 0 {
		cfg.CompressionLevel = gzip.BestSpeed
	}
	if cfg.MaxBatchEvents <= 0 {
		cfg.MaxBatchEvents = 100_000
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 2 * time.Minute
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.FileRecord <= 0 {
		cfg.FileRecord = 7 * 24 * time.Hour
	}
	if cfg.Owner == "" {
		var b [8]byte
		rand.Read(b[:])
		cfg.Owner = "worker-" + hex.EncodeToString(b[:])
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Worker{cfg: cfg, log: cfg.Logger, notifyErr: map[string]failure{}, digestErr: map[string]failure{}, lastCheck: map[string]time.Time{}, settled: map[string]string{}}
}

// Owner returns the worker's lease owner name.
func (w *Worker) Owner() string { return w.cfg.Owner }

// Run delivers until ctx is cancelled: a pass at each window end and
// every Poll in between (flush requests, retries, digests). On return it
// gives its leases up.
func (w *Worker) Run(ctx context.Context) error {
	defer w.release(context.WithoutCancel(ctx))
	for {
		if err := w.Pass(ctx); err != nil && ctx.Err() == nil {
			w.log.Error("trail delivery pass", "err", err)
		}
		now := w.cfg.Now()
		wait := min(w.cfg.Poll, now.Truncate(w.cfg.Interval).Add(w.cfg.Interval).Sub(now))
		if w.cfg.Digests != nil {
			wait = min(wait, w.cfg.Digests.NextDue(now).Sub(now))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.cfg.After(max(wait, time.Millisecond)):
		}
	}
}

func (w *Worker) release(ctx context.Context) {
	trails, err := trail.All(ctx, w.cfg.DB)
	if err != nil {
		return
	}
	for _, t := range trails {
		if t.LeaseOwner == w.cfg.Owner {
			trail.ReleaseLease(ctx, w.cfg.DB, t.ID, w.cfg.Owner)
		}
	}
}

// Pass does every trail's due work once: deliveries (at a window's end,
// on a flush request, or a retry), notices and digests.
func (w *Worker) Pass(ctx context.Context) error {
	w.pass.Lock()
	defer w.pass.Unlock()
	trails, err := trail.All(ctx, w.cfg.DB)
	if err != nil {
		return err
	}
	var firstErr error
	for _, t := range trails {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := w.trail(ctx, t, false); err != nil && !errors.Is(err, trail.ErrLease) {
			if errors.Is(err, ErrCrash) {
				return err
			}
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return firstErr
}

// Flush delivers the trail's pending events now (lextrail trail flush),
// writes its due digests and sends its notices.
func (w *Worker) Flush(ctx context.Context, id string) error {
	w.pass.Lock()
	defer w.pass.Unlock()
	t, err := trail.Reload(ctx, w.cfg.DB, id)
	if err != nil {
		return err
	}
	return w.trail(ctx, t, true)
}

func (w *Worker) windowStart(now time.Time) int64 { return now.Truncate(w.cfg.Interval).UnixMilli() }

// trail does one trail's due work under its lease.
func (w *Worker) trail(ctx context.Context, t *trail.Trail, flush bool) error {
	now := w.cfg.Now()
	nowMs := now.UnixMilli()
	if t.LeaseOwner != w.cfg.Owner && t.LeaseUntilMs >= nowMs {
		return trail.ErrLease
	}
	pending, err := trail.PendingBatch(ctx, w.cfg.DB, t.ID)
	if err != nil {
		return err
	}
	deliver := flush || t.FlushMs != 0 || w.windowStart(now) > t.WindowMs || (pending != nil && pending.NextAttemptMs <= nowMs)
	notify := false
	if w.cfg.Notifier != nil {
		files, err := trail.Unnotified(ctx, w.cfg.DB, t.ID, 1)
		if err != nil {
			return err
		}
		notify = len(files) > 0 && w.due(w.notifyErr, t.ID, now)
	}
	digests := w.digestDue(t, now)
	if !deliver && !notify && !digests && !t.Deleted {
		return nil
	}
	ok, err := trail.AcquireLease(ctx, w.cfg.DB, t.ID, w.cfg.Owner, nowMs, nowMs+w.cfg.LeaseTTL.Milliseconds())
	if err != nil || !ok {
		if err == nil {
			err = trail.ErrLease
		}
		return err
	}
	var firstErr error
	keep := func(err error) error {
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return err
	}
	if deliver {
		if err := w.deliver(ctx, t, pending, flush || t.FlushMs != 0); errors.Is(err, ErrCrash) || errors.Is(err, trail.ErrLease) {
			return err
		} else {
			keep(err)
		}
	}
	if w.cfg.Notifier != nil {
		if err := w.notify(ctx, t); errors.Is(err, trail.ErrLease) {
			return err
		} else {
			keep(err)
		}
	}
	if t, err = trail.Reload(ctx, w.cfg.DB, t.ID); err != nil {
		return keep(err)
	}
	drained, err := w.drained(ctx, t)
	if err != nil {
		return keep(err)
	}
	closed := true
	if w.cfg.Digests != nil && (flush || w.digestDue(t, now)) && w.due(w.digestErr, t.ID, now) {
		closed, err = w.cfg.Digests.Step(ctx, t, w.cfg.Owner, drained)
		w.record(w.digestErr, t.ID, now, err)
		if errors.Is(err, trail.ErrLease) {
			return err
		}
		keep(err)
		if err == nil {
			w.mu.Lock()
			w.lastCheck[t.ID] = now.Truncate(w.cfg.Digests.Interval())
			if closed {
				w.settled[t.ID] = digestState(t)
			} else {
				delete(w.settled, t.ID)
			}
			w.mu.Unlock()
		}
	}
	if deliver && firstErr == nil {
		keep(trail.PruneFiles(ctx, w.cfg.DB, t.ID, now.Add(-w.cfg.FileRecord).UnixMilli()))
	}
	if t.Deleted && drained && closed && firstErr == nil {
		left, err := trail.Unnotified(ctx, w.cfg.DB, t.ID, 1)
		if err != nil {
			return keep(err)
		}
		if len(left) == 0 || w.cfg.Notifier == nil {
			return keep(trail.Purge(ctx, w.cfg.DB, t, w.cfg.Owner))
		}
	}
	return firstErr
}

// digestDue reports whether the trail may have a digest to write: it
// digests and a new digest interval began since the last look, or its
// digest state changed since its chains were last all closed (a chain
// begins or ends).
func (w *Worker) digestDue(t *trail.Trail, now time.Time) bool {
	if w.cfg.Digests == nil {
		return false
	}
	w.mu.Lock()
	last, settled := w.lastCheck[t.ID], w.settled[t.ID]
	w.mu.Unlock()
	if settled == digestState(t) {
		return false
	}
	digesting := t.Logging && t.Settings.Validation && !t.Deleted && t.DigestEpochMs != 0
	return !digesting || now.Truncate(w.cfg.Digests.Interval()).After(last)
}

func digestState(t *trail.Trail) string {
	return fmt.Sprint(t.Logging, t.Settings.Validation, t.Deleted, t.DigestEpochMs)
}

// drained reports whether every event the trail logged is in a committed
// log file: no batch pending, the cursor past the end of the last digest
// chain and, when not logging, past the last logging period.
func (w *Worker) drained(ctx context.Context, t *trail.Trail) (bool, error) {
	pending, err := trail.PendingBatch(ctx, w.cfg.DB, t.ID)
	if err != nil || pending != nil || t.CursorSeq < t.DigestCutSeq {
		return false, err
	}
	if t.Logging {
		return true, nil
	}
	var segs []trail.Segment
	err = w.cfg.DB.Read(ctx, func(tx *store.Tx) error {
		var err error
		segs, err = trail.Segments(ctx, tx, t.ID)
		return err
	})
	if err != nil {
		return false, err
	}
	if len(segs) == 0 {
		return true, nil
	}
	return t.CursorSeq >= segs[len(segs)-1].StopSeq, nil
}

// due reports whether a failing step's backoff has passed.
func (w *Worker) due(m map[string]failure, id string, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	f, ok := m[id]
	return !ok || !now.Before(f.next)
}

func (w *Worker) record(m map[string]failure, id string, now time.Time, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err == nil || errors.Is(err, trail.ErrLease) {
		delete(m, id)
		return
	}
	f := m[id]
	f.n++
	f.next = now.Add(w.backoff(int64(f.n)))
	m[id] = f
}

// backoff is the wait after the n-th consecutive failure.
func (w *Worker) backoff(n int64) time.Duration {
	d := w.cfg.MinBackoff
	for i := int64(1); i < n && d < w.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, w.cfg.MaxBackoff)
}

// code is the AWS error code a failure shows in GetTrailStatus.
func code(err error) string {
	var e *awserr.Error
	if errors.As(err, &e) && e.Client() {
		return e.Code
	}
	if errors.Is(err, objstore.ErrNoBucket) {
		return "NoSuchBucket"
	}
	return "InternalFailure"
}
