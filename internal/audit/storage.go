package audit

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"lextrail/internal/store"
)

// Insert stores events in tx (a write transaction on db), taking their sequence numbers from the
// counter. Call it as late as possible in a transaction: on PostgreSQL the
// counter row stays locked until commit, which is what makes sequence
// order equal commit order.
//
// On PostgreSQL, and on SQLite for batches larger than perRowMax (bulk
// loads), Insert runs three statements however many events there are
// (counter, events, event attributes), each with a single parameter: the
// rows as one JSON array of arrays, expanded in SQL by json_each (SQLite)
// or json_array_elements (PostgreSQL). That saves PostgreSQL a round trip
// per row and avoids the $N-per-value statements whose binding grows
// quadratically in modernc.org/sqlite. Smaller SQLite batches (a mutating
// call's one event, the group committer's batches) use single-row
// statements, which need no statement journal (see perRowMax).
func Insert(ctx context.Context, db *store.DB, tx *store.Tx, evs []*Event) error {
	if len(evs) == 0 {
		return nil
	}
	var last int64
	if err := tx.QueryRow(ctx, `UPDATE audit_counter SET n = n + $1 WHERE id = 1 RETURNING n`, int64(len(evs))).Scan(&last); err != nil {
		return fmt.Errorf("audit: sequence: %w", err)
	}
	first := last - int64(len(evs)) + 1
	for i, ev := range evs {
		ev.Seq = first + int64(i)
	}
	pg := db.Driver() == store.DriverPostgres
	if !pg && len(evs) <= perRowMax {
		for _, ev := range evs {
			if err := insertOne(ctx, tx, ev); err != nil {
				return err
			}
		}
		return nil
	}
	bp := payloadPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 1<<20 {
			payloadPool.Put(bp)
		}
	}()
	b := appendEventRows((*bp)[:0], evs)
	*bp = b
	if _, err := tx.Exec(ctx, insertEventsSQL(pg), unsafe.String(unsafe.SliceData(b), len(b))); err != nil {
		return fmt.Errorf("audit: insert events: %w", err)
	}
	b, n := appendAttrRows(b[:0], evs)
	*bp = b
	if n > 0 {
		if _, err := tx.Exec(ctx, insertAttrsSQL(pg), unsafe.String(unsafe.SliceData(b), len(b))); err != nil {
			return fmt.Errorf("audit: insert event attributes: %w", err)
		}
	}
	return nil
}

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
		b = append(b, ']')
	}
	return append(b, ']')
}

// appendAttrRows appends the multi-valued lookup attributes of the
// management events in evs (one row per distinct attribute and value) as a
// JSON array of [account, region, attr, value, time, seq] rows, and
// returns how many rows it wrote.
func appendAttrRows(b []byte, evs []*Event) ([]byte, int) {
	n := 0
	b = append(b, '[')
	var seen [][2]string
	for _, ev := range evs {
		if ev.Category != CategoryManagement {
			continue
		}
		seen = seen[:0]
		add := func(attr, value string) {
			if value == "" {
				return
			}
			for _, s := range seen {
				if s[0] == attr && s[1] == value {
					return
				}
			}
			seen = append(seen, [2]string{attr, value})
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = append(b, '[')
			b = appendString(b, ev.AccountID)
			b = append(b, ',')
			b = appendString(b, ev.Region)
			b = append(b, ',')
			b = appendString(b, attr)
			b = append(b, ',')
			b = appendString(b, value)
			b = append(b, ',')
			b = strconv.AppendInt(b, ev.TimeMs, 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, ev.Seq, 10)
			b = append(b, ']')
		}
		for _, r := range ev.Resources {
			add(AttrResourceType, r.Type)
			add(AttrResourceName, r.ARN)
			add(AttrResourceName, ResourceName(r.ARN))
		}
	}
	return append(b, ']'), n
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

var (
	insertEventsSQLs = [2]string{buildInsertEvents(false), buildInsertEvents(true)}
	insertAttrsSQLs  = [2]string{buildInsertAttrs(false), buildInsertAttrs(true)}
)

func dialect(pg bool) int {
	if pg {
		return 1
	}
	return 0
}

func insertEventsSQL(pg bool) string { return insertEventsSQLs[dialect(pg)] }
func insertAttrsSQL(pg bool) string  { return insertAttrsSQLs[dialect(pg)] }

func buildInsertEvents(pg bool) string {
	return insertVerb(pg) + ` INTO events (seq, event_id, request_id, account_id, region, event_time_ms, category, read_only, event_name, event_source, username, access_key_id, record) SELECT ` +
		`CAST(value ->> 0 AS BIGINT), value ->> 1, value ->> 2, value ->> 3, value ->> 4, CAST(value ->> 5 AS BIGINT), value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10, value ->> 11, value ->> 12` +
		jsonRows(pg)
}

func buildInsertAttrs(pg bool) string {
	return insertVerb(pg) + ` INTO event_attrs (account_id, region, attr, value, event_time_ms, seq) SELECT ` +
		`value ->> 0, value ->> 1, value ->> 2, value ->> 3, CAST(value ->> 4 AS BIGINT), CAST(value ->> 5 AS BIGINT)` +
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

// insertOne inserts ev on SQLite with a single-row INSERT ... VALUES.
func insertOne(ctx context.Context, tx *store.Tx, ev *Event) error {
	if _, err := tx.Exec(ctx, insertOneSQL, ev.Seq, ev.EventID, ev.RequestID, ev.AccountID, ev.Region, ev.TimeMs,
		ev.Category, readOnlyValue(ev.ReadOnly), ev.EventName, ev.EventSource, ev.Username,
		ev.AccessKeyID, unsafe.String(unsafe.SliceData(ev.Record), len(ev.Record))); err != nil {
		return fmt.Errorf("audit: insert event: %w", err)
	}
	if ev.Category != CategoryManagement {
		return nil
	}
	// Its attribute rows (a resource's type, ARN and name: three rows, in
	// one statement; a statement journal for three pages stays in memory).
	var args [3 * 6 * 2]any
	a := args[:0]
	var seenBuf [6][2]string
	seen := seenBuf[:0]
	for _, r := range ev.Resources {
		for _, kv := range [3][2]string{{AttrResourceType, r.Type}, {AttrResourceName, r.ARN}, {AttrResourceName, ResourceName(r.ARN)}} {
			if kv[1] == "" || slices.Contains(seen, kv) {
				continue
			}
			seen = append(seen, kv)
			a = append(a, ev.AccountID, ev.Region, kv[0], kv[1], ev.TimeMs, ev.Seq)
		}
	}
	for start := 0; start < len(a); start += attrChunk * 6 {
		chunk := a[start:min(start+attrChunk*6, len(a))]
		if _, err := tx.Exec(ctx, attrValuesSQL(len(chunk)/6), chunk...); err != nil {
			return fmt.Errorf("audit: insert event attributes: %w", err)
		}
	}
	return nil
}

// attrChunk is how many attribute rows one VALUES statement carries.
const attrChunk = 6

var attrValuesSQLs = func() (s [attrChunk + 1]string) {
	for n := 1; n <= attrChunk; n++ {
		var b strings.Builder
		b.WriteString(`INSERT INTO event_attrs (account_id, region, attr, value, event_time_ms, seq) VALUES `)
		for r := 0; r < n; r++ {
			if r > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "($%d, $%d, $%d, $%d, $%d, $%d)", r*6+1, r*6+2, r*6+3, r*6+4, r*6+5, r*6+6)
		}
		s[n] = b.String()
	}
	return s
}()

func attrValuesSQL(n int) string { return attrValuesSQLs[n] }

const (
	insertOneSQL = `INSERT INTO events (seq, event_id, request_id, account_id, region, event_time_ms, category, read_only, event_name, event_source, username, access_key_id, record) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`
)
