package audit

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"lextrail/internal/store"
)

// DefaultRetention is how long event history is kept (CloudTrail: 90 days).
const DefaultRetention = 90 * 24 * time.Hour

// RetentionConfig configures a Purger. DB is required.
type RetentionConfig struct {
	DB *store.DB
	// Retention is how long events are kept. Default DefaultRetention.
	Retention time.Duration
	// Interval is the pause between purge passes. Default 1 minute.
	Interval time.Duration
	// BatchSize is the number of events deleted per transaction. Default 1000.
	BatchSize int
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// After is the timer (tests replace it). Default time.After.
	After func(time.Duration) <-chan time.Time
}

// Purger deletes events older than the retention period, in bounded
// batches, oldest sequence first. Several nodes may run one: deletes are
// idempotent.
type Purger struct{ cfg RetentionConfig }

// NewPurger returns a Purger.
func NewPurger(cfg RetentionConfig) *Purger {
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	return &Purger{cfg: cfg}
}

// Run purges every Interval until ctx is cancelled.
func (p *Purger) Run(ctx context.Context) error {
	for {
		if _, err := p.PurgeOnce(ctx); err != nil && ctx.Err() == nil {
			p.cfg.Logger.Error("audit: purging expired events", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.cfg.After(p.cfg.Interval):
		}
	}
}

// PurgeOnce deletes every expired event, one batch per transaction, and
// returns how many it deleted. Events are visited in sequence order (which
// follows time) and the pass stops at the first one still retained.
func (p *Purger) PurgeOnce(ctx context.Context) (int, error) {
	cutoff := p.cfg.Now().Add(-p.cfg.Retention).UnixMilli()
	total := 0
	for ctx.Err() == nil {
		var n int
		err := p.cfg.DB.Write(ctx, func(tx *store.Tx) error {
			var err error
			n, err = purgeBatch(ctx, p.cfg.DB, tx, cutoff, p.cfg.BatchSize)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("audit: purge: %w", err)
		}
		total += n
		if n < p.cfg.BatchSize {
			break
		}
	}
	return total, ctx.Err()
}

// purgeBatch deletes, in tx, up to batch events older than cutoff (ms),
// lowest sequence first, stopping at the first event still retained, with
// their index entries, and returns how many it deleted. The deleted events
// are always a prefix of the sequence: audit_index_state.purged records
// its end, and lookups skip what posting rows still list below it.
func purgeBatch(ctx context.Context, db *store.DB, tx *store.Tx, cutoff int64, batch int) (int, error) {
	// Lock the index state first: the indexer does not index events while
	// they are purged (index.go).
	var upto, purged int64
	if err := tx.QueryRow(ctx, `UPDATE audit_index_state SET upto = upto WHERE id = 1 RETURNING upto, purged`).Scan(&upto, &purged); err != nil {
		return 0, err
	}
	rs, err := tx.Query(ctx, `SELECT category, `+eventColumnsIndexed+` FROM events ORDER BY seq LIMIT $1`, batch)
	if err != nil {
		return 0, err
	}
	var seqs []string
	var indexed []indexedEvent
	var last int64
	var ev indexedEvent
	var category string
	var res []byte
	args := append([]any{&category}, ev.scanArgs(&res)...)
	for rs.Next() {
		res = res[:0]
		if err := rs.Scan(args...); err != nil {
			rs.Close()
			return 0, err
		}
		if ev.t >= cutoff {
			break
		}
		seqs = append(seqs, strconv.FormatInt(ev.seq, 10))
		last = ev.seq
		if ev.seq <= upto && category == CategoryManagement {
			ev.resources = string(res)
			indexed = append(indexed, ev)
		}
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return 0, err
	}
	if len(seqs) == 0 {
		return 0, nil
	}
	// The posting rows that end at or below last are deleted; a row that
	// also lists later events stays (lookups skip its purged entries) until
	// the purge of its newest event. A row holding an event of time t has
	// t <= max_t < t + postingSpan: per key, the rows to look at are those
	// with max_t in [its oldest purged time, its newest + postingSpan).
	if len(indexed) > 0 {
		scopes, err := loadScopes(ctx, tx)
		if err != nil {
			return 0, err
		}
		type span struct{ lo, hi int64 }
		type key struct {
			scope int64
			attrValue
		}
		spans := map[key]span{}
		var keys []key
		var vals []attrValue
		ids := make([]byte, 0, 64*len(indexed))
		ids = append(ids, '[')
		for i := range indexed {
			ev := &indexed[i]
			scope, ok := scopes[[2]string{ev.account, ev.region}]
			if !ok {
				continue // never indexed
			}
			if vals, err = ev.values(vals[:0]); err != nil {
				return 0, err
			}
			for _, v := range vals {
				k := key{scope, v}
				if s, ok := spans[k]; ok {
					spans[k] = span{min(s.lo, ev.t), max(s.hi, ev.t)}
				} else {
					spans[k] = span{ev.t, ev.t}
					keys = append(keys, k)
				}
			}
			if len(ids) > 1 {
				ids = append(ids, ',')
			}
			ids = appendString(ids, ev.id)
		}
		ids = append(ids, ']')
		for _, k := range keys {
			s := spans[k]
			if _, err := tx.Exec(ctx, `DELETE FROM event_postings WHERE scope = $1 AND attr = $2 AND value = $3 AND max_t >= $4 AND max_t < $5 AND max_seq <= $6`,
				k.scope, string(k.code), k.value, s.lo, s.hi+postingSpan, last); err != nil {
				return 0, err
			}
		}
		pg := db.Driver() == store.DriverPostgres
		if _, err := tx.Exec(ctx, `DELETE FROM event_ids WHERE event_id IN (SELECT value`+jsonScalars(pg)+`) AND seq <= $2`,
			unsafe.String(unsafe.SliceData(ids), len(ids)), last); err != nil {
			return 0, err
		}
	}
	// The sequence numbers are integers we just read: safe to inline.
	if _, err := tx.Exec(ctx, `DELETE FROM events WHERE seq IN (`+strings.Join(seqs, ",")+`)`); err != nil {
		return 0, err
	}
	// A block goes with its last event (the deleted events are a prefix).
	if _, err := tx.Exec(ctx, `DELETE FROM event_blocks WHERE last_seq <= $1`, last); err != nil {
		return 0, err
	}
	if last > purged {
		if _, err := tx.Exec(ctx, `UPDATE audit_index_state SET purged = $1 WHERE id = 1`, last); err != nil {
			return 0, err
		}
	}
	// On SQLite the horizon is the highest stored number (cursor.go): keep
	// the deleted ones' in the counter, in case none is left. (PostgreSQL's
	// counter is above every event already; its row lock is the writers'.)
	if db.Driver() != store.DriverPostgres {
		if _, err := tx.Exec(ctx, `UPDATE audit_counter SET n = $1 WHERE id = 1 AND n < $1`, last); err != nil {
			return 0, err
		}
	}
	return len(seqs), nil
}

// jsonScalars is the FROM clause that expands the JSON array of strings
// $1 into rows with a text column "value".
func jsonScalars(pg bool) string {
	if pg {
		return ` FROM json_array_elements_text($1::json) AS j(value)`
	}
	return ` FROM json_each($1) AS j`
}
