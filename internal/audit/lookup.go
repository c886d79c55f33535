package audit

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"lextrail/internal/store"
)

// LookupEvents attribute keys (case-sensitive, as CloudTrail's enum).
const (
	AttrEventID      = "EventId"
	AttrEventName    = "EventName"
	AttrReadOnly     = "ReadOnly"
	AttrUsername     = "Username"
	AttrResourceType = "ResourceType"
	AttrResourceName = "ResourceName"
	AttrEventSource  = "EventSource"
	AttrAccessKeyID  = "AccessKeyId"
)

// Attributes lists the lookup attribute keys.
var Attributes = []string{AttrEventID, AttrEventName, AttrReadOnly, AttrUsername,
	AttrResourceType, AttrResourceName, AttrEventSource, AttrAccessKeyID}

// attrColumn maps single-valued attributes to their events column.
var attrColumn = map[string]string{
	AttrEventID:     "event_id",
	AttrEventName:   "event_name",
	AttrReadOnly:    "read_only",
	AttrUsername:    "username",
	AttrEventSource: "event_source",
	AttrAccessKeyID: "access_key_id",
}

// Position is a place in newest-first order: events strictly older than
// (TimeMs, Seq) come after it.
type Position struct {
	TimeMs int64
	Seq    int64
}

// Query selects events, newest first.
type Query struct {
	// AccountID and Region scope the lookup; empty means any (offline CLI
	// only: the server always scopes).
	AccountID, Region string
	// Attr and Value filter on one lookup attribute (Attr empty: none).
	Attr, Value string
	// Start and End bound eventTime, inclusive; zero means unbounded.
	Start, End time.Time
	// After continues after a previous page's last event.
	After *Position
	// Limit is the page size (required, > 0).
	Limit int
	// IncludeData also returns data events (never for LookupEvents).
	IncludeData bool
}

// Row is one looked-up event.
type Row struct {
	Seq         int64
	TimeMs      int64
	EventID     string
	EventName   string
	EventSource string
	ReadOnly    string
	Username    string
	AccessKeyID string
	Record      string
}

// Position returns the row's place for paging.
func (r *Row) Position() Position { return Position{TimeMs: r.TimeMs, Seq: r.Seq} }

// Lookup returns up to q.Limit events matching q, newest first (by
// eventTime, then sequence), in a read transaction of its own.
func Lookup(ctx context.Context, db *store.DB, q Query) ([]Row, error) {
	var rows []Row
	err := db.Read(ctx, func(tx *store.Tx) error {
		var err error
		rows, err = LookupTx(ctx, db, tx, q)
		return err
	})
	return rows, err
}

// LookupTx is Lookup in the caller's transaction on db.
func LookupTx(ctx context.Context, db *store.DB, tx *store.Tx, q Query) ([]Row, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("audit: lookup without a limit")
	}
	if q.Attr != "" {
		if _, ok := attrColumn[q.Attr]; !ok && q.Attr != AttrResourceType && q.Attr != AttrResourceName {
			return nil, fmt.Errorf("audit: unknown lookup attribute %q", q.Attr)
		}
	}
	// Where the index ends, and the scope of an exact (account, region).
	// On PostgreSQL this and the lookup below may see different snapshots:
	// the lookup takes index entries at or below upto and events above it
	// by themselves, so an indexer committing in between changes nothing.
	var ix indexView
	var scope sql.NullInt64
	var err error
	if q.AccountID != "" && q.Region != "" {
		err = tx.QueryRow(ctx, `SELECT upto, (SELECT id FROM audit_scopes WHERE account_id = $1 AND region = $2) FROM audit_index_state WHERE id = 1`, q.AccountID, q.Region).Scan(&ix.upto, &scope)
	} else {
		err = tx.QueryRow(ctx, `SELECT upto FROM audit_index_state WHERE id = 1`).Scan(&ix.upto)
	}
	if err != nil {
		return nil, fmt.Errorf("audit: lookup: %w", err)
	}
	ix.scope, ix.scoped = scope.Int64, scope.Valid
	text, args := lookupSQL(q, db.Driver() == store.DriverPostgres, ix)
	rs, err := tx.Query(ctx, text, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: lookup: %w", err)
	}
	defer rs.Close()
	rows := make([]Row, 0, min(q.Limit, 64))
	for rs.Next() {
		var r Row
		if err := rs.Scan(&r.Seq, &r.TimeMs, &r.EventID, &r.EventName, &r.EventSource, &r.ReadOnly, &r.Username, &r.AccessKeyID, &r.Record); err != nil {
			return nil, fmt.Errorf("audit: lookup: %w", err)
		}
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("audit: lookup: %w", err)
	}
	return rows, nil
}

// indexView is what a lookup knows of the index: upto (see index.go) and,
// when the query names an account and a region, that pair's scope
// (scoped false: it has no indexed event).
type indexView struct {
	upto   int64
	scope  int64
	scoped bool
}

const rowColumns = "e.seq, e.event_time_ms, e.event_id, e.event_name, e.event_source, e.read_only, e.username, e.access_key_id, e.record"

// lookupSQL is q's query and arguments (q.Attr already validated).
//
// A lookup of management events is the union of (a) event_index entries at
// or below ix.upto and (b) the events above it (the tail) filtered by
// themselves, each limited and ordered, then joined with their events rows
// and cut to q.Limit. The unfiltered lookup reads the ReadOnly 'true' and
// 'false' ranges of the index as two parts of (a). Lookups that include
// data events (offline CLI only; data events have no index entries) scan
// events.
func lookupSQL(q Query, pg bool, ix indexView) (string, []any) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	hi := Position{TimeMs: math.MaxInt64, Seq: math.MaxInt64}
	if !q.End.IsZero() {
		hi = Position{TimeMs: q.End.UnixMilli(), Seq: math.MaxInt64}
	}
	if q.After != nil && (q.After.TimeMs < hi.TimeMs || (q.After.TimeMs == hi.TimeMs && q.After.Seq < hi.Seq)) {
		hi = *q.After
	}
	// window is the time/position bound on a table aliased a.
	window := func(a string) []string {
		var w []string
		if hi.Seq == math.MaxInt64 {
			if hi.TimeMs != math.MaxInt64 {
				w = append(w, a+".event_time_ms <= "+arg(hi.TimeMs))
			}
		} else {
			// A row-value bound: both drivers seek the (..., time, seq)
			// suffix of the index with it (an OR of two terms is only a
			// filter).
			w = append(w, "("+a+".event_time_ms, "+a+".seq) < ("+arg(hi.TimeMs)+", "+arg(hi.Seq)+")")
		}
		if !q.Start.IsZero() {
			w = append(w, a+".event_time_ms >= "+arg(q.Start.UnixMilli()))
		}
		return w
	}
	// scan is the WHERE clause of events e for the query, by the events'
	// own columns.
	scan := func() []string {
		var w []string
		if q.AccountID != "" {
			w = append(w, "e.account_id = "+arg(q.AccountID))
		}
		if q.Region != "" {
			w = append(w, "e.region = "+arg(q.Region))
		}
		if !q.IncludeData {
			w = append(w, "e.category = "+arg(CategoryManagement))
		}
		switch col, ok := attrColumn[q.Attr]; {
		case q.Attr == "":
		case ok:
			w = append(w, "e."+col+" = "+arg(q.Value))
		default: // ResourceType, ResourceName
			w = append(w, "EXISTS (SELECT 1 FROM "+jsonElements(pg, "e.resources")+" WHERE j.value = "+arg(attrCode[q.Attr]+q.Value)+")")
		}
		return append(w, window("e")...)
	}
	order := func(a string) string {
		return " ORDER BY " + a + ".event_time_ms DESC, " + a + ".seq DESC LIMIT " + arg(int64(q.Limit))
	}
	if q.IncludeData {
		return "SELECT " + rowColumns + " FROM events e WHERE " + strings.Join(scan(), " AND ") + order("e"), args
	}

	var parts []string
	// (a) the index, where it can say anything.
	var scopeCond string
	switch {
	case q.AccountID != "" && q.Region != "":
		if ix.scoped {
			scopeCond = "x.scope = " + arg(ix.scope)
		}
	case q.AccountID != "" || q.Region != "":
		var w []string
		if q.AccountID != "" {
			w = append(w, "account_id = "+arg(q.AccountID))
		}
		if q.Region != "" {
			w = append(w, "region = "+arg(q.Region))
		}
		scopeCond = "x.scope IN (SELECT id FROM audit_scopes WHERE " + strings.Join(w, " AND ") + ")"
	default:
		scopeCond = "x.scope IN (SELECT id FROM audit_scopes)" // every scope: a seek in each
	}
	if scopeCond != "" && ix.upto > 0 {
		part := func(code, value string) string {
			w := []string{scopeCond, "x.attr = " + arg(code), "x.value = " + arg(value), "x.seq <= " + arg(ix.upto)}
			w = append(w, window("x")...)
			return "SELECT x.event_time_ms AS t, x.seq AS s FROM event_index x WHERE " + strings.Join(w, " AND ") + order("x")
		}
		if q.Attr == "" {
			parts = append(parts, part(codeReadOnly, "true"), part(codeReadOnly, "false"))
		} else {
			parts = append(parts, part(attrCode[q.Attr], q.Value))
		}
	}
	// (b) the tail.
	w := append([]string{"e.seq > " + arg(ix.upto)}, scan()...)
	parts = append(parts, "SELECT e.event_time_ms AS t, e.seq AS s FROM events e WHERE "+strings.Join(w, " AND ")+order("e"))

	var b strings.Builder
	b.WriteString("SELECT " + rowColumns + " FROM (")
	for i, p := range parts {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		fmt.Fprintf(&b, "SELECT * FROM (%s) AS p%d", p, i)
	}
	b.WriteString(") AS k JOIN events e ON e.seq = k.s ORDER BY k.t DESC, k.s DESC LIMIT " + arg(int64(q.Limit)))
	return b.String(), args
}
