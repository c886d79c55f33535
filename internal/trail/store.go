package trail

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"lextrail/internal/audit"
	"lextrail/internal/store"
)

// Errors of the store functions.
var (
	// ErrExists: a live trail of that name exists in the region.
	ErrExists = errors.New("trail: exists")
	// ErrNotFound: no such live trail.
	ErrNotFound = errors.New("trail: not found")
	// ErrLease: the worker no longer holds the trail's lease, or the
	// batch or digest it worked on was finished by another worker.
	ErrLease = errors.New("trail: lease lost")
)

// Querier is a transaction (or anything that answers a query).
type Querier interface {
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

const trailCols = `id, account_id, home_region, name, arn, config, tags, created_ms, deleted, logging, start_logging_ms, stop_logging_ms, digest_epoch_ms, digest_closing_ms, digest_cut_seq,
 cursor_seq, next_batch, window_ms, lease_owner, lease_until_ms, flush_ms,
 latest_delivery_ms, latest_delivery_attempt_ms, latest_delivery_error,
 latest_notification_ms, latest_notification_attempt_ms, latest_notification_error,
 latest_digest_ms, latest_digest_attempt_ms, latest_digest_error`

type scanner interface{ Scan(dest ...any) error }

func scanTrail(r scanner) (*Trail, error) {
	var t Trail
	var cfg, tags string
	st := &t.Status
	err := r.Scan(&t.ID, &t.AccountID, &t.HomeRegion, &t.Name, &t.ARN, &cfg, &tags, &t.CreatedMs, &t.Deleted, &t.Logging,
		&t.StartLoggingMs, &t.StopLoggingMs, &t.DigestEpochMs, &t.DigestClosingMs, &t.DigestCutSeq,
		&t.CursorSeq, &t.NextBatch, &t.WindowMs, &t.LeaseOwner, &t.LeaseUntilMs, &t.FlushMs,
		&st.LatestDeliveryMs, &st.LatestDeliveryAttemptMs, &st.LatestDeliveryError,
		&st.LatestNotificationMs, &st.LatestNotificationAttemptMs, &st.LatestNotificationError,
		&st.LatestDigestMs, &st.LatestDigestAttemptMs, &st.LatestDigestError)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(cfg), &t.Settings); err != nil {
		return nil, fmt.Errorf("trail %s: config: %w", t.ARN, err)
	}
	if err := json.Unmarshal([]byte(tags), &t.Tags); err != nil {
		return nil, fmt.Errorf("trail %s: tags: %w", t.ARN, err)
	}
	return &t, nil
}

func queryTrails(ctx context.Context, q Querier, where string, args ...any) ([]*Trail, error) {
	rows, err := q.Query(ctx, `SELECT `+trailCols+` FROM trails `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("trail: query: %w", err)
	}
	defer rows.Close()
	var out []*Trail
	for rows.Next() {
		t, err := scanTrail(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func oneTrail(ctx context.Context, q Querier, where string, args ...any) (*Trail, error) {
	t, err := scanTrail(q.QueryRow(ctx, `SELECT `+trailCols+` FROM trails `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("trail: query: %w", err)
	}
	return t, nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain data types are marshalled
	}
	return string(b)
}

// Insert stores a new trail (not logging).
func Insert(ctx context.Context, tx *store.Tx, t *Trail) error {
	if t.Tags == nil {
		t.Tags = []Tag{}
	}
	_, err := tx.Exec(ctx, `INSERT INTO trails (id, account_id, home_region, name, live_name, arn, multi_region, config, tags, created_ms)
 VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9)`,
		t.ID, t.AccountID, t.HomeRegion, t.Name, t.ARN, t.Settings.MultiRegion, mustJSON(t.Settings), mustJSON(t.Tags), t.CreatedMs)
	if store.IsUniqueViolation(err) {
		return ErrExists
	}
	if err != nil {
		return fmt.Errorf("trail: insert: %w", err)
	}
	t.NextBatch = 1
	return nil
}

// ByName returns the live trail named name with home region region.
func ByName(ctx context.Context, q Querier, account, region, name string) (*Trail, error) {
	return oneTrail(ctx, q, `WHERE account_id = $1 AND home_region = $2 AND live_name = $3 AND deleted = FALSE`, account, region, name)
}

// ByARN returns the live trail with that ARN.
func ByARN(ctx context.Context, q Querier, arn string) (*Trail, error) {
	return oneTrail(ctx, q, `WHERE arn = $1 AND deleted = FALSE`, arn)
}

// ByID returns a trail row, live or deleted.
func ByID(ctx context.Context, q Querier, id string) (*Trail, error) {
	return oneTrail(ctx, q, `WHERE id = $1`, id)
}

// ListAccount returns the account's live trails, by home region and name.
func ListAccount(ctx context.Context, q Querier, account string) ([]*Trail, error) {
	return queryTrails(ctx, q, `WHERE account_id = $1 AND deleted = FALSE ORDER BY home_region, name`, account)
}

// CountIn counts the account's live trails that apply to region (home
// there, or multi-region).
func CountIn(ctx context.Context, q Querier, account, region string) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM trails WHERE account_id = $1 AND deleted = FALSE AND (home_region = $2 OR multi_region = TRUE)`, account, region).Scan(&n)
	return n, err
}

// SaveSettings replaces a trail's settings. When validation is switched,
// it also moves the digest chain in the call's write transaction (whose
// own event is recorded next): enabling it while logging begins a new
// chain at nowMs; disabling it ends the current chain with the call's
// event.
func SaveSettings(ctx context.Context, tx *store.Tx, t *Trail, s Settings, nowMs int64) error {
	q := `UPDATE trails SET config = $2, multi_region = $3 WHERE id = $1 AND deleted = FALSE`
	args := []any{t.ID, mustJSON(s), s.MultiRegion}
	switch {
	case s.Validation && !t.Settings.Validation && t.Logging:
		q = `UPDATE trails SET config = $2, multi_region = $3, digest_epoch_ms = $4 WHERE id = $1 AND deleted = FALSE`
		args = append(args, nowMs)
	case !s.Validation && t.Settings.Validation:
		n, err := audit.LockSequence(ctx, tx)
		if err != nil {
			return err
		}
		q = `UPDATE trails SET config = $2, multi_region = $3, digest_epoch_ms = 0,
 digest_closing_ms = CASE WHEN digest_epoch_ms <> 0 THEN digest_epoch_ms ELSE digest_closing_ms END,
 digest_cut_seq = CASE WHEN digest_epoch_ms <> 0 THEN $4 ELSE digest_cut_seq END
 WHERE id = $1 AND deleted = FALSE`
		args = append(args, n+1)
	}
	res, err := tx.Exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("trail: update: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrNotFound
	}
	t.Settings = s
	return nil
}

// SetTags replaces a trail's tags.
func SetTags(ctx context.Context, tx *store.Tx, t *Trail, tags []Tag) error {
	if tags == nil {
		tags = []Tag{}
	}
	if _, err := tx.Exec(ctx, `UPDATE trails SET tags = $2 WHERE id = $1`, t.ID, mustJSON(tags)); err != nil {
		return fmt.Errorf("trail: tags: %w", err)
	}
	t.Tags = tags
	return nil
}

// StartLogging starts logging (idempotent). In tx, a write transaction
// that the call's own event is recorded in afterwards: the new logging
// period takes every event committed after tx, the StartLogging event
// itself included.
func StartLogging(ctx context.Context, tx *store.Tx, t *Trail, nowMs int64) error {
	n, err := audit.LockSequence(ctx, tx)
	if err != nil {
		return err
	}
	res, err := tx.Exec(ctx, `UPDATE trails SET logging = TRUE, start_logging_ms = $2,
 digest_epoch_ms = CASE WHEN $3 THEN $2 ELSE digest_epoch_ms END
 WHERE id = $1 AND logging = FALSE AND deleted = FALSE`, t.ID, nowMs, t.Settings.Validation)
	if err != nil {
		return fmt.Errorf("trail: start logging: %w", err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return nil // already logging
	}
	if _, err := tx.Exec(ctx, `INSERT INTO trail_segments (trail_id, start_after) VALUES ($1, $2)`, t.ID, n); err != nil {
		return fmt.Errorf("trail: start logging: %w", err)
	}
	t.Logging, t.StartLoggingMs = true, nowMs
	if t.Settings.Validation {
		t.DigestEpochMs = nowMs
	}
	return nil
}

// StopLogging stops logging (idempotent). Like StartLogging it runs in the
// call's write transaction; the logging period ends with the StopLogging
// event, which the gateway records next in tx.
func StopLogging(ctx context.Context, tx *store.Tx, t *Trail, nowMs int64) error {
	n, err := audit.LockSequence(ctx, tx)
	if err != nil {
		return err
	}
	// The digest chain (if any) ends with the StopLogging event too.
	res, err := tx.Exec(ctx, `UPDATE trails SET logging = FALSE, stop_logging_ms = $2,
 digest_closing_ms = CASE WHEN digest_epoch_ms <> 0 THEN digest_epoch_ms ELSE digest_closing_ms END,
 digest_cut_seq = CASE WHEN digest_epoch_ms <> 0 THEN $3 ELSE digest_cut_seq END
 WHERE id = $1 AND logging = TRUE`, t.ID, nowMs, n+1)
	if err != nil {
		return fmt.Errorf("trail: stop logging: %w", err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE trail_segments SET stop_seq = $2 WHERE trail_id = $1 AND stop_seq = 0`, t.ID, n+1); err != nil {
		return fmt.Errorf("trail: stop logging: %w", err)
	}
	t.Logging, t.StopLoggingMs = false, nowMs
	return nil
}

// Delete stops logging and marks the trail deleted: its name is free at
// once; the workers deliver what it logged, write its final digests and
// then drop it.
func Delete(ctx context.Context, tx *store.Tx, t *Trail, nowMs int64) error {
	if err := StopLogging(ctx, tx, t, nowMs); err != nil {
		return err
	}
	res, err := tx.Exec(ctx, `UPDATE trails SET deleted = TRUE, live_name = id WHERE id = $1 AND deleted = FALSE`, t.ID)
	if err != nil {
		return fmt.Errorf("trail: delete: %w", err)
	}
	if k, _ := res.RowsAffected(); k != 1 {
		return ErrNotFound
	}
	t.Deleted = true
	return nil
}

// RequestFlush asks the delivery worker to deliver the trail's pending
// events now rather than at the end of the window.
func RequestFlush(ctx context.Context, db *store.DB, id string, nowMs int64) error {
	return db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE trails SET flush_ms = $2 WHERE id = $1`, id, nowMs)
		return err
	})
}

// All returns every trail row (live and deleted), for the workers.
func All(ctx context.Context, db *store.DB) ([]*Trail, error) {
	var out []*Trail
	err := db.Read(ctx, func(tx *store.Tx) error {
		var err error
		out, err = queryTrails(ctx, tx, `ORDER BY id`)
		return err
	})
	return out, err
}

// Reload re-reads a trail row.
func Reload(ctx context.Context, db *store.DB, id string) (*Trail, error) {
	var t *Trail
	err := db.Read(ctx, func(tx *store.Tx) error {
		var err error
		t, err = ByID(ctx, tx, id)
		return err
	})
	return t, err
}

// AcquireLease gives owner the trail until untilMs if nobody else holds an
// unexpired lease (or owner already does).
func AcquireLease(ctx context.Context, db *store.DB, id, owner string, nowMs, untilMs int64) (bool, error) {
	var ok bool
	err := db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE trails SET lease_owner = $2, lease_until_ms = $3 WHERE id = $1 AND (lease_owner = $2 OR lease_until_ms < $4)`,
			id, owner, untilMs, nowMs)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		ok = n == 1
		return nil
	})
	return ok, err
}

// ReleaseLease gives the trail up.
func ReleaseLease(ctx context.Context, db *store.DB, id, owner string) error {
	return db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE trails SET lease_owner = '', lease_until_ms = 0 WHERE id = $1 AND lease_owner = $2`, id, owner)
		return err
	})
}

// holdLease fails with ErrLease unless owner holds the trail's lease.
func holdLease(ctx context.Context, tx *store.Tx, id, owner string) error {
	res, err := tx.Exec(ctx, `UPDATE trails SET lease_owner = lease_owner WHERE id = $1 AND lease_owner = $2`, id, owner)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrLease
	}
	return nil
}

// Segment is a logging period: events with StartAfter < seq <= StopSeq
// (StopSeq 0: open).
type Segment struct {
	StartAfter int64 `json:"startAfter"`
	StopSeq    int64 `json:"stopSeq,omitempty"`
}

// Contains reports whether seq falls in the period.
func (s Segment) Contains(seq int64) bool {
	return seq > s.StartAfter && (s.StopSeq == 0 || seq <= s.StopSeq)
}

// Segments returns a trail's logging periods, oldest first.
func Segments(ctx context.Context, q Querier, id string) ([]Segment, error) {
	rows, err := q.Query(ctx, `SELECT start_after, stop_seq FROM trail_segments WHERE trail_id = $1 ORDER BY start_after`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Segment
	for rows.Next() {
		var s Segment
		if err := rows.Scan(&s.StartAfter, &s.StopSeq); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Spec is what a delivery batch delivers, frozen when it is planned.
type Spec struct {
	AccountID  string    `json:"account"`
	HomeRegion string    `json:"home"`
	Name       string    `json:"name"`
	ARN        string    `json:"arn"`
	Settings   Settings  `json:"settings"`
	Segments   []Segment `json:"segments"`
	// DigestEpochMs is the digest chain the batch's files belong to.
	DigestEpochMs int64 `json:"digestEpoch"`
}

// Batch is a planned delivery: the events after SeqLo up to SeqHi.
type Batch struct {
	No            int64
	PlannedMs     int64
	SeqLo, SeqHi  int64
	Spec          Spec
	Attempts      int64
	NextAttemptMs int64
}

// PendingBatch returns the trail's batch in progress, or nil.
func PendingBatch(ctx context.Context, db *store.DB, id string) (*Batch, error) {
	var b *Batch
	err := db.Read(ctx, func(tx *store.Tx) error {
		var spec string
		var x Batch
		err := tx.QueryRow(ctx, `SELECT batch_no, planned_ms, seq_lo, seq_hi, spec, attempts, next_attempt_ms FROM trail_batches WHERE trail_id = $1 ORDER BY batch_no LIMIT 1`, id).
			Scan(&x.No, &x.PlannedMs, &x.SeqLo, &x.SeqHi, &spec, &x.Attempts, &x.NextAttemptMs)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(spec), &x.Spec); err != nil {
			return fmt.Errorf("trail: batch spec: %w", err)
		}
		b = &x
		return nil
	})
	return b, err
}

// Plan is the outcome of PlanBatch.
type Plan struct {
	Batch *Batch // nil when there was nothing to deliver
	// Horizon is the safe horizon read.
	Horizon int64
}

// PlanBatch plans the trail's next batch at nowMs: the events past the
// cursor up to the safe horizon (at most maxEvents sequence numbers),
// with the settings and logging periods frozen. windowMs is recorded as
// the window delivered. When no logging period reaches past the cursor it
// only moves the cursor and returns no batch.
func PlanBatch(ctx context.Context, db *store.DB, t *Trail, owner string, nowMs, windowMs, maxEvents int64) (Plan, error) {
	var p Plan
	err := db.Write(ctx, func(tx *store.Tx) error {
		p = Plan{}
		if err := holdLease(ctx, tx, t.ID, owner); err != nil {
			return err
		}
		cur, err := ByID(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		h, err := audit.Horizon(ctx, tx)
		if err != nil {
			return err
		}
		p.Horizon = h
		segs, err := Segments(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		lo := cur.CursorSeq
		// Skip what no logging period covers: up to the next period's
		// start, or the horizon when none reaches past the cursor.
		next := h
		for _, s := range segs {
			if s.StopSeq != 0 && s.StopSeq <= lo {
				continue
			}
			next = min(next, max(lo, s.StartAfter))
			break
		}
		if next > lo {
			if _, err := tx.Exec(ctx, `UPDATE trails SET cursor_seq = $2 WHERE id = $1 AND cursor_seq = $3`, t.ID, next, lo); err != nil {
				return err
			}
			lo = next
		}
		if lo >= h {
			_, err := tx.Exec(ctx, `UPDATE trails SET window_ms = $2, flush_ms = CASE WHEN flush_ms <= $3 THEN 0 ELSE flush_ms END WHERE id = $1`, t.ID, windowMs, nowMs)
			return err
		}
		hi := h
		if maxEvents > 0 && hi-lo > maxEvents {
			hi = lo + maxEvents
		}
		// The events up to a digest chain's end belong to that chain: a
		// batch stops at the cut, and its files carry the ended chain's
		// epoch.
		epoch := cur.DigestEpochMs
		if lo < cur.DigestCutSeq {
			hi = min(hi, cur.DigestCutSeq)
			epoch = cur.DigestClosingMs
		}
		b := &Batch{No: cur.NextBatch, PlannedMs: nowMs, SeqLo: lo, SeqHi: hi, Spec: Spec{
			AccountID: cur.AccountID, HomeRegion: cur.HomeRegion, Name: cur.Name, ARN: cur.ARN,
			Settings: cur.Settings, Segments: segs, DigestEpochMs: epoch,
		}}
		if _, err := tx.Exec(ctx, `INSERT INTO trail_batches (trail_id, batch_no, planned_ms, seq_lo, seq_hi, spec) VALUES ($1, $2, $3, $4, $5, $6)`,
			t.ID, b.No, b.PlannedMs, b.SeqLo, b.SeqHi, mustJSON(b.Spec)); err != nil {
			return fmt.Errorf("trail: plan: %w", err)
		}
		res, err := tx.Exec(ctx, `UPDATE trails SET next_batch = next_batch + 1, window_ms = $3, flush_ms = CASE WHEN flush_ms <= $4 THEN 0 ELSE flush_ms END WHERE id = $1 AND next_batch = $2`,
			t.ID, b.No, windowMs, nowMs)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrLease
		}
		p.Batch = b
		return nil
	})
	return p, err
}

// File is a delivered log file.
type File struct {
	Bucket, Key, Region string
	BatchNo             int64
	Events              int64
	Hash                string
	OldestMs, NewestMs  int64
	DeliveredMs         int64
	TopicARN            string
	Notified            bool
	DigestEpochMs       int64
	DigestEndMs         int64
}

// CommitBatch records a delivered batch: its files, the cursor at the
// batch's end and the delivery status, in one transaction, if owner still
// holds the lease and the batch is still pending (else ErrLease).
func CommitBatch(ctx context.Context, db *store.DB, t *Trail, owner string, b *Batch, files []File, nowMs int64) error {
	return db.Write(ctx, func(tx *store.Tx) error {
		if err := holdLease(ctx, tx, t.ID, owner); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `DELETE FROM trail_batches WHERE trail_id = $1 AND batch_no = $2`, t.ID, b.No)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrLease
		}
		for _, f := range files {
			if _, err := tx.Exec(ctx, `INSERT INTO trail_files (trail_id, bucket, object_key, region, batch_no, events, hash, oldest_ms, newest_ms, delivered_ms, topic_arn, notified, digest_epoch_ms)
 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
				t.ID, f.Bucket, f.Key, f.Region, f.BatchNo, f.Events, f.Hash, f.OldestMs, f.NewestMs, f.DeliveredMs, f.TopicARN, f.Notified, f.DigestEpochMs); err != nil {
				return fmt.Errorf("trail: record file: %w", err)
			}
		}
		q := `UPDATE trails SET cursor_seq = $2 WHERE id = $1 AND cursor_seq = $3`
		if len(files) > 0 {
			q = `UPDATE trails SET cursor_seq = $2, latest_delivery_ms = $4, latest_delivery_attempt_ms = $4, latest_delivery_error = '' WHERE id = $1 AND cursor_seq = $3`
		}
		args := []any{t.ID, b.SeqHi, b.SeqLo}
		if len(files) > 0 {
			args = append(args, nowMs)
		}
		res, err = tx.Exec(ctx, q, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("trail: cursor of %s moved under batch %d", t.ARN, b.No)
		}
		return nil
	})
}

// FailBatch records a failed delivery attempt: the error code in the
// status and when to try again.
func FailBatch(ctx context.Context, db *store.DB, t *Trail, owner string, b *Batch, code string, nowMs, nextMs int64) error {
	return db.Write(ctx, func(tx *store.Tx) error {
		if err := holdLease(ctx, tx, t.ID, owner); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE trail_batches SET attempts = attempts + 1, next_attempt_ms = $3 WHERE trail_id = $1 AND batch_no = $2`, t.ID, b.No, nextMs); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE trails SET latest_delivery_attempt_ms = $2, latest_delivery_error = $3 WHERE id = $1`, t.ID, nowMs, code)
		return err
	})
}

const fileCols = `bucket, object_key, region, batch_no, events, hash, oldest_ms, newest_ms, delivered_ms, topic_arn, notified, digest_epoch_ms, digest_end_ms`

func queryFiles(ctx context.Context, q Querier, where string, args ...any) ([]File, error) {
	rows, err := q.Query(ctx, `SELECT `+fileCols+` FROM trail_files `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []File
	for rows.Next() {
		var f File
		if err := rows.Scan(&f.Bucket, &f.Key, &f.Region, &f.BatchNo, &f.Events, &f.Hash, &f.OldestMs, &f.NewestMs, &f.DeliveredMs,
			&f.TopicARN, &f.Notified, &f.DigestEpochMs, &f.DigestEndMs); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// Files returns a trail's delivery record, oldest first.
func Files(ctx context.Context, db *store.DB, id string) ([]File, error) {
	var out []File
	err := db.Read(ctx, func(tx *store.Tx) error {
		var err error
		out, err = queryFiles(ctx, tx, `WHERE trail_id = $1 ORDER BY delivered_ms, batch_no, object_key`, id)
		return err
	})
	return out, err
}

// Unnotified returns up to limit files whose SNS notice has not gone out.
func Unnotified(ctx context.Context, db *store.DB, id string, limit int) ([]File, error) {
	var out []File
	err := db.Read(ctx, func(tx *store.Tx) error {
		var err error
		out, err = queryFiles(ctx, tx, `WHERE trail_id = $1 AND notified = FALSE ORDER BY delivered_ms, batch_no, object_key LIMIT $2`, id, int64(limit))
		return err
	})
	return out, err
}

// Notify sends a file's notice with send, in the transaction that
// records it as sent (send queues the message in tx): the notice goes out
// once, and only if the record commits.
func Notify(ctx context.Context, db *store.DB, t *Trail, owner string, f File, nowMs int64, send func(*store.Tx) error) error {
	return db.Write(ctx, func(tx *store.Tx) error {
		if err := holdLease(ctx, tx, t.ID, owner); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE trail_files SET notified = TRUE WHERE trail_id = $1 AND bucket = $2 AND object_key = $3 AND notified = FALSE`, t.ID, f.Bucket, f.Key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrLease // another worker sent it
		}
		if err := send(tx); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE trails SET latest_notification_ms = $2, latest_notification_attempt_ms = $2, latest_notification_error = '' WHERE id = $1`, t.ID, nowMs)
		return err
	})
}

// NotifyFailed records a failed notice.
func NotifyFailed(ctx context.Context, db *store.DB, id, code string, nowMs int64) error {
	return db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE trails SET latest_notification_attempt_ms = $2, latest_notification_error = $3 WHERE id = $1`, id, nowMs, code)
		return err
	})
}

// Chain is a digest chain of one trail and source region.
type Chain struct {
	Region        string
	EpochMs       int64
	Closed        bool
	LastEndMs     int64
	LastBucket    string
	LastKey       string
	LastHash      string
	LastSignature string
	PendingEndMs  int64
	PendingBucket string
	PendingKey    string
	PendingFinal  bool
}

// Chains returns a trail's digest chains by region.
func Chains(ctx context.Context, db *store.DB, id string) (map[string]*Chain, error) {
	out := map[string]*Chain{}
	err := db.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT region, epoch_ms, closed, last_end_ms, last_bucket, last_key, last_hash, last_signature, pending_end_ms, pending_bucket, pending_key, pending_final FROM trail_chains WHERE trail_id = $1`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c Chain
			if err := rows.Scan(&c.Region, &c.EpochMs, &c.Closed, &c.LastEndMs, &c.LastBucket, &c.LastKey, &c.LastHash, &c.LastSignature,
				&c.PendingEndMs, &c.PendingBucket, &c.PendingKey, &c.PendingFinal); err != nil {
				return err
			}
			out[c.Region] = &c
		}
		return rows.Err()
	})
	return out, err
}

// FileRegions returns the regions of a trail's files that belong to the
// digest chain epoch and are not digested yet.
func FileRegions(ctx context.Context, db *store.DB, id string, epochMs int64) ([]string, error) {
	var out []string
	err := db.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT DISTINCT region FROM trail_files WHERE trail_id = $1 AND digest_epoch_ms = $2 AND digest_end_ms = 0 ORDER BY region`, id, epochMs)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r string
			if err := rows.Scan(&r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}

// OpenChain starts the region's digest chain for epoch (a new chain
// replaces a closed one; an open chain is left alone).
func OpenChain(ctx context.Context, db *store.DB, t *Trail, owner, region string, epochMs int64) error {
	return db.Write(ctx, func(tx *store.Tx) error {
		if err := holdLease(ctx, tx, t.ID, owner); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO trail_chains (trail_id, region, epoch_ms) VALUES ($1, $2, $3)
 ON CONFLICT (trail_id, region) DO UPDATE SET epoch_ms = $3, closed = FALSE, last_end_ms = 0, last_bucket = '', last_key = '', last_hash = '', last_signature = '',
 pending_end_ms = 0, pending_bucket = '', pending_key = '', pending_final = FALSE
 WHERE trail_chains.closed = TRUE`, t.ID, region, epochMs)
		return err
	})
}

// ClaimDigest plans the region's next digest (ending at endMs, stored at
// bucket/key): every not yet digested file of the chain's epoch is
// assigned to it. A retry rebuilds the same digest from the same files.
func ClaimDigest(ctx context.Context, db *store.DB, t *Trail, owner string, c *Chain, endMs int64, bucket, key string, final bool) error {
	return db.Write(ctx, func(tx *store.Tx) error {
		if err := holdLease(ctx, tx, t.ID, owner); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE trail_chains SET pending_end_ms = $3, pending_bucket = $4, pending_key = $5, pending_final = $6
 WHERE trail_id = $1 AND region = $2 AND pending_end_ms = 0 AND closed = FALSE AND epoch_ms = $7`,
			t.ID, c.Region, endMs, bucket, key, final, c.EpochMs)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrLease
		}
		_, err = tx.Exec(ctx, `UPDATE trail_files SET digest_end_ms = $4 WHERE trail_id = $1 AND region = $2 AND digest_epoch_ms = $3 AND digest_end_ms = 0`,
			t.ID, c.Region, c.EpochMs, endMs)
		if err != nil {
			return err
		}
		c.PendingEndMs, c.PendingBucket, c.PendingKey, c.PendingFinal = endMs, bucket, key, final
		return nil
	})
}

// DigestFiles returns the files assigned to a digest, in delivery order.
func DigestFiles(ctx context.Context, db *store.DB, id string, c *Chain) ([]File, error) {
	var out []File
	err := db.Read(ctx, func(tx *store.Tx) error {
		var err error
		out, err = queryFiles(ctx, tx, `WHERE trail_id = $1 AND region = $2 AND digest_epoch_ms = $3 AND digest_end_ms = $4 ORDER BY delivered_ms, batch_no, object_key`,
			id, c.Region, c.EpochMs, c.PendingEndMs)
		return err
	})
	return out, err
}

// CommitDigest records the pending digest as written: it becomes the
// chain's last (the chain closes after a final digest).
func CommitDigest(ctx context.Context, db *store.DB, t *Trail, owner string, c *Chain, hash, signature string, nowMs int64) error {
	return db.Write(ctx, func(tx *store.Tx) error {
		if err := holdLease(ctx, tx, t.ID, owner); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE trail_chains SET last_end_ms = pending_end_ms, last_bucket = pending_bucket, last_key = pending_key,
 last_hash = $4, last_signature = $5, closed = pending_final, pending_end_ms = 0, pending_bucket = '', pending_key = '', pending_final = FALSE
 WHERE trail_id = $1 AND region = $2 AND pending_end_ms = $3`, t.ID, c.Region, c.PendingEndMs, hash, signature)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrLease
		}
		_, err = tx.Exec(ctx, `UPDATE trails SET latest_digest_ms = $2, latest_digest_attempt_ms = $2, latest_digest_error = '' WHERE id = $1`, t.ID, nowMs)
		return err
	})
}

// DigestFailed records a failed digest delivery.
func DigestFailed(ctx context.Context, db *store.DB, id, code string, nowMs int64) error {
	return db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE trails SET latest_digest_attempt_ms = $2, latest_digest_error = $3 WHERE id = $1`, id, nowMs, code)
		return err
	})
}

// PruneFiles forgets the delivery record of files delivered before
// beforeMs whose notice went out and that a digest lists (or none will).
func PruneFiles(ctx context.Context, db *store.DB, id string, beforeMs int64) error {
	return db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM trail_files WHERE trail_id = $1 AND notified = TRUE AND delivered_ms < $2 AND (digest_end_ms <> 0 OR digest_epoch_ms = 0)`, id, beforeMs)
		return err
	})
}

// Purge removes a deleted trail whose work is done, with its state.
func Purge(ctx context.Context, db *store.DB, t *Trail, owner string) error {
	return db.Write(ctx, func(tx *store.Tx) error {
		if err := holdLease(ctx, tx, t.ID, owner); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM trail_segments WHERE trail_id = $1`,
			`DELETE FROM trail_batches WHERE trail_id = $1`,
			`DELETE FROM trail_files WHERE trail_id = $1`,
			`DELETE FROM trail_chains WHERE trail_id = $1`,
			`DELETE FROM trails WHERE id = $1 AND deleted = TRUE`,
		} {
			if _, err := tx.Exec(ctx, q, t.ID); err != nil {
				return err
			}
		}
		return nil
	})
}
