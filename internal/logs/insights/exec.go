package insights

import (
	"container/heap"
	"sort"
	"strings"

	"lextrail/internal/logs/jsonscan"
)

// Record is one log event as a query sees it.
type Record struct {
	Timestamp     int64 // epoch milliseconds
	IngestionTime int64
	Message       []byte
	LogStream     string
	// Log is @log: "accountId:logGroupName".
	Log string
}

// Field is one field of a result row, as GetQueryResults returns it.
type Field struct {
	Field string `json:"field"`
	Value string `json:"value"`
}

// Statistics are a query's counters.
type Statistics struct {
	RecordsMatched float64 `json:"recordsMatched"`
	RecordsScanned float64 `json:"recordsScanned"`
	BytesScanned   float64 `json:"bytesScanned"`
}

// DefaultLimit is the number of rows returned when neither the query nor
// the caller sets one (StartQuery's default).
const DefaultLimit = 1000

// system fields
const (
	srcNone = iota
	srcTimestamp
	srcMessage
	srcLogStream
	srcLog
	srcIngestion
	srcJSON
)

// Executor runs a query over records fed to it with Add. It is not safe
// for concurrent use.
type Executor struct {
	q     *Query
	limit int

	src     []uint8 // per slot: where an unassigned field comes from
	jsonIdx []int   // per slot: index into json values, or -1
	jset    *jsonscan.Set
	jvals   []jsonscan.Value

	r     row
	stats Statistics
	seq   int64

	// event rows
	outCols []outCol
	keys    []sortKey
	top     rowHeap

	// stats groups
	groups map[string]*group
	order  []*group
	kb     []byte
}

// Outputs are the output column names of event rows (the result of a
// query without stats).
func (q *Query) outputs() []outCol {
	if q.display != nil {
		return q.display
	}
	if len(q.out) > 0 {
		var cols []outCol
		seen := map[string]bool{}
		for _, c := range q.out {
			if !seen[c.name] {
				seen[c.name] = true
				cols = append(cols, c)
			}
		}
		return cols
	}
	return []outCol{{name: "@timestamp", slot: q.syms.slot("@timestamp")}, {name: "@message", slot: q.syms.slot("@message")}}
}

// HasStats reports whether the query aggregates.
func (q *Query) HasStats() bool { return q.stats != nil }

// Limit is the query's own limit (0 if it has none).
func (q *Query) Limit() int { return q.limit }

// NewExecutor prepares a run of q returning at most limit rows (the
// query's own limit wins when smaller; 0 means DefaultLimit).
func (q *Query) NewExecutor(limit int) *Executor {
	if limit <= 0 {
		limit = DefaultLimit
	}
	if q.limit > 0 && q.limit < limit {
		limit = q.limit
	}
	x := &Executor{q: q, limit: limit}
	// Resolve output columns first: they may add symbols.
	if q.stats == nil {
		x.outCols = q.outputs()
		x.keys = q.sort
		if len(x.keys) == 0 {
			x.keys = []sortKey{{name: "@timestamp", slot: q.syms.slot("@timestamp"), desc: true}}
		}
	} else {
		x.groups = map[string]*group{}
	}
	n := len(q.syms.names)
	x.src = make([]uint8, n)
	x.jsonIdx = make([]int, n)
	var paths []jsonscan.Path
	for i, name := range q.syms.names {
		x.jsonIdx[i] = -1
		switch name {
		case "@timestamp":
			x.src[i] = srcTimestamp
		case "@message":
			x.src[i] = srcMessage
		case "@logStream":
			x.src[i] = srcLogStream
		case "@log":
			x.src[i] = srcLog
		case "@ingestionTime":
			x.src[i] = srcIngestion
		default:
			if strings.HasPrefix(name, "@") {
				continue
			}
			x.src[i] = srcJSON
			x.jsonIdx[i] = len(paths)
			paths = append(paths, jsonscan.DottedPath(name))
		}
	}
	if len(paths) > 0 {
		x.jset = jsonscan.NewSet(paths)
		x.jvals = make([]jsonscan.Value, len(paths))
	}
	x.r = row{x: x, vals: make([]value, n), set: make([]bool, n)}
	x.top.x = x
	return x
}

// row is the evaluation context of one record (or one stats result row,
// rec nil).
type row struct {
	x      *Executor
	rec    *Record
	vals   []value
	set    []bool
	jsonOK bool
}

func (r *row) reset(rec *Record) {
	r.rec = rec
	clear(r.set)
	r.jsonOK = false
	x := r.x
	if rec != nil && x.jset != nil {
		i := 0
		for i < len(rec.Message) && (rec.Message[i] == ' ' || rec.Message[i] == '\t' || rec.Message[i] == '\n' || rec.Message[i] == '\r') {
			i++
		}
		if i < len(rec.Message) && rec.Message[i] == '{' {
			r.jsonOK = x.jset.Scan(rec.Message, x.jvals)
		}
	}
}

func (r *row) assign(slot int, v value) {
	r.vals[slot] = v
	r.set[slot] = true
}

func (r *row) timestamp() int64 {
	if r.rec == nil {
		return 0
	}
	return r.rec.Timestamp
}

func (r *row) field(slot int) value {
	if r.set[slot] {
		return r.vals[slot]
	}
	rec := r.rec
	if rec == nil {
		return value{}
	}
	x := r.x
	switch x.src[slot] {
	case srcTimestamp:
		return timeVal(float64(rec.Timestamp))
	case srcMessage:
		return str(string(rec.Message))
	case srcLogStream:
		return str(rec.LogStream)
	case srcLog:
		return str(rec.Log)
	case srcIngestion:
		return timeVal(float64(rec.IngestionTime))
	case srcJSON:
		if !r.jsonOK {
			return value{}
		}
		v := x.jvals[x.jsonIdx[slot]]
		var out value
		switch v.Kind {
		case jsonscan.String:
			out = str(v.Text())
		case jsonscan.Number:
			if f, ok := v.Float(); ok {
				out = num(f)
			} else {
				out = str(string(v.Raw))
			}
		case jsonscan.True:
			out = num(1)
		case jsonscan.False:
			out = num(0)
		default: // missing, null, objects and arrays are not fields
			return value{}
		}
		r.assign(slot, out) // decode once per record
		return out
	}
	return value{}
}

// runCommands applies per-row commands; false means the row is dropped.
func (r *row) runCommands(cmds []command) bool {
	for _, c := range cmds {
		switch c := c.(type) {
		case fieldsCmd:
			for _, col := range c.cols {
				if col.expr != nil {
					r.assign(col.slot, col.expr.eval(r))
				}
			}
		case filterCmd:
			if !c.cond.eval(r).truthy() {
				return false
			}
		case parseCmd:
			v := c.src.eval(r)
			if v.k == kNull {
				continue
			}
			m := c.re.FindStringSubmatch(v.text())
			if m == nil {
				continue
			}
			for i, s := range c.slots {
				if s >= 0 && i < len(m) {
					r.assign(s, str(m[i]))
				}
			}
		}
	}
	return true
}

// Add feeds one record to the query.
func (x *Executor) Add(rec *Record) {
	x.stats.RecordsScanned++
	x.stats.BytesScanned += float64(len(rec.Message))
	r := &x.r
	r.reset(rec)
	if !r.runCommands(x.q.events) {
		return
	}
	x.stats.RecordsMatched++
	if x.q.stats != nil {
		x.aggregate(r)
		return
	}
	x.seq++
	er := &eventRow{seq: x.seq, keys: make([]value, len(x.keys))}
	for i, k := range x.keys {
		er.keys[i] = r.field(k.slot)
	}
	if len(x.top.rows) >= x.limit {
		// Full: keep it only if it sorts before the current last row.
		if !x.less(er, x.top.rows[0]) {
			return
		}
	}
	er.fields = make([]Field, 0, len(x.outCols))
	for _, c := range x.outCols {
		v := r.field(c.slot)
		if v.k == kNull {
			continue // AWS leaves a row's absent fields out
		}
		er.fields = append(er.fields, Field{Field: c.name, Value: v.text()})
	}
	if len(x.top.rows) >= x.limit {
		x.top.rows[0] = er
		heap.Fix(&x.top, 0)
		return
	}
	heap.Push(&x.top, er)
}

type eventRow struct {
	seq    int64
	keys   []value
	fields []Field
}

// less reports whether a sorts before b in the result.
func (x *Executor) less(a, b *eventRow) bool {
	if c := compareKeys(x.keys, a.keys, b.keys); c != 0 {
		return c < 0
	}
	return a.seq < b.seq
}

func compareKeys(keys []sortKey, a, b []value) int {
	for i, k := range keys {
		va, vb := a[i], b[i]
		// Missing values go last in both directions.
		switch {
		case va.k == kNull && vb.k == kNull:
			continue
		case va.k == kNull:
			return 1
		case vb.k == kNull:
			return -1
		}
		c := naturalCompare(va, vb)
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// rowHeap is a max-heap by result order: the row that would be dropped
// first is at the top.
type rowHeap struct {
	x    *Executor
	rows []*eventRow
}

func (h *rowHeap) Len() int           { return len(h.rows) }
func (h *rowHeap) Less(i, j int) bool { return h.x.less(h.rows[j], h.rows[i]) }
func (h *rowHeap) Swap(i, j int)      { h.rows[i], h.rows[j] = h.rows[j], h.rows[i] }
func (h *rowHeap) Push(v any)         { h.rows = append(h.rows, v.(*eventRow)) }
func (h *rowHeap) Pop() any {
	v := h.rows[len(h.rows)-1]
	h.rows = h.rows[:len(h.rows)-1]
	return v
}

// ---- stats ----

type group struct {
	by   []value
	aggs []aggState
}

type aggState struct {
	n        float64
	sum      float64
	min, max value
	distinct map[string]struct{}
}

func (x *Executor) aggregate(r *row) {
	st := x.q.stats
	x.kb = x.kb[:0]
	byVals := make([]value, len(st.by))
	for i, b := range st.by {
		var v value
		if b.expr != nil {
			v = b.expr.eval(r)
		} else {
			v = r.field(b.slot)
		}
		byVals[i] = v
		x.kb = append(x.kb, byte(v.k))
		x.kb = append(x.kb, v.text()...)
		x.kb = append(x.kb, 0)
	}
	g := x.groups[string(x.kb)]
	if g == nil {
		g = &group{by: byVals, aggs: make([]aggState, len(st.aggs))}
		x.groups[string(x.kb)] = g
		x.order = append(x.order, g)
	}
	for i, a := range st.aggs {
		s := &g.aggs[i]
		if a.fn == "count_star" {
			s.n++
			continue
		}
		v := a.arg.eval(r)
		if v.k == kNull {
			continue
		}
		switch a.fn {
		case "count":
			s.n++
		case "count_distinct":
			if s.distinct == nil {
				s.distinct = map[string]struct{}{}
			}
			s.distinct[v.text()] = struct{}{}
		case "sum", "avg":
			if f, ok := v.number(); ok {
				s.n++
				s.sum += f
			}
		case "min", "max":
			if _, ok := v.number(); !ok {
				continue
			}
			if s.n == 0 || (a.fn == "min" && naturalCompare(v, s.min) < 0) {
				s.min = v
			}
			if s.n == 0 || (a.fn == "max" && naturalCompare(v, s.max) > 0) {
				s.max = v
			}
			s.n++
		}
	}
}

func (s *aggState) result(fn string) value {
	switch fn {
	case "count_star", "count":
		return num(s.n)
	case "count_distinct":
		return num(float64(len(s.distinct)))
	case "sum":
		if s.n == 0 {
			return value{}
		}
		return num(s.sum)
	case "avg":
		if s.n == 0 {
			return value{}
		}
		return num(s.sum / s.n)
	case "min":
		if s.n == 0 {
			return value{}
		}
		return s.min
	case "max":
		if s.n == 0 {
			return value{}
		}
		return s.max
	}
	return value{}
}

// Result returns the rows so far and the statistics. It may be called
// between Adds (GetQueryResults of a running query).
func (x *Executor) Result() ([][]Field, Statistics) {
	if x.q.stats == nil {
		rows := make([]*eventRow, len(x.top.rows))
		copy(rows, x.top.rows)
		sort.SliceStable(rows, func(i, j int) bool { return x.less(rows[i], rows[j]) })
		out := make([][]Field, len(rows))
		for i, r := range rows {
			out[i] = r.fields
		}
		return out, x.stats
	}
	return x.statsResult(), x.stats
}

func (x *Executor) statsResult() [][]Field {
	st := x.q.stats
	type srow struct {
		vals []value
		seq  int
	}
	var rows []srow
	r := &x.r
	colSlots := make([]int, len(st.cols))
	for i, c := range st.cols {
		colSlots[i] = x.q.syms.slot(c)
	}
	// Post-stats commands may name symbols added after NewExecutor.
	x.growSlots()
	for gi, g := range x.order {
		vals := make([]value, 0, len(st.cols))
		vals = append(vals, g.by...)
		for i, a := range st.aggs {
			vals = append(vals, g.aggs[i].result(a.fn))
		}
		if len(x.q.post) > 0 {
			r.reset(nil)
			for i, s := range colSlots {
				r.assign(s, vals[i])
			}
			if !r.runCommands(x.q.post) {
				continue
			}
		}
		rows = append(rows, srow{vals: vals, seq: gi})
	}
	if len(x.q.sort) > 0 {
		sort.SliceStable(rows, func(i, j int) bool {
			for _, k := range x.q.sort {
				a, b := rows[i].vals[k.slot], rows[j].vals[k.slot]
				if c := compareKeys([]sortKey{k}, []value{a}, []value{b}); c != 0 {
					return c < 0
				}
			}
			return rows[i].seq < rows[j].seq
		})
	} else if len(st.by) > 0 && isBin(st.by[0]) {
		// Time series come out in time order.
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].vals[0].n < rows[j].vals[0].n })
	}
	if len(rows) > x.limit {
		rows = rows[:x.limit]
	}
	// Output columns: display (or post-stats fields) pick from the stats
	// columns and fields computed after stats.
	var cols []outCol
	switch {
	case x.q.display != nil:
		cols = x.q.display
	default:
		for i, c := range st.cols {
			cols = append(cols, outCol{name: c, slot: colSlots[i]})
		}
	}
	out := make([][]Field, 0, len(rows))
	for _, row := range rows {
		r.reset(nil)
		for i, s := range colSlots {
			r.assign(s, row.vals[i])
		}
		if len(x.q.post) > 0 {
			r.runCommands(x.q.post)
		}
		fields := make([]Field, 0, len(cols))
		for _, c := range cols {
			v := r.field(c.slot)
			if v.k == kNull {
				continue
			}
			fields = append(fields, Field{Field: c.name, Value: v.text()})
		}
		out = append(out, fields)
	}
	return out
}

func (x *Executor) growSlots() {
	n := len(x.q.syms.names)
	for len(x.src) < n {
		x.src = append(x.src, srcNone)
		x.jsonIdx = append(x.jsonIdx, -1)
		x.r.vals = append(x.r.vals, value{})
		x.r.set = append(x.r.set, false)
	}
}

func isBin(c outCol) bool {
	call, ok := c.expr.(*call)
	return ok && call.fn == "bin"
}
