package audit

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"lextrail/internal/store"
)

// The lookup index (migrations 0260, 0261).
//
// An event's transaction writes only its events row. Its LookupEvents
// entries are added afterwards, for many events at once, by IndexPending:
// up to audit_index_state.upto every management event has its entries and
// above it none has. An entry is a (time, sequence) pair in a posting row
// of event_postings, one row per (scope, attribute code, value, 10 s time
// window) per indexer batch (postings.go), so that a value repeated across
// a batch (ReadOnly, EventSource, EventName, the caller's Username and
// AccessKeyId, ResourceType) costs one row per batch rather than one
// B-tree entry per event; EventId, distinct per event, is a row of
// event_ids. Lookups (lookup.go) read the posting rows of their value
// newest first for sequence numbers at or below upto and scan the events
// above it, the tail, directly; so an event is found by its attributes as
// soon as its transaction has committed, whether it was indexed yet or
// not. The Recorder runs IndexPending shortly after events were written
// (indexLoop), taking the events from its memo of what it committed when
// that covers the batch (eventMemo), and Insert does it inline when the
// tail grows past maxTail (a history written without a Recorder, or an
// indexer that cannot keep up), so a lookup never scans more than about
// maxTail events.
//
// Ordering: on PostgreSQL a transaction's sequence numbers are taken under
// the audit_counter row lock, held to commit (storage.go), so every event
// at or below the committed counter has committed; on SQLite, with one
// writer, every stored event has. IndexPending never indexes past that
// horizon (cursor.go). IndexPending, inline indexing and the retention purge
// first lock the audit_index_state row, so they run one at a time across
// nodes; a writer that indexes inline takes that lock after the counter's,
// as everyone else either takes only one of them or the same order.

// Attribute codes in event_postings.attr and in events.resources.
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
//
// It reads the batch's management events once, groups their attribute
// values by (scope, attribute, value, postingSpan window) and writes one
// event_postings row per group and one event_ids row per event, each set
// in a single statement.
func IndexPending(ctx context.Context, db *store.DB, tx *store.Tx, max int64) (int64, error) {
	return indexPending(ctx, db, tx, max, nil)
}

// indexPending is IndexPending taking the events from memo where it holds
// every one of the batch (else reading them from the events table).
func indexPending(ctx context.Context, db *store.DB, tx *store.Tx, max int64, memo *eventMemo) (int64, error) {
	var from, upto, purged int64
	if err := tx.QueryRow(ctx, `UPDATE audit_index_state SET upto = upto WHERE id = 1 RETURNING upto, purged`).Scan(&from, &purged); err != nil {
		return 0, fmt.Errorf("audit: index state: %w", err)
	}
	// The counter as committed (or as this transaction set it): every
	// event at or below it is visible here.
	if err := tx.QueryRow(ctx, horizonSQL).Scan(&upto); err != nil {
		return 0, fmt.Errorf("audit: index horizon: %w", err)
	}
	if max > 0 && upto-from > max {
		upto = from + max
	}
	if upto <= from {
		return 0, nil
	}
	pg := db.Driver() == store.DriverPostgres
	scopes, err := loadScopes(ctx, tx)
	if err != nil {
		return 0, err
	}
	b := &postingBuilder{groups: make(map[postingKey]int)}
	var evs []indexedEvent
	ok := false
	if memo != nil && purged <= from { // (none of the batch purged since it committed)
		evs, ok = memo.take(from, upto)
		if ok {
			memoHits.Add(1)
		}
	}
	if !ok {
		if evs, err = readIndexed(ctx, tx, from, upto); err != nil {
			return 0, err
		}
	}
	var vals []attrValue
	ids := make([]any, 0, 2*len(evs))
	for i := range evs {
		ev := &evs[i]
		scope, err := scopes.id(ctx, tx, ev.account, ev.region)
		if err != nil {
			return 0, err
		}
		if vals, err = ev.values(vals[:0]); err != nil {
			return 0, err
		}
		for _, v := range vals {
			// A resource's ARN is an entry of its short name's row, tagged
			// with the ARN: one row for both (lookup.go).
			arn := ""
			if v.code == 'm' {
				if short := ResourceName(v.value); short != v.value {
					arn, v.value = v.value, short
				}
			}
			b.add(postingKey{scope, v.code, v.value, bucketOf(ev.t)}, entry{ev.t, ev.seq}, arn)
		}
		ids = append(ids, ev.id, ev.seq)
	}
	if err := insertRows(ctx, tx, pg, postingsInsert, b.rows()); err != nil {
		return 0, fmt.Errorf("audit: index events: %w", err)
	}
	if err := insertRows(ctx, tx, pg, idsInsert, ids); err != nil {
		return 0, fmt.Errorf("audit: index events: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE audit_index_state SET upto = $1 WHERE id = 1`, upto); err != nil {
		return 0, fmt.Errorf("audit: index state: %w", err)
	}
	return upto - from, nil
}

// readIndexed reads the management events with from < seq <= upto.
func readIndexed(ctx context.Context, tx *store.Tx, from, upto int64) ([]indexedEvent, error) {
	rs, err := tx.Query(ctx, `SELECT `+eventColumnsIndexed+` FROM events WHERE seq > $1 AND seq <= $2 AND category = 'Management' ORDER BY seq`, from, upto)
	if err != nil {
		return nil, fmt.Errorf("audit: index events: %w", err)
	}
	defer rs.Close()
	var ev indexedEvent
	var res []byte
	var evs []indexedEvent
	args := ev.scanArgs(&res)
	for rs.Next() {
		res = res[:0]
		if err := rs.Scan(args...); err != nil {
			return nil, fmt.Errorf("audit: index events: %w", err)
		}
		ev.resources = string(res)
		evs = append(evs, ev)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("audit: index events: %w", err)
	}
	return evs, nil
}

// eventMemo keeps what the indexer needs of the events a Recorder
// committed, so that it need not read them back: for a batch whose every
// sequence number the memo holds (none written by another node or behind
// the Recorder's back) it is exactly what the events table holds.
//
// It is a window of consecutive sequence numbers, base+1 onwards, one slot
// each (committed events arrive in about sequence order; a slot of a number
// not seen is empty): adding costs a slot write, with no map and nothing
// allocated per event (the slot copies the event's index fields, sharing
// their strings; the record is not kept).
type eventMemo struct {
	mu    sync.Mutex
	base  int64       // slots[i] is sequence number base+1+i
	slots []memoEvent // from head on
	head  int
	n     int // slots set
}

type memoEvent struct {
	set, management bool
	ev              indexedEvent
}

// memoHits counts the batches indexed from a memo (tests).
var memoHits atomic.Int64

// memoMax bounds the memo's window: past it (an indexer that cannot keep
// up, or one that indexes other nodes' events) it starts over.
const memoMax = 1 << 16

// add records committed events.
func (m *eventMemo) add(evs []*Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ev := range evs {
		i := ev.Seq - m.base - 1
		floor := m.base + int64(m.head) // everything at or below it is taken
		switch {
		case ev.Seq <= floor:
			// Taken already: its batch was read from the table.
			continue
		case m.n == 0 || i >= memoMax+int64(m.head):
			// Empty, or too far ahead: a new window, from the floor if
			// that is near.
			clear(m.slots)
			m.slots, m.head, m.n = m.slots[:0], 0, 0
			m.base = ev.Seq - 1
			if m.n == 0 && ev.Seq-floor <= memoMax/2 {
				m.base = floor
			}
			i = ev.Seq - m.base - 1
		case i < int64(m.head):
			// Taken already, or before the window: its batch will be read
			// from the table.
			continue
		}
		if int(i) >= len(m.slots) {
			if int(i) < cap(m.slots) {
				m.slots = m.slots[:i+1]
			} else {
				m.slots = append(m.slots, make([]memoEvent, int(i)+1-len(m.slots))...)
			}
		}
		s := &m.slots[i]
		if !s.set {
			m.n++
		}
		*s = memoEvent{set: true, management: ev.Category == CategoryManagement}
		if s.management {
			s.ev = indexedEvent{seq: ev.Seq, t: ev.TimeMs, account: ev.AccountID, region: ev.Region, readOnly: readOnlyValue(ev.ReadOnly),
				name: ev.EventName, source: ev.EventSource, user: ev.Username, key: ev.AccessKeyID, id: ev.EventID,
				res: ev.Resources, memo: true}
		}
	}
}

// size is the number of events the memo holds.
func (m *eventMemo) size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n
}

// take returns the management events with from < seq <= upto in sequence
// order if the memo holds every number of the range, and forgets
// everything at or below upto.
func (m *eventMemo) take(from, upto int64) ([]indexedEvent, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var evs []indexedEvent
	lo, hi := from-m.base-1, upto-m.base-1 // slot indexes of from+1 and upto
	ok := m.n > 0 && lo+1 >= int64(m.head) && hi < int64(len(m.slots))
	if ok {
		lo++
		evs = make([]indexedEvent, 0, hi-lo+1)
		for i := lo; i <= hi; i++ {
			s := &m.slots[i]
			if !s.set {
				ok = false
				break
			}
			if s.management {
				evs = append(evs, s.ev)
			}
		}
		if !ok {
			evs = nil
		}
	}
	// Forget everything at or below upto.
	end := min(hi+1, int64(len(m.slots)))
	for i := int64(m.head); i < end; i++ {
		if m.slots[i].set {
			m.n--
		}
		m.slots[i] = memoEvent{}
	}
	if end > int64(m.head) {
		m.head = int(end)
	}
	if m.n == 0 {
		// Empty: the next add starts a new window.
		m.slots, m.head = m.slots[:0], 0
		m.base = max(m.base, upto)
	} else if m.head > len(m.slots)/2 {
		// Slide the window down.
		k := copy(m.slots, m.slots[m.head:])
		clear(m.slots[k:])
		m.slots = m.slots[:k]
		m.base += int64(m.head)
		m.head = 0
	}
	return evs, ok
}

// bucketOf is the postingSpan window of time t.
func bucketOf(t int64) int64 {
	if t < 0 {
		return (t+1)/postingSpan - 1
	}
	return t / postingSpan
}

// postingKey identifies a posting row being built.
type postingKey struct {
	scope  int64
	code   byte
	value  string
	bucket int64
}

// postingBuilder groups a batch's entries into rows, in first-seen order.
type postingBuilder struct {
	groups map[postingKey]int
	keys   []postingKey
	lists  [][]taggedEntry
	arns   [][]string // per row: the ARNs its entries are tagged with
}

// add adds e to k's row, tagged with arn (if not ""). An event adds an
// ARN's entry and its short name's to the same row: the tagged entry
// stands for both.
func (b *postingBuilder) add(k postingKey, e entry, arn string) {
	i, ok := b.groups[k]
	if !ok {
		i = len(b.keys)
		b.groups[k] = i
		b.keys = append(b.keys, k)
		b.lists = append(b.lists, nil)
		b.arns = append(b.arns, nil)
	}
	tag := 0
	if arn != "" {
		tag = slices.Index(b.arns[i], arn) + 1
		if tag == 0 {
			b.arns[i] = append(b.arns[i], arn)
			tag = len(b.arns[i])
		}
	}
	es := b.lists[i]
	// The event's entries already in the row (an event's values come
	// together).
	for j := len(es) - 1; j >= 0 && es[j].seq == e.seq; j-- {
		switch {
		case es[j].tag == tag || tag == 0:
			return // the same, or the short name beside a tagged entry
		case es[j].tag == 0:
			es[j].tag = tag // the short name came first
			return
		}
	}
	b.lists[i] = append(es, taggedEntry{e, tag})
}

// rows returns the rows' column values, postingsInsert's columns in
// order, row after row.
func (b *postingBuilder) rows() []any {
	out := make([]any, 0, 7*len(b.keys))
	var list, arns []byte
	for i, k := range b.keys {
		es := b.lists[i]
		maxT := es[0].t
		for _, e := range es[1:] {
			maxT = max(maxT, e.t)
		}
		maxSeq := es[len(es)-1].seq
		tagged := len(b.arns[i]) > 0
		list, arns = list[:0], arns[:0]
		if tagged {
			arns = append(arns, '[')
			for j, a := range b.arns[i] {
				if j > 0 {
					arns = append(arns, ',')
				}
				arns = appendString(arns, a)
			}
			arns = append(arns, ']')
		}
		if tagged || len(es) > 1 || es[0].t != maxT {
			list = appendList(list, es, maxT, maxSeq, tagged)
		}
		out = append(out, k.scope, codeString(k.code), k.value, maxT, maxSeq, string(list), string(arns))
	}
	return out
}

// codeString is the one-letter string of an attribute code.
func codeString(c byte) string { return codeStrings[c] }

var codeStrings = func() (s [256]string) {
	for i := range s {
		s[i] = string(rune(i))
	}
	return
}()

// rowsInsert is a multi-row INSERT of a table's columns.
type rowsInsert struct {
	head  string // "INSERT INTO t (a, b) VALUES "
	ncols int
	texts map[int][2]string // by row count, per dialect
}

var (
	postingsInsert = newRowsInsert("event_postings (scope, attr, value, max_t, max_seq, list, arns)", 7)
	idsInsert      = newRowsInsert("event_ids (event_id, seq)", 2)
)

// insertChunks are the row counts of the statements insertRows runs:
// each a cached statement (store/sqlitestmts.go), its parameters bound
// in one pass.
var insertChunks = []int{64, 16, 4, 1}

func newRowsInsert(table string, ncols int) *rowsInsert {
	r := &rowsInsert{ncols: ncols, texts: map[int][2]string{}}
	for _, n := range insertChunks {
		// SQLite gets anonymous parameters: it finds a named one ($N) by
		// walking the statement's list of names, for every parameter bound.
		var texts [2]string
		for d, pg := range []bool{false, true} {
			var b strings.Builder
			// OR FAIL on SQLite: a multi-row INSERT that may abort on a
			// constraint then needs no statement journal (insertVerb).
			b.WriteString(insertVerb(pg) + " INTO " + table + " VALUES ")
			p := 0
			for i := 0; i < n; i++ {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteByte('(')
				for c := 0; c < ncols; c++ {
					if c > 0 {
						b.WriteByte(',')
					}
					p++
					if pg {
						b.WriteString("$" + strconv.Itoa(p))
					} else {
						b.WriteByte('?')
					}
				}
				b.WriteByte(')')
			}
			texts[d] = b.String()
		}
		r.texts[n] = texts
	}
	return r
}

// insertRows inserts the rows whose column values args holds, row after
// row, in as few statements as insertChunks allows.
func insertRows(ctx context.Context, tx *store.Tx, pg bool, r *rowsInsert, args []any) error {
	for len(args) > 0 {
		rows := len(args) / r.ncols
		for _, n := range insertChunks {
			if n <= rows {
				if _, err := tx.Exec(ctx, r.texts[n][dialect(pg)], args[:n*r.ncols]...); err != nil {
					return err
				}
				args = args[n*r.ncols:]
				break
			}
		}
	}
	return nil
}

// scopeCache is audit_scopes as read by a transaction holding the
// audit_index_state lock (the only writers of audit_scopes).
type scopeCache map[[2]string]int64

func loadScopes(ctx context.Context, tx *store.Tx) (scopeCache, error) {
	rs, err := tx.Query(ctx, `SELECT id, account_id, region FROM audit_scopes`)
	if err != nil {
		return nil, fmt.Errorf("audit: scopes: %w", err)
	}
	defer rs.Close()
	c := scopeCache{}
	for rs.Next() {
		var id int64
		var a, r string
		if err := rs.Scan(&id, &a, &r); err != nil {
			return nil, fmt.Errorf("audit: scopes: %w", err)
		}
		c[[2]string{a, r}] = id
	}
	return c, rs.Err()
}

// id returns the scope of (account, region), numbering it if new.
func (c scopeCache) id(ctx context.Context, tx *store.Tx, account, region string) (int64, error) {
	k := [2]string{account, region}
	if id, ok := c[k]; ok {
		return id, nil
	}
	var id int64
	for _, v := range c {
		id = max(id, v)
	}
	id++
	if _, err := tx.Exec(ctx, `INSERT INTO audit_scopes (id, account_id, region) VALUES ($1, $2, $3)`, id, account, region); err != nil {
		return 0, fmt.Errorf("audit: scopes: %w", err)
	}
	c[k] = id
	return id, nil
}

// Pending returns how many sequence numbers are above the index (the
// tail), in a read transaction of its own.
func Pending(ctx context.Context, db *store.DB) (int64, error) {
	var n int64
	err := db.Read(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `SELECT (`+horizonSQL+`) - upto FROM audit_index_state WHERE id = 1`).Scan(&n)
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

// jsonElements is a FROM item j whose column value holds each element of
// the JSON array of strings in col, as text.
func jsonElements(pg bool, col string) string {
	if pg {
		return `json_array_elements_text(` + col + `::json) AS j(value)`
	}
	return `json_each(` + col + `) AS j`
}
