package audit

import (
	"context"
	"fmt"

	"lextrail/internal/store"
)

// Reading the history by sequence, for trail delivery.
//
// Insert takes sequence numbers from audit_counter inside the inserting
// transaction (on SQLite, whose single writer needs no lock, after the
// highest stored one), and on PostgreSQL the counter row stays locked until that
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
	if err := tx.QueryRow(ctx, horizonSQL).Scan(&n); err != nil {
		return 0, fmt.Errorf("audit: horizon: %w", err)
	}
	return n, nil
}

// horizonSQL reads the horizon on either driver: on PostgreSQL the
// counter (every committed event is at or below it), on SQLite, where
// Insert takes numbers after the highest stored one and leaves the
// counter alone (storage.go), the greater of the highest stored sequence
// number and the counter (which keeps the highest number the purge
// deleted, and the numbering of histories written before).
const horizonSQL = `SELECT MAX(x) FROM (SELECT MAX(seq) AS x FROM events UNION ALL SELECT n FROM audit_counter WHERE id = 1) h`

// LockSequence returns the sequence number of the last event committed
// before tx (a write transaction) and locks the counter until tx ends:
// events inserted later in tx itself get the numbers right after it.
// (On SQLite a write transaction excludes every other writer anyway.)
func LockSequence(ctx context.Context, tx *store.Tx) (int64, error) {
	if _, err := tx.Exec(ctx, `UPDATE audit_counter SET n = n WHERE id = 1`); err != nil {
		return 0, fmt.Errorf("audit: lock sequence: %w", err)
	}
	n, err := Horizon(ctx, tx)
	if err != nil {
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
// transaction of its own, one page ahead of fn (reading and fn's work
// overlap on two cores), and calls fn outside any transaction (fn may be
// slow). fn's event, and its Record, are valid only during the call.
// account "" reads every account.
func ReadSeq(ctx context.Context, db *store.DB, account string, after, upto int64, page int, fn func(*SeqEvent) error) error {
	if page <= 0 {
		page = 1000
	}
	ctx, cancel := context.WithCancel(ctx)
	pages := make(chan *seqPage, 1)
	free := make(chan *seqPage, 2)
	go func() {
		defer close(pages)
		cur := after
		for cur < upto {
			var p *seqPage
			select {
			case p = <-free:
			default:
				p = &seqPage{evs: make([]SeqEvent, 0, page)}
			}
			p.read(ctx, db, account, cur, upto, page)
			select {
			case pages <- p:
			case <-ctx.Done():
				return
			}
			if p.err != nil || p.n < page {
				return
			}
			cur = p.last
		}
	}()
	finish := func(err error) error {
		cancel()
		for range pages { // let the reader end before returning
		}
		return err
	}
	for p := range pages {
		if p.err != nil {
			return finish(fmt.Errorf("audit: read by sequence: %w", p.err))
		}
		for i := range p.evs {
			ev := &p.evs[i]
			ev.Record = p.arena[ev.recOff : ev.recOff+ev.recLen : ev.recOff+ev.recLen]
			if err := fn(ev); err != nil {
				return finish(err)
			}
		}
		select {
		case free <- p:
		default:
		}
	}
	return finish(nil)
}

// seqPage is one page of ReadSeq.
type seqPage struct {
	evs   []SeqEvent
	arena []byte
	n     int   // rows read (all accounts)
	last  int64 // last sequence number read
	err   error
}

// The account is filtered in Go, not in SQL: with it in the WHERE clause
// SQLite picked the (account, region, ...) index and sorted every event of
// the account for each page; the sequence range on the primary key is what
// bounds the work.
const readSeqSQL = `SELECT seq, account_id, region, event_time_ms, category, read_only, event_name, event_source, record FROM events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3`

func (p *seqPage) read(ctx context.Context, db *store.DB, account string, after, upto int64, page int) {
	p.evs, p.arena, p.n, p.last, p.err = p.evs[:0], p.arena[:0], 0, after, nil
	var ro string
	var rec []byte
	p.err = db.Read(ctx, func(tx *store.Tx) error {
		// Records in blocks (SQLite only: a PostgreSQL connection could not
		// run the block query while these rows are open) are read as met.
		br := blockReader{tx: tx}
		rows, err := tx.Query(ctx, readSeqSQL, after, upto, int64(page))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ev SeqEvent
			if err := rows.Scan(&ev.Seq, &ev.AccountID, &ev.Region, &ev.TimeMs, &ev.Category, &ro, &ev.EventName, &ev.EventSource, &rec); err != nil {
				return err
			}
			p.n++
			p.last = ev.Seq
			if account != "" && ev.AccountID != account {
				continue
			}
			ev.ReadOnly = ro == "true"
			// Records are copied into one arena per page; offsets become
			// slices once the page is complete (the arena moves while it
			// grows).
			if rec, err = br.record(ctx, ev.Seq, rec); err != nil {
				return err
			}
			ev.recOff, ev.recLen = len(p.arena), len(rec)
			p.arena = append(p.arena, rec...)
			p.evs = append(p.evs, ev)
		}
		return rows.Err()
	})
}
