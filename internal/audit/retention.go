package audit

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

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
			// Lock the index state first: the indexer does not index
			// events while they are purged (index.go).
			var upto int64
			if err := tx.QueryRow(ctx, `UPDATE audit_index_state SET upto = upto WHERE id = 1 RETURNING upto`).Scan(&upto); err != nil {
				return err
			}
			rs, err := tx.Query(ctx, `SELECT seq, event_time_ms FROM events ORDER BY seq LIMIT $1`, p.cfg.BatchSize)
			if err != nil {
				return err
			}
			var seqs, indexed []string
			for rs.Next() {
				var seq, t int64
				if err := rs.Scan(&seq, &t); err != nil {
					rs.Close()
					return err
				}
				if t >= cutoff {
					break
				}
				s := strconv.FormatInt(seq, 10)
				seqs = append(seqs, s)
				if seq <= upto {
					indexed = append(indexed, s)
				}
			}
			rs.Close()
			if err := rs.Err(); err != nil {
				return err
			}
			if len(seqs) == 0 {
				return nil
			}
			pg := p.cfg.DB.Driver() == store.DriverPostgres
			// The sequence numbers are integers we just read: safe to
			// inline. An event's index entries are found by recomputing
			// their keys from its row.
			if len(indexed) > 0 {
				if _, err := tx.Exec(ctx, `DELETE FROM event_index WHERE (scope, attr, value, event_time_ms, seq) IN (`+
					entriesSQL(pg, `e.seq IN (`+strings.Join(indexed, ",")+`)`)+`)`); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, `DELETE FROM events WHERE seq IN (`+strings.Join(seqs, ",")+`)`); err != nil {
				return err
			}
			n = len(seqs)
			return nil
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
