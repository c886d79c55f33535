package audit

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"lextrail/internal/store"
)

// Insert stores events in tx (a write transaction on db), taking their
// sequence numbers after the horizon (cursor.go): on PostgreSQL from the
// counter, on SQLite after the highest stored number. Call it as late as
// possible in a transaction: on PostgreSQL the counter row stays locked
// until commit, which is what makes sequence order equal commit order.
//
// Each event is one events row; its lookup index entries are added later
// (index.go), except that Insert indexes the tail inline when it has grown
// past maxTail.
//
// On PostgreSQL Insert runs one statement however many events there are
// (counter and events, see insertEventsNumberedPG), on SQLite for batches
// larger than perRowMax (bulk loads) two (horizon, events); the rows go
// as a single parameter: one JSON array of arrays, expanded in SQL by json_each (SQLite) or
// json_array_elements (PostgreSQL). That saves PostgreSQL a round trip per
// row and avoids the $N-per-value statements whose binding grows
// quadratically in modernc.org/sqlite. Smaller SQLite batches (a mutating
// call's one event, the group committer's batches) use single-row
// statements, which need no statement journal (see perRowMax), and take
// their numbers without a query: on SQLite seq is the rowid, the first
// row's number comes from the horizon inside its INSERT and back as the
// statement's last insert ID. The SQLite counter is not written at all
// (the single SQLite writer needs no lock; a statement more per call and
// the counter's page in every commit cost ~6 us of CPU an event): the
// horizon there is the highest stored number, or the counter where that
// is higher (the purge keeps the highest number it deleted there, so
// numbers are never reused after the history was emptied).
func Insert(ctx context.Context, db *store.DB, tx *store.Tx, evs []*Event) error {
	if len(evs) == 0 {
		return nil
	}
	pg := db.Driver() == store.DriverPostgres
	bp := payloadPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 1<<20 {
			payloadPool.Put(bp)
		}
	}()
	var first, last int64
	if !pg && len(evs) <= perRowMax {
		for i, ev := range evs {
			seq := any(nil) // the first: counter + 1, in SQL
			if i > 0 {
				seq = first + int64(i)
			}
			res, err := insertOne(ctx, tx, ev, seq, bp)
			if err != nil {
				return err
			}
			if i == 0 {
				if first, err = res.LastInsertId(); err != nil {
					return fmt.Errorf("audit: sequence: %w", err)
				}
			}
			ev.Seq = first + int64(i)
		}
		last = first + int64(len(evs)) - 1
	} else if pg {
		// One statement takes the numbers and inserts the rows (their seq
		// element unused): the counter row lock, held to commit, is taken
		// one round trip later than with a statement each.
		for _, ev := range evs {
			ev.Seq = 0
		}
		b := appendEventRows((*bp)[:0], evs)
		*bp = b
		if err := tx.QueryRow(ctx, insertEventsNumberedPG, unsafe.String(unsafe.SliceData(b), len(b)), int64(len(evs))).Scan(&last); err != nil {
			return fmt.Errorf("audit: insert events: %w", err)
		}
		first = last - int64(len(evs)) + 1
		for i, ev := range evs {
			ev.Seq = first + int64(i)
		}
	} else {
		if err := tx.QueryRow(ctx, horizonSQL).Scan(&first); err != nil {
			return fmt.Errorf("audit: sequence: %w", err)
		}
		first++
		last = first + int64(len(evs)) - 1
		for i, ev := range evs {
			ev.Seq = first + int64(i)
		}
		b := appendEventRows((*bp)[:0], evs)
		*bp = b
		if _, err := tx.Exec(ctx, insertEventsSQL(pg), unsafe.String(unsafe.SliceData(b), len(b))); err != nil {
			return fmt.Errorf("audit: insert events: %w", err)
		}
	}
	if inlineIndexing && (first-1)/tailCheckEvery != last/tailCheckEvery {
		return indexIfBehind(ctx, db, tx, last)
	}
	return nil
}

// inlineIndexing is off only while tests bulk-load histories.
var inlineIndexing = true

var payloadPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// appendEventRows appends evs as a JSON array of rows in the column order
// of eventColumns.
func appendEventRows(b []byte, evs []*Event) []byte {
	b = append(b, '[')
	for i, ev := range evs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, ev.Seq, 10)
		b = append(b, ',')
		b = appendString(b, ev.EventID)
		b = append(b, ',')
		b = appendString(b, ev.RequestID)
		b = append(b, ',')
		b = appendString(b, ev.AccountID)
		b = append(b, ',')
		b = appendString(b, ev.Region)
		b = append(b, ',')
		b = strconv.AppendInt(b, ev.TimeMs, 10)
		b = append(b, ',')
		b = appendString(b, ev.Category)
		b = append(b, ',')
		b = appendString(b, readOnlyValue(ev.ReadOnly))
		b = append(b, ',')
		b = appendString(b, ev.EventName)
		b = append(b, ',')
		b = appendString(b, ev.EventSource)
		b = append(b, ',')
		b = appendString(b, ev.Username)
		b = append(b, ',')
		b = appendString(b, ev.AccessKeyID)
		b = append(b, ',')
		b = appendString(b, unsafe.String(unsafe.SliceData(ev.Record), len(ev.Record)))
		b = append(b, ',')
		var rb [512]byte
		if r, ok := resourcesColumn(rb[:0], ev); ok {
			b = appendString(b, unsafe.String(unsafe.SliceData(r), len(r)))
		} else {
			b = append(b, "null"...)
		}
		b = append(b, ']')
	}
	return append(b, ']')
}

// resourcesColumn is appendResources for management events; data events
// are never looked up and have no resources column.
func resourcesColumn(b []byte, ev *Event) ([]byte, bool) {
	if ev.Category != CategoryManagement {
		return b, false
	}
	return appendResources(b, ev)
}

// appendResources appends the resources column of ev: its multi-valued
// lookup attributes (each resource's type, ARN and short name, each
// distinct pair once) as a JSON array of strings, each an attribute code
// followed by the value (a flat array: SQLite's json_each returns its
// elements without parsing them again). It reports false, appending
// nothing, when ev has none.
func appendResources(b []byte, ev *Event) ([]byte, bool) {
	var seenBuf [6][2]string
	seen := seenBuf[:0]
	n := 0
	for _, r := range ev.Resources {
		for _, kv := range [3][2]string{{codeResourceType, r.Type}, {codeResourceName, r.ARN}, {codeResourceName, ResourceName(r.ARN)}} {
			if kv[1] == "" || slices.Contains(seen, kv) {
				continue
			}
			seen = append(seen, kv)
			if n == 0 {
				b = append(b, '[')
			} else {
				b = append(b, ',')
			}
			n++
			// "<code><value>": the value encoded, then the one-byte code
			// slid in after its opening quote.
			p := len(b)
			b = append(appendString(b, kv[1]), 0)
			copy(b[p+2:], b[p+1:len(b)-1])
			b[p+1] = kv[0][0]
		}
	}
	if n == 0 {
		return b, false
	}
	return append(b, ']'), true
}

// ResourceName is the short name LookupEvents shows for a resource ARN:
// the part after the last '/' or ':' ("arn:aws:iam::1:user/alice" ->
// "alice", "arn:aws:lex:r:1:bot:B" -> "B").
func ResourceName(arn string) string {
	if i := strings.LastIndexAny(arn, "/:"); i >= 0 && i < len(arn)-1 {
		return arn[i+1:]
	}
	return arn
}

// jsonRows is the FROM clause that expands the JSON array $1 into rows
// with a column "value" holding each row array: json_each on SQLite,
// json_array_elements on PostgreSQL. value ->> N extracts an element as
// text (SQLite: as its SQL type) in both.
func jsonRows(pg bool) string {
	if pg {
		return ` FROM json_array_elements($1::json) AS j(value)`
	}
	return ` FROM json_each($1) AS j`
}

var insertEventsSQLs = [2]string{buildInsertEvents(false), buildInsertEvents(true)}

func dialect(pg bool) int {
	if pg {
		return 1
	}
	return 0
}

func insertEventsSQL(pg bool) string { return insertEventsSQLs[dialect(pg)] }

// insertEventsNumberedPG advances the counter by $2 and inserts the $2
// rows of the JSON array $1 numbered after its old value, in array order,
// returning the new value (PostgreSQL runs a data-modifying WITH once,
// whether the main query reads it or not).
const insertEventsNumberedPG = `WITH c AS (UPDATE audit_counter SET n = n + $2 WHERE id = 1 RETURNING n), ` +
	`ins AS (INSERT INTO events (seq, event_id, request_id, account_id, region, event_time_ms, category, read_only, event_name, event_source, username, access_key_id, record, resources) SELECT ` +
	`c.n - $2 + j.ord, value ->> 1, value ->> 2, value ->> 3, value ->> 4, CAST(value ->> 5 AS BIGINT), value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10, value ->> 11, value ->> 12, value ->> 13` +
	` FROM c, json_array_elements($1::json) WITH ORDINALITY AS j(value, ord)) SELECT n FROM c`

func buildInsertEvents(pg bool) string {
	return insertVerb(pg) + ` INTO events (seq, event_id, request_id, account_id, region, event_time_ms, category, read_only, event_name, event_source, username, access_key_id, record, resources) SELECT ` +
		`CAST(value ->> 0 AS BIGINT), value ->> 1, value ->> 2, value ->> 3, value ->> 4, CAST(value ->> 5 AS BIGINT), value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10, value ->> 11, value ->> 12, value ->> 13` +
		jsonRows(pg)
}

// insertVerb is INSERT OR FAIL on SQLite: a multi-row INSERT that may
// abort on a constraint otherwise writes a statement journal (a temp file,
// one write per changed page) so that it can undo its own rows; OR FAIL
// needs none, and the caller rolls the whole transaction back on any
// error anyway. PostgreSQL has no such clause (nor the journal).
func insertVerb(pg bool) string {
	if pg {
		return "INSERT"
	}
	return "INSERT OR FAIL"
}

// perRowMax is the largest batch that SQLite inserts a row per statement.
// SQLite opens a statement journal for any statement that may write
// several rows (a multi-row VALUES or an INSERT ... SELECT) inside a
// transaction, copying every page it touches there first and spilling to
// a temporary file past 64 KiB; a single-row INSERT needs none. Measured
// (BenchmarkInsertOne, lextrail-load): a mutating call's single event
// costs ~100 us more through the JSON statement, and the committer's
// batches (at most one per waiting client, typically <= 32) are no faster
// through it either; only bulk loads gain from one statement.
const perRowMax = 64

// insertOne inserts ev on SQLite with a single-row INSERT ... VALUES:
// with sequence number seq, or nil for the counter's next; bp is scratch
// space for its resources column.
func insertOne(ctx context.Context, tx *store.Tx, ev *Event, seq any, bp *[]byte) (sql.Result, error) {
	var res any // NULL
	if r, ok := resourcesColumn((*bp)[:0], ev); ok {
		*bp = r
		res = unsafe.String(unsafe.SliceData(r), len(r))
	}
	result, err := tx.Exec(ctx, insertOneSQL, seq, ev.EventID, ev.RequestID, ev.AccountID, ev.Region, ev.TimeMs,
		ev.Category, readOnlyValue(ev.ReadOnly), ev.EventName, ev.EventSource, ev.Username,
		ev.AccessKeyID, res, unsafe.String(unsafe.SliceData(ev.Record), len(ev.Record)))
	if err != nil {
		return nil, fmt.Errorf("audit: insert event: %w", err)
	}
	return result, nil
}

// The first row's number is the horizon's next (cursor.go); the
// parameters are anonymous, which SQLite binds without looking their names
// up.
const insertOneSQL = `INSERT INTO events (seq, event_id, request_id, account_id, region, event_time_ms, category, read_only, event_name, event_source, username, access_key_id, resources, record) ` +
	`VALUES (COALESCE(?, max(COALESCE((SELECT MAX(seq) FROM events), 0), (SELECT n FROM audit_counter WHERE id = 1)) + 1), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
