package audit

import (
	"context"
	"fmt"

	"lextrail/internal/store"
)

// Reading the history by sequence, for trail delivery.
//
// Insert takes sequence numbers from audit_counter inside the inserting
// transaction, and on PostgreSQL the counter row stays locked until that
// transaction commits; so a transaction holding number s commits before
// any transaction that takes a number after s. Two consequences make a
// cursor safe:
//
//   - Horizon (the counter's committed value) is a safe horizon: every
//     event with a sequence number at or below it has committed, and no
//     event at or below it can commit later. A reader that delivers up to
//     the horizon it read never skips a late commit.
//   - LockSequence, called in a write transaction, returns the counter
//     and holds the lock until commit: every event of a transaction that
//     commits before this one has a number at or below it, every later
//     one a number above it. Trails use it to mark where logging started
//     and stopped in sequence terms.
//
// Sequence numbers have no gaps (a rolled-back transaction rolls its
// counter update back too) except where the retention purge deleted
// events.

// Horizon returns the highest sequence number whose event has committed,
// read in tx.
func Horizon(ctx context.Context, tx *store.Tx) (int64, error) {
	var n int64
	if err := tx.QueryRow(ctx, `SELECT n FROM audit_counter WHERE id = 1`).Scan(&n); err != nil {
		return 0, fmt.Errorf("audit: horizon: %w", err)
	}
	return n, nil
}

// LockSequence returns the sequence number of the last event committed
// before tx (a write transaction) and locks the counter until tx ends:
// events inserted later in tx itself get the numbers right after it.
func LockSequence(ctx context.Context, tx *store.Tx) (int64, error) {
	var n int64
	if err := tx.QueryRow(ctx, `UPDATE audit_counter SET n = n WHERE id = 1 RETURNING n`).Scan(&n); err != nil {
		return 0, fmt.Errorf("audit: lock sequence: %w", err)
	}
	return n, nil
}

// SeqEvent is an event read by sequence.
type SeqEvent struct {
	Seq         int64
	AccountID   string
	Region      string
	TimeMs      int64
	Category    string
	ReadOnly    bool
	EventName   string
	EventSource string
	Record      []byte

	recOff, recLen int
}

// ReadSeq calls fn for the events of account with after < seq <= upto, in
// sequence order. It reads pages of at most page events, each in a read
// transaction of its own, and calls fn for a page's events after its
// transaction ended (fn may be slow). fn's event, and its Record, are
// valid only during the call. account "" reads every account.
func ReadSeq(ctx context.Context, db *store.DB, account string, after, upto int64, page int, fn func(*SeqEvent) error) error {
	if page <= 0 {
		page = 1000
	}
	q := `SELECT seq, account_id, region, event_time_ms, category, read_only, event_name, event_source, record FROM events WHERE seq > $1 AND seq <= $2`
	args := []any{after, upto, int64(page)}
	if account != "" {
		q += ` AND account_id = $4`
		args = append(args, account)
	}
	q += ` ORDER BY seq LIMIT $3`
	evs := make([]SeqEvent, 0, page)
	var arena []byte
	var ro string
	var rec []byte
	for after < upto {
		args[0] = after
		evs, arena = evs[:0], arena[:0]
		err := db.Read(ctx, func(tx *store.Tx) error {
			rows, err := tx.Query(ctx, q, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var ev SeqEvent
				if err := rows.Scan(&ev.Seq, &ev.AccountID, &ev.Region, &ev.TimeMs, &ev.Category, &ro, &ev.EventName, &ev.EventSource, &rec); err != nil {
					return err
				}
				ev.ReadOnly = ro == "true"
				// Records are copied into one arena per page; offsets
				// become slices once the page is complete (the arena
				// may move while it grows).
				ev.Record = nil
				ev.recOff, ev.recLen = len(arena), len(rec)
				arena = append(arena, rec...)
				evs = append(evs, ev)
			}
			return rows.Err()
		})
		if err != nil {
			return fmt.Errorf("audit: read by sequence: %w", err)
		}
		for i := range evs {
			ev := &evs[i]
			ev.Record = arena[ev.recOff : ev.recOff+ev.recLen : ev.recOff+ev.recLen]
			if err := fn(ev); err != nil {
				return err
			}
			after = ev.Seq
		}
		if len(evs) < page {
			return nil
		}
	}
	return nil
}
