package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
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
	// Where the index ends, what the purge deleted, and the scope of an
	// exact (account, region). On PostgreSQL this and the reads below may
	// see different snapshots: the lookup takes index entries at or below
	// upto and events above it by themselves, so an indexer committing in
	// between changes nothing.
	var ix indexView
	var scope sql.NullInt64
	var err error
	if q.AccountID != "" && q.Region != "" {
		err = tx.QueryRow(ctx, `SELECT upto, purged, (SELECT id FROM audit_scopes WHERE account_id = $1 AND region = $2) FROM audit_index_state WHERE id = 1`, q.AccountID, q.Region).Scan(&ix.upto, &ix.purged, &scope)
	} else {
		err = tx.QueryRow(ctx, `SELECT upto, purged FROM audit_index_state WHERE id = 1`).Scan(&ix.upto, &ix.purged)
	}
	if err != nil {
		return nil, fmt.Errorf("audit: lookup: %w", err)
	}
	ix.scope, ix.scoped = scope.Int64, scope.Valid
	pg := db.Driver() == store.DriverPostgres
	if q.IncludeData {
		text, args := lookupSQL(q, pg, ix)
		return scanRows(ctx, tx, q, text, args)
	}
	top := topN{limit: q.Limit}
	w := newWindow(q)
	// (a) the index.
	if ix.upto > ix.purged {
		if q.Attr == AttrEventID {
			text, args := eventIDSQL(q, pg, ix)
			if err := top.pushQuery(ctx, tx, text, args); err != nil {
				return nil, err
			}
		} else {
			scopes, err := lookupScopes(ctx, tx, q, ix)
			if err != nil {
				return nil, err
			}
			// The rows to read: each a key and, for an ARN, the tag its
			// entries in its short name's rows carry (index.go).
			type read struct {
				k   attrValue
				arn string
			}
			var reads []read
			switch {
			case q.Attr == "":
				reads = []read{{attrValue{'r', "true"}, ""}, {attrValue{'r', "false"}, ""}}
			case q.Attr == AttrResourceName && ResourceName(q.Value) != q.Value:
				// An ARN: its entries in its short name's rows, and rows
				// of its own carried over from before those (0261).
				reads = []read{{attrValue{'m', ResourceName(q.Value)}, q.Value}, {attrValue{'m', q.Value}, ""}}
			default:
				reads = []read{{attrValue{attrCode[q.Attr][0], q.Value}, ""}}
			}
			for _, s := range scopes {
				for _, r := range reads {
					if err := scanPostings(ctx, tx, s, r.k, r.arn, w, ix, &top); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	// (b) the tail.
	text, args := lookupSQL(q, pg, ix)
	if err := top.pushQuery(ctx, tx, text, args); err != nil {
		return nil, err
	}
	if len(top.es) == 0 {
		return nil, nil
	}
	// The rows, by sequence number (integers: safe to inline).
	var b strings.Builder
	b.WriteString("SELECT " + rowColumns + " FROM events e WHERE e.seq IN (")
	for i, e := range top.es {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(e.seq, 10))
	}
	b.WriteString(") ORDER BY e.event_time_ms DESC, e.seq DESC")
	return scanRows(ctx, tx, q, b.String(), nil)
}

func scanRows(ctx context.Context, tx *store.Tx, q Query, text string, args []any) ([]Row, error) {
	rs, err := tx.Query(ctx, text, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: lookup: %w", err)
	}
	defer rs.Close()
	rows := make([]Row, 0, min(q.Limit, 64))
	var blocked []int // rows whose record is in a block
	for rs.Next() {
		var r Row
		if err := rs.Scan(&r.Seq, &r.TimeMs, &r.EventID, &r.EventName, &r.EventSource, &r.ReadOnly, &r.Username, &r.AccessKeyID, &r.Record); err != nil {
			return nil, fmt.Errorf("audit: lookup: %w", err)
		}
		if r.Record == "" {
			blocked = append(blocked, len(rows))
		}
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("audit: lookup: %w", err)
	}
	rs.Close()
	br := blockReader{tx: tx}
	for _, i := range blocked {
		rec, err := br.record(ctx, rows[i].Seq, nil)
		if err != nil {
			return nil, err
		}
		rows[i].Record = string(rec)
	}
	return rows, nil
}

// window is a lookup's bounds: entries strictly older than hi (in
// newest-first order) and at or after start.
type window struct {
	hi    entry
	start int64 // math.MinInt64: none
}

func newWindow(q Query) window {
	hi := entry{t: math.MaxInt64, seq: math.MaxInt64}
	if !q.End.IsZero() {
		hi = entry{t: q.End.UnixMilli(), seq: math.MaxInt64}
	}
	if q.After != nil {
		if a := (entry{t: q.After.TimeMs, seq: q.After.Seq}); a.less(hi) {
			hi = a
		}
	}
	w := window{hi: hi, start: math.MinInt64}
	if !q.Start.IsZero() {
		w.start = q.Start.UnixMilli()
	}
	return w
}

func (w window) holds(e entry) bool { return e.less(w.hi) && e.t >= w.start }

// topN keeps the newest limit entries pushed, newest first.
type topN struct {
	limit int
	es    []entry
}

// full reports whether nothing older than the oldest kept entry can enter.
func (t *topN) full() bool { return len(t.es) >= t.limit }

func (t *topN) push(e entry) {
	if t.full() && !t.es[len(t.es)-1].less(e) {
		return
	}
	i := sort.Search(len(t.es), func(i int) bool { return t.es[i].less(e) })
	if i < len(t.es) && t.es[i] == e {
		return
	}
	if i > 0 && t.es[i-1] == e {
		return
	}
	if !t.full() {
		t.es = append(t.es, entry{})
	}
	copy(t.es[i+1:], t.es[i:len(t.es)-1])
	t.es[i] = e
}

// pushQuery pushes the (time, seq) rows of a query.
func (t *topN) pushQuery(ctx context.Context, tx *store.Tx, text string, args []any) error {
	rs, err := tx.Query(ctx, text, args...)
	if err != nil {
		return fmt.Errorf("audit: lookup: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var e entry
		if err := rs.Scan(&e.t, &e.seq); err != nil {
			return fmt.Errorf("audit: lookup: %w", err)
		}
		t.push(e)
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("audit: lookup: %w", err)
	}
	return nil
}

// lookupScopes returns the scopes a lookup reads the index of.
func lookupScopes(ctx context.Context, tx *store.Tx, q Query, ix indexView) ([]int64, error) {
	if q.AccountID != "" && q.Region != "" {
		if ix.scoped {
			return []int64{ix.scope}, nil
		}
		return nil, nil
	}
	var w []string
	var args []any
	if q.AccountID != "" {
		args = append(args, q.AccountID)
		w = append(w, "account_id = $1")
	}
	if q.Region != "" {
		args = append(args, q.Region)
		w = append(w, "region = $"+strconv.Itoa(len(args)))
	}
	text := `SELECT id FROM audit_scopes`
	if len(w) > 0 {
		text += " WHERE " + strings.Join(w, " AND ")
	}
	rs, err := tx.Query(ctx, text+" ORDER BY id", args...)
	if err != nil {
		return nil, fmt.Errorf("audit: lookup: %w", err)
	}
	defer rs.Close()
	var ids []int64
	for rs.Next() {
		var id int64
		if err := rs.Scan(&id); err != nil {
			return nil, fmt.Errorf("audit: lookup: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rs.Err()
}

// scanPostings pushes into top the entries of key k in scope that w holds
// (arn not "": only those tagged with arn), reading its posting rows newest
// first (by max_t, then max_seq) in growing pages, from the first that can
// hold an entry at or before w.hi to the last that can still enter top.
func scanPostings(ctx context.Context, tx *store.Tx, scope int64, k attrValue, arn string, w window, ix indexView, top *topN) error {
	// Every entry of a row is within postingSpan below its max_t.
	cur := entry{t: math.MaxInt64, seq: math.MaxInt64}
	if w.hi.t < math.MaxInt64-postingSpan {
		cur = entry{t: w.hi.t + postingSpan, seq: math.MinInt64}
	}
	page := int64(4)
	for {
		rs, err := tx.Query(ctx, `SELECT max_t, max_seq, list, arns FROM event_postings WHERE scope = $1 AND attr = $2 AND value = $3 AND (max_t, max_seq) < ($4, $5) `+
			`ORDER BY max_t DESC, max_seq DESC LIMIT $6`, scope, string(k.code), k.value, cur.t, cur.seq, page)
		if err != nil {
			return fmt.Errorf("audit: lookup: %w", err)
		}
		n := int64(0)
		done := false
		for rs.Next() {
			n++
			var list, arns string
			if err := rs.Scan(&cur.t, &cur.seq, &list, &arns); err != nil {
				rs.Close()
				return fmt.Errorf("audit: lookup: %w", err)
			}
			if cur.t < w.start || (top.full() && cur.less(top.es[len(top.es)-1])) {
				// Nothing in this row or after it can enter.
				done = true
				break
			}
			want := 0 // the tag wanted, or 0: any
			if arn != "" {
				if want = rowTag(arns, arn); want == 0 {
					continue // no entry for arn
				}
			}
			err := decodeList(list, cur.t, cur.seq, arns != "", func(e entry, tag int) bool {
				if e.seq <= ix.purged {
					return false // sequence descending: the rest is purged too
				}
				if e.seq <= ix.upto && w.holds(e) && (want == 0 || tag == want) {
					top.push(e)
				}
				return true
			})
			if err != nil {
				rs.Close()
				return err
			}
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return fmt.Errorf("audit: lookup: %w", err)
		}
		if done || n < page {
			return nil
		}
		page = min(2*page, 256)
	}
}

// rowTag is the tag of arn in a row's arns column, 0 if it has none.
func rowTag(arns, arn string) int {
	if arns == "" {
		return 0
	}
	var list []string
	if json.Unmarshal([]byte(arns), &list) != nil {
		return 0
	}
	return slices.Index(list, arn) + 1
}

// eventIDSQL selects (time, seq) of the indexed events with q's EventId.
func eventIDSQL(q Query, pg bool, ix indexView) (string, []any) {
	args := []any{q.Value, ix.upto}
	text := "SELECT e.event_time_ms, e.seq FROM event_ids x JOIN events e ON e.seq = x.seq WHERE x.event_id = $1 AND x.seq <= $2"
	for _, c := range scanConds(q, pg, &args) {
		text += " AND " + c
	}
	return text, args
}

// indexView is what a lookup knows of the index: upto (see index.go),
// purged (every event at or below it is gone) and, when the query names an
// account and a region, that pair's scope (scoped false: it has no indexed
// event).
type indexView struct {
	upto   int64
	purged int64
	scope  int64
	scoped bool
}

const rowColumns = "e.seq, e.event_time_ms, e.event_id, e.event_name, e.event_source, e.read_only, e.username, e.access_key_id, e.record"

// scanConds are the conditions on events e for q, by the events' own
// columns, appending their arguments to args.
func scanConds(q Query, pg bool, args *[]any) []string {
	arg := func(v any) string {
		*args = append(*args, v)
		return "$" + strconv.Itoa(len(*args))
	}
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
	win := newWindow(q)
	if win.hi.seq == math.MaxInt64 {
		if win.hi.t != math.MaxInt64 {
			w = append(w, "e.event_time_ms <= "+arg(win.hi.t))
		}
	} else {
		w = append(w, "(e.event_time_ms, e.seq) < ("+arg(win.hi.t)+", "+arg(win.hi.seq)+")")
	}
	if win.start != math.MinInt64 {
		w = append(w, "e.event_time_ms >= "+arg(win.start))
	}
	return w
}

// lookupSQL is, for a lookup of management events, the query of the
// (time, seq) of the newest q.Limit matching events above ix.upto (the
// tail, not indexed yet), filtered by their own columns; for a lookup that
// includes data events (offline CLI only; data events are never indexed),
// the query of the rows themselves, scanning events. q.Attr is already
// validated.
func lookupSQL(q Query, pg bool, ix indexView) (string, []any) {
	var args []any
	w := scanConds(q, pg, &args)
	limit := func() string {
		args = append(args, int64(q.Limit))
		return " ORDER BY e.event_time_ms DESC, e.seq DESC LIMIT $" + strconv.Itoa(len(args))
	}
	if q.IncludeData {
		return "SELECT " + rowColumns + " FROM events e WHERE " + strings.Join(w, " AND ") + limit(), args
	}
	args = append(args, ix.upto)
	w = append([]string{"e.seq > $" + strconv.Itoa(len(args))}, w...)
	return "SELECT e.event_time_ms, e.seq FROM events e WHERE " + strings.Join(w, " AND ") + limit(), args
}
