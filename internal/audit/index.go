package audit

import (
	"context"
	"fmt"

	"lextrail/internal/store"
)

// The lookup index (migration 0260).
//
// An event's transaction writes only its events row. Its LookupEvents
// entries (event_index: one per attribute value, keyed by scope, attribute
// code, value, time and sequence) are added afterwards, for many events at
// once, by IndexPending: up to audit_index_state.upto every management
// event has its entries and above it none has. Lookups (lookup.go) read the
// index for sequence numbers at or below upto and scan the events above it,
// the tail, directly; so an event is found by its attributes as soon as its
// transaction has committed, whether it was indexed yet or not. The
// Recorder runs IndexPending shortly after events were written (indexLoop),
// and Insert does it inline when the tail grows past maxTail (a history
// written without a Recorder, or an indexer that cannot keep up), so a
// lookup never scans more than about maxTail events.
//
// Ordering: on PostgreSQL a transaction's sequence numbers are taken under
// the audit_counter row lock, held to commit (storage.go), so every event
// at or below the committed counter has committed, and IndexPending never
// indexes past it. IndexPending, inline indexing and the retention purge
// first lock the audit_index_state row, so they run one at a time across
// nodes; a writer that indexes inline takes that lock after the counter's,
// as everyone else either takes only one of them or the same order.

// Attribute codes in event_index.attr and in events.resources.
const (
	codeEventID      = "i"
	codeEventName    = "n"
	codeReadOnly     = "r"
	codeUsername     = "u"
	codeEventSource  = "s"
	codeAccessKeyID  = "k"
	codeResourceType = "t"
	codeResourceName = "m"
)

// attrCode maps the lookup attributes to their codes.
var attrCode = map[string]string{
	AttrEventID:      codeEventID,
	AttrEventName:    codeEventName,
	AttrReadOnly:     codeReadOnly,
	AttrUsername:     codeUsername,
	AttrEventSource:  codeEventSource,
	AttrAccessKeyID:  codeAccessKeyID,
	AttrResourceType: codeResourceType,
	AttrResourceName: codeResourceName,
}

const (
	// maxTail is the tail above which Insert indexes inline. A lookup's
	// scan of a tail this long costs ~2-6 ms (SQLite, 2 shared cores).
	maxTail = 4096
	// tailCheckEvery: Insert looks at the tail when its sequence numbers
	// cross a multiple of this.
	tailCheckEvery = 1024
)

// IndexPending adds the index entries of the events after
// audit_index_state.upto, at most max of them (max <= 0: all), in tx (a
// write transaction on db), and returns how many sequence numbers it
// covered.
func IndexPending(ctx context.Context, db *store.DB, tx *store.Tx, max int64) (int64, error) {
	var from, upto int64
	if err := tx.QueryRow(ctx, `UPDATE audit_index_state SET upto = upto WHERE id = 1 RETURNING upto`).Scan(&from); err != nil {
		return 0, fmt.Errorf("audit: index state: %w", err)
	}
	// The counter as committed (or as this transaction set it): every
	// event at or below it is visible here.
	if err := tx.QueryRow(ctx, `SELECT n FROM audit_counter WHERE id = 1`).Scan(&upto); err != nil {
		return 0, fmt.Errorf("audit: index horizon: %w", err)
	}
	if max > 0 && upto-from > max {
		upto = from + max
	}
	if upto <= from {
		return 0, nil
	}
	pg := db.Driver() == store.DriverPostgres
	if _, err := tx.Exec(ctx, indexSQLs[dialect(pg)], from, upto); err != nil {
		return 0, fmt.Errorf("audit: index events: %w", err)
	}
	// Events of a scope that had no number yet were indexed under
	// noScope: number their scopes and index them again. (Checking first
	// would cost a pass over the events every time; a new scope is rare.)
	var missing bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM event_index WHERE scope = -1)`).Scan(&missing); err != nil {
		return 0, fmt.Errorf("audit: index scopes: %w", err)
	}
	if missing {
		if _, err := tx.Exec(ctx, `DELETE FROM event_index WHERE scope = -1`); err != nil {
			return 0, fmt.Errorf("audit: index scopes: %w", err)
		}
		if _, err := tx.Exec(ctx, newScopesSQL, from, upto); err != nil {
			return 0, fmt.Errorf("audit: index scopes: %w", err)
		}
		if _, err := tx.Exec(ctx, indexSQLs[dialect(pg)], from, upto); err != nil {
			return 0, fmt.Errorf("audit: index events: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE audit_index_state SET upto = $1 WHERE id = 1`, upto); err != nil {
		return 0, fmt.Errorf("audit: index state: %w", err)
	}
	return upto - from, nil
}

// Pending returns how many sequence numbers are above the index (the
// tail), in a read transaction of its own.
func Pending(ctx context.Context, db *store.DB) (int64, error) {
	var n int64
	err := db.Read(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `SELECT c.n - s.upto FROM audit_counter c, audit_index_state s WHERE c.id = 1 AND s.id = 1`).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("audit: index state: %w", err)
	}
	return n, nil
}

// indexIfBehind indexes inline (in tx) when the tail is longer than
// maxTail after last was inserted.
func indexIfBehind(ctx context.Context, db *store.DB, tx *store.Tx, last int64) error {
	var upto int64
	if err := tx.QueryRow(ctx, `SELECT upto FROM audit_index_state WHERE id = 1`).Scan(&upto); err != nil {
		return fmt.Errorf("audit: index state: %w", err)
	}
	if last-upto <= maxTail {
		return nil
	}
	_, err := IndexPending(ctx, db, tx, 0)
	return err
}

// newScopesSQL numbers the (account, region) pairs of the management
// events in ($1, $2] that have no scope yet.
const newScopesSQL = `INSERT INTO audit_scopes (id, account_id, region) ` +
	`SELECT (SELECT COALESCE(MAX(id), 0) FROM audit_scopes) + ROW_NUMBER() OVER (ORDER BY account_id, region), account_id, region ` +
	`FROM (SELECT DISTINCT e.account_id, e.region FROM events e WHERE e.seq > $1 AND e.seq <= $2 AND e.category = 'Management' ` +
	`AND NOT EXISTS (SELECT 1 FROM audit_scopes s WHERE s.account_id = e.account_id AND s.region = e.region)) d`

var indexSQLs = [2]string{
	`INSERT INTO event_index (scope, attr, value, event_time_ms, seq) ` + entriesSQL(false, "e.seq > $1 AND e.seq <= $2") + ` ON CONFLICT DO NOTHING`,
	`INSERT INTO event_index (scope, attr, value, event_time_ms, seq) ` + entriesSQL(true, "e.seq > $1 AND e.seq <= $2") + ` ON CONFLICT DO NOTHING`,
}

// entriesSQL selects the index entries (scope, attr, value, event_time_ms,
// seq) of the management events e (events) that satisfy pred, with scope
// -1 for an event whose (account, region) has no scope number yet. It
// reads each event twice, once for its single-valued attributes (crossed
// with their codes) and once for its resources, and ends in a WHERE
// clause, so that SQLite reads a following ON CONFLICT as the INSERT's.
func entriesSQL(pg bool, pred string) string {
	// SQLite joins in the order written for LEFT and CROSS joins: per
	// event, one probe of its scope, then its six codes.
	const scoped = `FROM events e LEFT JOIN audit_scopes s ON s.account_id = e.account_id AND s.region = e.region CROSS JOIN `
	return `SELECT x.scope, x.attr, x.value, x.event_time_ms, x.seq FROM (` +
		`SELECT COALESCE(s.id, -1) AS scope, c.attr AS attr, ` +
		`CASE c.attr WHEN 'i' THEN e.event_id WHEN 'n' THEN e.event_name WHEN 'r' THEN e.read_only WHEN 'u' THEN e.username WHEN 's' THEN e.event_source ELSE e.access_key_id END AS value, ` +
		`e.event_time_ms AS event_time_ms, e.seq AS seq ` + scoped +
		`(SELECT 'i' AS attr UNION ALL SELECT 'n' UNION ALL SELECT 'r' UNION ALL SELECT 'u' UNION ALL SELECT 's' UNION ALL SELECT 'k') c ` +
		`WHERE ` + pred + ` AND e.category = 'Management' ` +
		`UNION ALL SELECT COALESCE(s.id, -1), substr(j.value, 1, 1), substr(j.value, 2), e.event_time_ms, e.seq ` + scoped + jsonElements(pg, "e.resources") +
		` WHERE ` + pred + ` AND e.category = 'Management' AND e.resources IS NOT NULL` +
		`) x WHERE x.value <> ''`
}

// jsonElements is a FROM item j whose column value holds each element of
// the JSON array of strings in col, as text.
func jsonElements(pg bool, col string) string {
	if pg {
		return `json_array_elements_text(` + col + `::json) AS j(value)`
	}
	return `json_each(` + col + `) AS j`
}
