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
// (counter and events, see insertEventsNumberedPG): the rows go as a
// single parameter, one JSON array of arrays expanded in SQL by
// json_array_elements, which saves a round trip per row. On SQLite a
// single event (a call's, when its transaction has no batch to share)
// is one INSERT ... VALUES that takes its number without a query: seq is
// the rowid, the number comes from the horizon inside the INSERT and back
// as the statement's last insert ID. Several events (a group commit's,
// the committer's batches, bulk loads) are numbered after one horizon
// query and inserted up to 64 per multi-row INSERT OR FAIL (eventsInsert).
// The SQLite counter is not written at all (the single SQLite writer
// needs no lock; a statement more per call and the counter's page in
// every commit cost ~6 us of CPU an event): the horizon there is the
// highest stored number, or the counter where that is higher (the purge
// keeps the highest number it deleted there, so numbers are never reused
// after the history was emptied).
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
	if !pg && len(evs) == 1 {
		res, err := insertOne(ctx, tx, evs[0], nil, bp)
		if err != nil {
			return err
		}
		if first, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("audit: sequence: %w", err)
		}
		evs[0].Seq, last = first, first
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
		// The records in block rows (blocks.go).
		blocked, err := insertBlocks(ctx, tx, evs)
		if err != nil {
			return fmt.Errorf("audit: insert events: %w", err)
		}
		// The resources columns side by side in one buffer (a string
		// taken from it stays valid if it grows).
		res := (*bp)[:0]
		args := make([]any, 0, 14*len(evs))
		for i, ev := range evs {
			var col any // NULL
			p := len(res)
			if r, ok := resourcesColumn(res, ev); ok {
				res = r
				col = unsafe.String(unsafe.SliceData(res[p:]), len(res)-p)
			}
			args = append(args, ev.Seq, ev.EventID, ev.RequestID, ev.AccountID, ev.Region, ev.TimeMs, ev.Category,
				readOnlyValue(ev.ReadOnly), ev.EventName, ev.EventSource, ev.Username, ev.AccessKeyID, col, recordColumn(ev, blocked[i]))
		}
		*bp = res
		if err := insertRows(ctx, tx, false, eventsInsert, args); err != nil {
			return fmt.Errorf("audit: insert events: %w", err)
		}
	}
	if inlineIndexing && (first-1)/tailCheckEvery != last/tailCheckEvery {
		return indexIfBehind(ctx, db, tx, last)
	}
	return nil
}

// recordColumn is ev's events.record: empty when its block holds it.
func recordColumn(ev *Event, blocked bool) string {
	if blocked {
		return ""
	}
	return unsafe.String(unsafe.SliceData(ev.Record), len(ev.Record))
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

func dialect(pg bool) int {
	if pg {
		return 1
	}
	return 0
}

// insertEventsNumberedPG advances the counter by $2 and inserts the $2
// rows of the JSON array $1 numbered after its old value, in array order,
// returning the new value (PostgreSQL runs a data-modifying WITH once,
// whether the main query reads it or not).
const insertEventsNumberedPG = `WITH c AS (UPDATE audit_counter SET n = n + $2 WHERE id = 1 RETURNING n), ` +
	`ins AS (INSERT INTO events (seq, event_id, request_id, account_id, region, event_time_ms, category, read_only, event_name, event_source, username, access_key_id, record, resources) SELECT ` +
	`c.n - $2 + j.ord, value ->> 1, value ->> 2, value ->> 3, value ->> 4, CAST(value ->> 5 AS BIGINT), value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10, value ->> 11, value ->> 12, value ->> 13` +
	` FROM c, json_array_elements($1::json) WITH ORDINALITY AS j(value, ord)) SELECT n FROM c`

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
// eventsInsert inserts events rows on SQLite, many per statement: outside
// a savepoint (store.Tx.Defer) and with OR FAIL a multi-row INSERT needs no
// statement journal, and its anonymous parameters bind in one pass.
var eventsInsert = newRowsInsert("events (seq, event_id, request_id, account_id, region, event_time_ms, category, read_only, event_name, event_source, username, access_key_id, resources, record)", 14)

const insertOneSQL = `INSERT INTO events (seq, event_id, request_id, account_id, region, event_time_ms, category, read_only, event_name, event_source, username, access_key_id, resources, record) ` +
	`VALUES (COALESCE(?, max(COALESCE((SELECT MAX(seq) FROM events), 0), (SELECT n FROM audit_counter WHERE id = 1)) + 1), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
