package delivery

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"slices"

	"lextrail/internal/audit"
	"lextrail/internal/objstore"
	"lextrail/internal/policy"
	"lextrail/internal/store"
	"lextrail/internal/trail"
)

// deliver delivers the pending batch (when its retry is due) or plans and
// delivers new ones until the trail is caught up with the horizon.
func (w *Worker) deliver(ctx context.Context, t *trail.Trail, pending *trail.Batch, flush bool) error {
	now := w.cfg.Now()
	if pending != nil {
		if pending.NextAttemptMs > now.UnixMilli() {
			return nil
		}
		full, err := w.attempt(ctx, t, pending)
		if err != nil {
			return err
		}
		// The retried batch is out; what came since goes too if its
		// window is over.
		if !full && !flush && w.windowStart(now) <= t.WindowMs {
			return nil
		}
	}
	for {
		p, err := trail.PlanBatch(ctx, w.cfg.DB, t, w.cfg.Owner, now.UnixMilli(), w.windowStart(now), w.cfg.MaxBatchEvents)
		if err != nil || p.Batch == nil {
			return err
		}
		full, err := w.attempt(ctx, t, p.Batch)
		if err != nil || !full || p.Batch.SeqHi >= p.Horizon {
			return err
		}
		// A backlog: renew the lease and go on.
		if ok, err := trail.AcquireLease(ctx, w.cfg.DB, t.ID, w.cfg.Owner, now.UnixMilli(), w.cfg.Now().UnixMilli()+w.cfg.LeaseTTL.Milliseconds()); err != nil || !ok {
			if err == nil {
				err = trail.ErrLease
			}
			return err
		}
	}
}

// part is one log file being written.
type part struct {
	region         string
	no             int64
	buf            bytes.Buffer
	zw             *gzip.Writer
	sum            hash.Hash
	raw            int64
	events         int64
	oldest, newest int64
}

func (p *part) write(b []byte) {
	p.zw.Write(b) // a bytes.Buffer never fails
	p.sum.Write(b)
	p.raw += int64(len(b))
}

var (
	recordsOpen  = []byte(`{"Records":[`)
	recordsClose = []byte(`]}`)
	comma        = []byte(`,`)
)

// attempt delivers batch b: reads its events, writes its files, commits.
// full reports whether the batch was delivered and spanned the most
// events a batch may (there may be more to deliver right away).
func (w *Worker) attempt(ctx context.Context, t *trail.Trail, b *trail.Batch) (full bool, err error) {
	spec := &b.Spec
	var files []trail.File
	parts := map[string]*part{}
	next := map[string]int64{}
	put := func(p *part) error {
		p.write(recordsClose)
		if err := p.zw.Close(); err != nil {
			return err
		}
		f, err := w.put(ctx, t, b, p)
		if err != nil {
			return err
		}
		files = append(files, f)
		delete(parts, p.region)
		return nil
	}
	var cand trail.Candidate
	err = audit.ReadSeq(ctx, w.cfg.DB, spec.AccountID, b.SeqLo, b.SeqHi, 1000, func(ev *audit.SeqEvent) error {
		if !inSegments(spec.Segments, ev.Seq) || !spec.Settings.Covers(spec.HomeRegion, ev.Region, ev.EventSource) {
			return nil
		}
		cand.Reset(ev.Category, ev.EventSource, ev.EventName, ev.ReadOnly, ev.Record)
		if !spec.Settings.Selectors.Match(&cand) {
			return nil
		}
		p := parts[ev.Region]
		if p != nil && p.raw+int64(len(ev.Record))+int64(len(recordsClose))+1 > w.cfg.MaxFileBytes {
			if err := put(p); err != nil {
				return err
			}
			p = nil
		}
		if p == nil {
			p = &part{region: ev.Region, no: next[ev.Region], sum: sha256.New()}
			next[ev.Region]++
			p.zw, _ = gzip.NewWriterLevel(&p.buf, w.cfg.CompressionLevel)
			p.write(recordsOpen)
			parts[ev.Region] = p
		} else {
			p.write(comma)
		}
		p.write(ev.Record)
		p.events++
		if p.events == 1 || ev.TimeMs < p.oldest {
			p.oldest = ev.TimeMs
		}
		if ev.TimeMs > p.newest {
			p.newest = ev.TimeMs
		}
		return nil
	})
	if err == nil {
		regions := make([]string, 0, len(parts))
		for r := range parts {
			regions = append(regions, r)
		}
		slices.Sort(regions)
		for _, r := range regions {
			if err = put(parts[r]); err != nil {
				break
			}
		}
	}
	now := w.cfg.Now()
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		c := code(err)
		next := now.Add(w.backoff(b.Attempts + 1))
		w.log.Warn("trail delivery failed", "trail", t.ARN, "batch", b.No, "code", c, "retry_at", next, "err", err)
		if ferr := trail.FailBatch(ctx, w.cfg.DB, t, w.cfg.Owner, b, c, now.UnixMilli(), next.UnixMilli()); ferr != nil {
			return false, ferr
		}
		return false, err
	}
	if w.cfg.FailPoint != nil {
		if err := w.cfg.FailPoint("after-put"); err != nil {
			return false, err
		}
	}
	for i := range files {
		files[i].DeliveredMs = now.UnixMilli()
	}
	if err := trail.CommitBatch(ctx, w.cfg.DB, t, w.cfg.Owner, b, files, now.UnixMilli()); err != nil {
		return false, err
	}
	return b.SeqHi-b.SeqLo >= w.cfg.MaxBatchEvents, nil
}

func inSegments(segs []trail.Segment, seq int64) bool {
	for _, s := range segs {
		if s.Contains(seq) {
			return true
		}
	}
	return false
}

// put writes a finished part as the CloudTrail principal.
func (w *Worker) put(ctx context.Context, t *trail.Trail, b *trail.Batch, p *part) (trail.File, error) {
	spec := &b.Spec
	s := &spec.Settings
	key := trail.LogKey(s.Prefix, spec.AccountID, p.region, store.FromMillis(b.PlannedMs),
		trail.Unique(t.ID, spec.AccountID, p.region, b.No, p.no))
	principal := &policy.Principal{Service: trail.ServicePrincipal}
	cond := map[string][]string{
		"aws:sourcearn":     {spec.ARN},
		"aws:sourceaccount": {spec.AccountID},
		"s3:x-amz-acl":      {"bucket-owner-full-control"},
	}
	if err := w.cfg.Buckets.Authorize(ctx, s.Bucket, key, "s3:PutObject", principal, cond); err != nil {
		return trail.File{}, err
	}
	sse := objstore.SSE{Algorithm: "AES256"}
	if s.KmsKeyID != "" {
		if w.cfg.Keys != nil {
			if err := w.cfg.Keys.AuthorizeTrail(ctx, nil, s.KmsKeyID, spec.ARN, spec.AccountID, spec.HomeRegion); err != nil {
				return trail.File{}, err
			}
		}
		sse = objstore.SSE{Algorithm: "aws:kms", KMSKeyID: s.KmsKeyID}
	}
	if _, err := w.cfg.Buckets.Put(ctx, s.Bucket, key, bytes.NewReader(p.buf.Bytes()), objstore.PutOptions{ContentType: "application/json", Headers: objstore.Headers{ContentEncoding: "gzip"}, SSE: sse}); err != nil {
		return trail.File{}, err
	}
	f := trail.File{
		Bucket: s.Bucket, Key: key, Region: p.region, BatchNo: b.No, Events: p.events,
		Hash: hex.EncodeToString(p.sum.Sum(nil)), OldestMs: p.oldest, NewestMs: p.newest,
		TopicARN: s.SnsTopicARN, Notified: s.SnsTopicARN == "", DigestEpochMs: spec.DigestEpochMs,
	}
	return f, nil
}

// Notice is the SNS message of a delivered file (spec §2.7).
type Notice struct {
	S3Bucket    string   `json:"s3Bucket"`
	S3ObjectKey []string `json:"s3ObjectKey"`
}

// notify sends the notices of the trail's delivered files, one per file.
func (w *Worker) notify(ctx context.Context, t *trail.Trail) error {
	now := w.cfg.Now()
	if !w.due(w.notifyErr, t.ID, now) {
		return nil
	}
	for {
		files, err := trail.Unnotified(ctx, w.cfg.DB, t.ID, 100)
		if err != nil || len(files) == 0 {
			return err
		}
		for _, f := range files {
			msg, _ := json.Marshal(Notice{S3Bucket: f.Bucket, S3ObjectKey: []string{f.Key}})
			err := trail.Notify(ctx, w.cfg.DB, t, w.cfg.Owner, f, w.cfg.Now().UnixMilli(), func(tx *store.Tx) error {
				return w.cfg.Notifier.Publish(ctx, tx, f.TopicARN, string(msg), t.ARN, t.AccountID)
			})
			now = w.cfg.Now()
			if errors.Is(err, trail.ErrLease) {
				return err
			}
			w.record(w.notifyErr, t.ID, now, err)
			if err != nil {
				w.log.Warn("trail notice failed", "trail", t.ARN, "topic", f.TopicARN, "key", f.Key, "err", err)
				if ferr := trail.NotifyFailed(ctx, w.cfg.DB, t.ID, code(err), now.UnixMilli()); ferr != nil {
					return ferr
				}
				return err
			}
		}
		if len(files) < 100 {
			return nil
		}
	}
}
