package audit

import (
	"context"
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

// attrIndex names the SQLite index of each single-valued attribute column
// (migration 0200). SQLite has no statistics unless ANALYZE ran, and with
// a time window it guessed the time-only index events_recent cheaper,
// then filtered a rare key or a ReadOnly=false out of millions of rows;
// INDEXED BY pins the attribute's own index, which seeks both the value
// and the (time, seq) window. PostgreSQL keeps statistics and needs no
// hint.
var attrIndex = map[string]string{
	"event_name":    "events_by_name",
	"read_only":     "events_by_readonly",
	"username":      "events_by_user",
	"event_source":  "events_by_source",
	"access_key_id": "events_by_key",
}

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
	if q.Attr != "" && q.Attr != AttrResourceType && q.Attr != AttrResourceName {
		if _, ok := attrColumn[q.Attr]; !ok {
			return nil, fmt.Errorf("audit: unknown lookup attribute %q", q.Attr)
		}
	}
	sql, args := lookupSQL(q, db.Driver() == store.DriverSQLite)
	rs, err := tx.Query(ctx, sql, args...)
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

// lookupSQL is q's query and arguments (q.Attr already validated).
func lookupSQL(q Query, sqlite bool) (string, []any) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	from := "events e"
	if q.AccountID != "" {
		where = append(where, "e.account_id = "+arg(q.AccountID))
	}
	if q.Region != "" {
		where = append(where, "e.region = "+arg(q.Region))
	}
	if !q.IncludeData {
		where = append(where, "e.category = "+arg(CategoryManagement))
	}
	hi := Position{TimeMs: math.MaxInt64, Seq: math.MaxInt64}
	if !q.End.IsZero() {
		hi = Position{TimeMs: q.End.UnixMilli(), Seq: math.MaxInt64}
	}
	if q.After != nil && (q.After.TimeMs < hi.TimeMs || (q.After.TimeMs == hi.TimeMs && q.After.Seq < hi.Seq)) {
		hi = *q.After
	}
	timeCol, seqCol := "e.event_time_ms", "e.seq"
	switch col, ok := attrColumn[q.Attr]; {
	case q.Attr == "":
	case ok:
		where = append(where, "e."+col+" = "+arg(q.Value))
		if ix := attrIndex[col]; ix != "" && sqlite {
			from += " INDEXED BY " + ix
		}
	case q.Attr == AttrResourceType || q.Attr == AttrResourceName:
		// Drive the scan from the attribute index; join back for the rows.
		from = "event_attrs a JOIN events e ON e.seq = a.seq"
		w := []string{"a.attr = " + arg(q.Attr), "a.value = " + arg(q.Value)}
		if q.AccountID != "" {
			w = append(w, "a.account_id = "+arg(q.AccountID))
		}
		if q.Region != "" {
			w = append(w, "a.region = "+arg(q.Region))
		}
		where = append(w, where...)
		timeCol, seqCol = "a.event_time_ms", "a.seq"
	}
	if hi.Seq == math.MaxInt64 {
		if hi.TimeMs != math.MaxInt64 {
			where = append(where, timeCol+" <= "+arg(hi.TimeMs))
		}
	} else {
		// A row-value bound: both drivers seek the (..., time, seq) suffix
		// of the chosen index with it (an OR of two terms is only a filter,
		// and made SQLite prefer the time-only index for rare values).
		where = append(where, "("+timeCol+", "+seqCol+") < ("+arg(hi.TimeMs)+", "+arg(hi.Seq)+")")
	}
	if !q.Start.IsZero() {
		where = append(where, timeCol+" >= "+arg(q.Start.UnixMilli()))
	}
	sql := "SELECT e.seq, e.event_time_ms, e.event_id, e.event_name, e.event_source, e.read_only, e.username, e.access_key_id, e.record FROM " +
		from
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY " + timeCol + " DESC, " + seqCol + " DESC LIMIT " + arg(int64(q.Limit))
	return sql, args
}
