package lexmodels

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"lextrail/internal/store"
)

// UtteranceStats owns the utterance statistics behind GetUtterancesView
// (table lex_utterance_stats, migration 0852): the runtime hands it every
// recorded turn (Add) after the turn committed, and it adds them up in
// memory and writes them about once a FlushInterval, one upsert per
// distinct (bot version, detected/missed, utterance, user, UTC day) in
// transactions of at most flushChunk rows — instead of three B-tree
// inserts and their WAL pages in every turn's own commit.
//
// What a caller of this process sees stays exact: GetUtterancesView
// flushes first (so a client sees its own turns), and DeleteUtterances
// drops the user's pending counts with its rows. Statistics are delayed
// only across processes (another node's pending counts appear within its
// FlushInterval; AWS documents them as refreshed daily, spec §2.14). The
// crash window: a process that dies without its shutdown (Run's return,
// or Server.Close, flushes) loses at most the last FlushInterval of
// counts. A flush that fails keeps its counts for the next one.
type UtteranceStats struct {
	db       *store.DB
	interval time.Duration
	log      *slog.Logger

	// flushMu makes flushes one at a time (a view's waits for the
	// periodic one in progress, so it sees every turn Added before it).
	flushMu sync.Mutex
	mu      sync.Mutex
	// pending holds the counts Added since the last flush began;
	// flushing is the batch the flush in progress writes (read, under mu,
	// inside its transaction, so that DeleteUtterances can still drop a
	// user's from it).
	pending, flushing map[utterKey]*utterCount
	// dropped counts turns not kept because pending was full (a database
	// failing for long).
	dropped int64
	// chunk is the most rows a flush transaction writes (flushChunk;
	// smaller in tests).
	chunk int
	// known holds keys whose row this process's flushes wrote (flushMu):
	// their next count is a plain UPDATE, one B-tree seek instead of the
	// upsert's two. A row gone since (DeleteUtterances) is upserted again.
	known map[utterKey]struct{}
}

// maxKnown bounds UtteranceStats.known (past it, it starts again empty).
const maxKnown = 1 << 18

type utterKey struct {
	acct, region, bot, version string
	missed                     bool
	text, user                 string
	day                        int64
}

type utterCount struct{ n, first, last int64 }

// DefaultUtteranceFlushInterval is UtteranceStats' default flush interval.
const DefaultUtteranceFlushInterval = time.Second

// maxPendingUtterances bounds the distinct pending counts kept while
// flushes fail; later turns are not counted (and logged).
const maxPendingUtterances = 1 << 20

const dayMs = int64(24 * time.Hour / time.Millisecond)

func newUtteranceStats(db *store.DB, interval time.Duration, log *slog.Logger) *UtteranceStats {
	if interval <= 0 {
		interval = DefaultUtteranceFlushInterval
	}
	return &UtteranceStats{db: db, interval: interval, log: log, pending: map[utterKey]*utterCount{}, chunk: flushChunk}
}

// Add counts one utterance the runtime heard in a committed turn: missed
// is true when no intent was recognised.
func (u *UtteranceStats) Add(accountID, region, bot, botVersion, userID, text string, missed bool, at time.Time) {
	ms := store.Millis(at)
	k := utterKey{accountID, region, bot, botVersion, missed, text, userID, ms - ms%dayMs}
	u.mu.Lock()
	if c := u.pending[k]; c != nil {
		c.n++
		c.first, c.last = min(c.first, ms), max(c.last, ms)
	} else if len(u.pending) < maxPendingUtterances {
		u.pending[k] = &utterCount{1, ms, ms}
	} else {
		u.dropped++
		if u.dropped == 1 {
			u.log.Error("lex utterance statistics: too many pending counts (flushes failing?); not counting further turns until a flush succeeds")
		}
	}
	u.mu.Unlock()
}

// Pending is how many distinct counts wait for the next flush.
func (u *UtteranceStats) Pending() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.pending)
}

// Run flushes every FlushInterval until ctx is cancelled, then once more
// (register it with server.AddWorker).
func (u *UtteranceStats) Run(ctx context.Context) error {
	t := time.NewTicker(u.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return u.Flush(context.WithoutCancel(ctx))
		case <-t.C:
			if err := u.Flush(ctx); err != nil && ctx.Err() == nil {
				u.log.Error("lex utterance statistics flush (kept for the next one)", "err", err)
			}
		}
	}
}

// Flush writes every count Added so far (and returns once they are
// committed, or failed and kept for the next flush).
func (u *UtteranceStats) Flush(ctx context.Context) error {
	u.flushMu.Lock()
	defer u.flushMu.Unlock()
	u.mu.Lock()
	if len(u.pending) == 0 {
		u.mu.Unlock()
		return nil
	}
	u.flushing, u.pending = u.pending, map[utterKey]*utterCount{}
	u.dropped = 0
	order := make([]utterRow, 0, len(u.flushing))
	for k, c := range u.flushing {
		order = append(order, utterRow{k, *c})
	}
	u.mu.Unlock()
	sortUtterRows(order)
	var err error
	for len(order) > 0 {
		n := min(u.chunk, len(order))
		var batch []utterRow
		err = u.db.Write(ctx, func(tx *store.Tx) error {
			if err := lockUtterances(ctx, u.db, tx); err != nil {
				return err
			}
			// Inside the transaction, so that a DeleteUtterances that
			// committed meanwhile has dropped its user's counts.
			u.mu.Lock()
			batch = batch[:0]
			for _, r := range order[:n] {
				if _, ok := u.flushing[r.k]; ok {
					batch = append(batch, r)
				}
			}
			u.mu.Unlock()
			return upsertUtterances(ctx, tx, batch, u.known)
		})
		if err != nil {
			break
		}
		u.mu.Lock()
		if len(u.known)+len(batch) > maxKnown {
			u.known = nil
		}
		if u.known == nil {
			u.known = make(map[utterKey]struct{}, len(batch))
		}
		for _, r := range batch {
			u.known[r.k] = struct{}{}
		}
		for _, r := range order[:n] {
			delete(u.flushing, r.k)
		}
		u.mu.Unlock()
		order = order[n:]
	}
	u.mu.Lock()
	for k, c := range u.flushing { // not written: back, merged with what came since
		if p := u.pending[k]; p != nil {
			p.n += c.n
			p.first, p.last = min(p.first, c.first), max(p.last, c.last)
		} else {
			u.pending[k] = c
		}
	}
	u.flushing = nil
	u.mu.Unlock()
	return err
}

// flushChunk caps the rows one flush transaction writes. The single SQLite
// writer spends ~20 µs a row, so a busy runtime's second of counts
// (thousands of rows) in one transaction held every turn's commit queued
// behind it for tens of milliseconds (the PostText latency tail at
// 3,000 turns/s); in chunks the turns commit between them.
const flushChunk = 32

// forget drops a user's pending counts of a bot (DeleteUtterances, inside
// its transaction).
func (u *UtteranceStats) forget(ctx context.Context, tx *store.Tx, accountID, region, bot, userID string) error {
	if err := lockUtterances(ctx, u.db, tx); err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, m := range []map[utterKey]*utterCount{u.pending, u.flushing} {
		for k := range m {
			if k.user == userID && k.bot == bot && k.acct == accountID && k.region == region {
				delete(m, k)
			}
		}
	}
	return nil
}

// lockUtterances serializes flushes and DeleteUtterances on PostgreSQL,
// where their transactions run concurrently: without it, a flush could
// insert a user's counts that the DELETE of an overlapping transaction
// does not see. (On SQLite write transactions are serial already.)
func lockUtterances(ctx context.Context, db *store.DB, tx *store.Tx) error {
	if db.Driver() != store.DriverPostgres {
		return nil
	}
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7310000852)`)
	return err
}

type utterRow struct {
	k utterKey
	c utterCount
}

// upsertQuery adds one count to its row. One row per statement: the
// driver binds parameters by looking each one's name up in a list, so a
// multi-row statement's binding grows with the square of its rows.
const upsertQuery = `INSERT INTO lex_utterance_stats (account_id, region, bot_name, bot_version, missed, utterance, user_id, day_ms, n, first_ms, last_ms)
	VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)
	ON CONFLICT (account_id, region, bot_name, bot_version, missed, utterance, user_id, day_ms) DO UPDATE SET
	n = lex_utterance_stats.n + excluded.n,
	first_ms = CASE WHEN excluded.first_ms < lex_utterance_stats.first_ms THEN excluded.first_ms ELSE lex_utterance_stats.first_ms END,
	last_ms = CASE WHEN excluded.last_ms > lex_utterance_stats.last_ms THEN excluded.last_ms ELSE lex_utterance_stats.last_ms END`

// updateQuery adds one count to a row known to exist.
const updateQuery = `UPDATE lex_utterance_stats SET n = n + $9,
	first_ms = CASE WHEN $10 < first_ms THEN $10 ELSE first_ms END,
	last_ms = CASE WHEN $11 > last_ms THEN $11 ELSE last_ms END
	WHERE account_id=$1 AND region=$2 AND bot_name=$3 AND bot_version=$4 AND missed=$5 AND utterance=$6 AND user_id=$7 AND day_ms=$8`

// upsertUtterances writes rows in primary-key order (each statement then
// finds its B-tree page where the last one left off): an UPDATE for the
// keys in known (may be nil) whose row is still there, else an upsert.
func upsertUtterances(ctx context.Context, tx *store.Tx, rows []utterRow, known map[utterKey]struct{}) error {
	sortUtterRows(rows)
	for _, r := range rows {
		args := []any{r.k.acct, r.k.region, r.k.bot, r.k.version, r.k.missed, r.k.text, r.k.user, r.k.day, r.c.n, r.c.first, r.c.last}
		if _, ok := known[r.k]; ok {
			res, err := tx.Exec(ctx, updateQuery, args...)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 1 {
				if err != nil {
					return err
				}
				continue
			}
		}
		if _, err := tx.Exec(ctx, upsertQuery, args...); err != nil {
			return err
		}
	}
	return nil
}

// sortUtterRows sorts rows in primary-key order.
func sortUtterRows(rows []utterRow) {
	slices.SortFunc(rows, func(a, b utterRow) int {
		x, y := a.k, b.k
		if c := cmp.Or(strings.Compare(x.acct, y.acct), strings.Compare(x.region, y.region), strings.Compare(x.bot, y.bot),
			strings.Compare(x.version, y.version)); c != 0 {
			return c
		}
		if x.missed != y.missed {
			if x.missed {
				return 1
			}
			return -1
		}
		return cmp.Or(strings.Compare(x.text, y.text), strings.Compare(x.user, y.user), cmp.Compare(x.day, y.day))
	})
}
