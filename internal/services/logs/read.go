package logs

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"lextrail/internal/logs/filter"
	"lextrail/internal/store"
)

// maxBatchSpan is the longest time span of one block (a PutLogEvents
// batch): it bounds range scans on min_ts / max_ts.
const maxBatchSpan = 24 * 60 * 60 * 1000

// pos is an event's place in read order: (timestamp, stream, seq). A cut
// pos splits events into those before it (key < cut) and the rest.
type pos struct {
	ts, stream, seq int64
}

func (a pos) less(b pos) bool {
	if a.ts != b.ts {
		return a.ts < b.ts
	}
	if a.stream != b.stream {
		return a.stream < b.stream
	}
	return a.seq < b.seq
}

// blockMeta is a listed block (without its bytes).
type blockMeta struct {
	streamID, firstSeq int64
	minTS, maxTS       int64
	events, rawBytes   int64
	ingest             int64
	dek, flags         int64
}

// scan describes what a reader wants.
type scan struct {
	groupID  int64
	streamID int64          // non-zero: one stream (its own indexes)
	streams  map[int64]bool // allowed streams (nil: every stream read returns)
	lo, hi   int64          // inclusive timestamp bounds
	reverse  bool
	cut      pos // forward: key >= cut; reverse: key < cut
	pattern  *filter.Pattern
	// scanLimit stops after examining this many events (0: no limit).
	scanLimit int
}

// outEvent is an event a reader returns.
type outEvent struct {
	pos
	ingest int64
	msg    []byte
}

// reader merges the events of the blocks a scan covers, in key order
// (descending for reverse scans), loading blocks lazily and filtering them
// on several cores.
type reader struct {
	s   *Service
	tx  *store.Tx
	sc  *scan
	ctx context.Context

	listed  []blockMeta // listed, not yet activated
	listEnd bool        // no more blocks to list
	// listing cursor
	lastMin    int64
	lastStream int64
	lastSeq    int64
	listedAny  bool

	queue []*blockJob // fetched, in listing order, not yet activated
	// Bloom sampling (see useBloom).
	bloomTried, bloomSkipped, bloomPause int
	cancel                               *atomic.Bool
	sem                                  chan struct{}

	h        curHeap
	examined int
	limited  bool
	err      error
}

func (s *Service) newReader(ctx context.Context, tx *store.Tx, sc *scan) *reader {
	r := &reader{s: s, tx: tx, sc: sc, ctx: ctx, cancel: new(atomic.Bool), sem: make(chan struct{}, filterWorkers)}
	r.h.reverse = sc.reverse
	if sc.reverse {
		r.lastMin = math.MaxInt64
	} else {
		r.lastMin = math.MinInt64
	}
	return r
}

// listPage lists the next page of candidate blocks, ordered by min_ts
// (forward) or max_ts descending (reverse).
func (r *reader) listPage() error {
	const page = 1000
	sc := r.sc
	lo, hi := sc.lo, sc.hi
	if !sc.reverse && sc.cut.ts > lo {
		lo = sc.cut.ts
	}
	if sc.reverse && sc.cut.ts < hi {
		hi = sc.cut.ts
	}
	col, id := "group_id", sc.groupID
	if sc.streamID != 0 {
		col, id = "stream_id", sc.streamID
	}
	var q string
	var args []any
	if !sc.reverse {
		// Blocks overlapping [lo, hi]: min_ts <= hi and max_ts >= lo, so
		// min_ts >= lo - span.
		q = `SELECT stream_id, first_seq, min_ts, max_ts, events, raw_bytes, ingest_ms, dek_id, flags FROM logs_blocks
			WHERE ` + col + ` = $1 AND min_ts >= $2 AND min_ts <= $3 AND max_ts >= $4`
		args = []any{id, sat(lo - maxBatchSpan), hi, lo}
		if r.listedAny {
			q += ` AND (min_ts > $5 OR (min_ts = $5 AND (stream_id > $6 OR (stream_id = $6 AND first_seq > $7))))`
			args = append(args, r.lastMin, r.lastStream, r.lastSeq)
		}
		q += ` ORDER BY min_ts, stream_id, first_seq LIMIT 1000`
	} else {
		q = `SELECT stream_id, first_seq, min_ts, max_ts, events, raw_bytes, ingest_ms, dek_id, flags FROM logs_blocks
			WHERE ` + col + ` = $1 AND max_ts <= $2 AND max_ts >= $3 AND min_ts <= $4`
		args = []any{id, addSat(hi, maxBatchSpan), lo, hi}
		if r.listedAny {
			q += ` AND (max_ts < $5 OR (max_ts = $5 AND (stream_id < $6 OR (stream_id = $6 AND first_seq < $7))))`
			args = append(args, r.lastMin, r.lastStream, r.lastSeq)
		}
		q += ` ORDER BY max_ts DESC, stream_id DESC, first_seq DESC LIMIT 1000`
	}
	rows, err := r.tx.Query(r.ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var b blockMeta
		if err := rows.Scan(&b.streamID, &b.firstSeq, &b.minTS, &b.maxTS, &b.events, &b.rawBytes, &b.ingest, &b.dek, &b.flags); err != nil {
			return err
		}
		n++
		if sc.reverse {
			r.lastMin = b.maxTS
		} else {
			r.lastMin = b.minTS
		}
		r.lastStream, r.lastSeq, r.listedAny = b.streamID, b.firstSeq, true
		if sc.streams != nil && !sc.streams[b.streamID] {
			continue
		}
		r.listed = append(r.listed, b)
	}
	if n < page {
		r.listEnd = true
	}
	return rows.Err()
}

// addSat is a + b, saturating at math.MaxInt64 (b >= 0).
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func sat(v int64) int64 {
	if v < 0 {
		return 0
	}
	return v
}

// frontier is the key of the first block not yet activated (its min_ts,
// or max_ts for reverse scans; fetched blocks come before listed ones),
// and whether there is one.
func (r *reader) frontier() (int64, bool) {
	var b blockMeta
	switch {
	case len(r.queue) > 0:
		b = r.queue[0].meta
	default:
		for len(r.listed) == 0 && !r.listEnd {
			if r.err = r.listPage(); r.err != nil {
				return 0, false
			}
		}
		if len(r.listed) == 0 {
			return 0, false
		}
		b = r.listed[0]
	}
	if r.sc.reverse {
		return b.maxTS, true
	}
	return b.minTS, true
}

// next returns the next event, or false at the end (or on error: check
// r.err) or when the scan limit stopped it (r.stopped).
func (r *reader) next() (outEvent, bool) {
	for {
		f, more := r.frontier()
		if r.err != nil {
			return outEvent{}, false
		}
		if more && (r.h.Len() == 0 || (!r.sc.reverse && f <= r.h.top().ts) || (r.sc.reverse && f >= r.h.top().ts)) {
			if r.sc.scanLimit > 0 && r.examined >= r.sc.scanLimit {
				r.limited = true
				return outEvent{}, false
			}
			if r.err = r.activate(); r.err != nil {
				return outEvent{}, false
			}
			continue
		}
		if r.h.Len() == 0 {
			return outEvent{}, false
		}
		return r.h.pop(), true
	}
}

// stopped reports whether the reader ended because of the scan limit with
// events possibly left (resume from resumeCut).
func (r *reader) stopped() bool { return r.limited }

// resumeCut is where a scan stopped by its limit continues: before the
// first block not yet activated (events already loaded but not returned
// sort after it, so they are read again, never skipped).
func (r *reader) resumeCut() pos {
	f, _ := r.frontier()
	if r.sc.reverse {
		return pos{ts: f + 1}
	}
	return pos{ts: f}
}

// close ends the reader: blocks still being filtered for it are dropped
// (their workers skip the work if they have not started). Events already
// returned stay valid.
func (r *reader) close() {
	r.cancel.Store(true)
	r.queue = nil
}

// Pipeline depth and width: blocks are filtered on every core, and the
// reader fetches up to prefetch blocks ahead of the one it activates, so
// that the next ones are being filtered while it merges and fetches. A
// page that ends early wastes at most prefetch blocks of work.
var (
	filterWorkers = runtime.GOMAXPROCS(0)
	prefetch      = filterWorkers + 2
)

// blockJob is a fetched block being filtered (or skipped by its Bloom
// filter: done nil).
type blockJob struct {
	meta blockMeta
	done chan struct{} // closed once evs and err are set
	evs  []event
	err  error
}

// activate pushes the events of the first fetched block (fetching it if
// needed) once its filter is done, keeping the pipeline full.
func (r *reader) activate() error {
	if err := r.fill(); err != nil {
		return err
	}
	j := r.queue[0]
	r.queue = r.queue[1:]
	r.examined += int(j.meta.events)
	if j.done == nil {
		return nil
	}
	<-j.done
	if j.err != nil {
		return j.err
	}
	if len(j.evs) == 0 {
		return nil
	}
	c := &cursor{streamID: j.meta.streamID, ingest: j.meta.ingest, evs: j.evs}
	if r.sc.reverse {
		c.i = len(c.evs) - 1
	}
	heap.Push(&r.h, c)
	return nil
}

// fill fetches listed blocks until prefetch blocks are queued (at least
// one if any is left), starting a filter worker for each. Fetching runs
// on the reader's goroutine (its transaction); decompression, decoding and
// matching on the workers.
func (r *reader) fill() error {
	for len(r.queue) < prefetch {
		for len(r.listed) == 0 && !r.listEnd {
			if err := r.listPage(); err != nil {
				return err
			}
		}
		if len(r.listed) == 0 {
			return nil
		}
		b := r.listed[0]
		r.listed = r.listed[1:]
		j := &blockJob{meta: b}
		r.queue = append(r.queue, j)
		data, raw, err := r.fetch(b)
		if err != nil {
			return err
		}
		if data == nil {
			continue // ruled out by its Bloom filter
		}
		j.done = make(chan struct{})
		go func() {
			r.sem <- struct{}{}
			if !r.cancel.Load() {
				j.evs, j.err = filterBlock(r.sc, b, data)
			}
			if b.flags&flagS2 != 0 {
				// Decompressed into another buffer: nothing aliases
				// the fetched bytes. (Uncompressed ones may be aliased
				// by kept events and are left to the collector.)
				putRawBuf(raw)
			}
			<-r.sem
			close(j.done)
		}()
	}
	return nil
}

// fetch reads a block's (decrypted) data, or nil when its Bloom filter
// rules the scan's pattern out; raw, when not nil, is the pooled buffer
// data is in.
func (r *reader) fetch(b blockMeta) (data []byte, raw *[]byte, err error) {
	if p := r.sc.pattern; p != nil && p.Hint() != nil && r.useBloom() {
		var bloom pooledBlob
		if err := r.tx.QueryRow(r.ctx, `SELECT bloom FROM logs_blocks WHERE stream_id = $1 AND first_seq = $2`, b.streamID, b.firstSeq).Scan(&bloom); err != nil {
			putRawBuf(bloom.buf)
			return nil, nil, err
		}
		bits := bloom.b
		if b.flags&flagEncrypted != 0 && len(bits) > 0 {
			a, err := r.s.dataKeyFor(r.ctx, r.tx, b.dek)
			if err != nil {
				putRawBuf(bloom.buf)
				return nil, nil, err
			}
			if bits, err = open(a, bits, blockAAD(b.streamID, b.firstSeq, 'b')); err != nil {
				putRawBuf(bloom.buf)
				return nil, nil, errCorruptBlock
			}
		}
		jsonOK := b.flags&flagAlnumEscape == 0
		tokens := b.flags&flagTokens != 0
		skip := !p.Hint().MayMatchHint(func(h *filter.Hint) bool { return bloomHas(bits, h.Lit, h.Whole, tokens) }, jsonOK)
		putRawBuf(bloom.buf)
		r.bloomResult(skip)
		if skip {
			return nil, nil, nil
		}
	}
	var blob pooledBlob
	if err := r.tx.QueryRow(r.ctx, `SELECT data FROM logs_blocks WHERE stream_id = $1 AND first_seq = $2`, b.streamID, b.firstSeq).Scan(&blob); err != nil {
		putRawBuf(blob.buf)
		return nil, nil, err
	}
	data, raw = blob.b, blob.buf
	if b.flags&flagEncrypted != 0 {
		a, err := r.s.dataKeyFor(r.ctx, r.tx, b.dek)
		if err != nil {
			putRawBuf(raw)
			return nil, nil, err
		}
		plain, err := open(a, data, blockAAD(b.streamID, b.firstSeq, 'd'))
		putRawBuf(raw)
		if err != nil {
			return nil, nil, errCorruptBlock
		}
		data, raw = plain, nil
	}
	if data == nil {
		data = []byte{}
	}
	return data, raw, nil
}

// A block's Bloom filter (two bits per message byte: 256 KiB for a full
// block) is read before its data to rule the block out; when the
// pattern's literals are in every block, that doubles what a scan reads
// for nothing. The reader checks bloomSample filters, and if none ruled
// its block out, reads the next bloomPause blocks without them, then
// samples again. Results never depend on it.
const (
	bloomSample = 16
	bloomPause  = 128
)

func (r *reader) useBloom() bool {
	if r.bloomPause > 0 {
		r.bloomPause--
		return false
	}
	return true
}

func (r *reader) bloomResult(skipped bool) {
	r.bloomTried++
	if skipped {
		r.bloomSkipped++
	}
	if r.bloomTried == bloomSample {
		if r.bloomSkipped == 0 {
			r.bloomPause = bloomPause
		}
		r.bloomTried, r.bloomSkipped = 0, 0
	}
}

// rawBufs recycles the buffers fetched (compressed) block bytes are
// copied into: database/sql would otherwise allocate a copy of every
// block a scan reads, and the garbage collector would run for them.
var rawBufs sync.Pool

// pooledBlob is a sql.Scanner copying a BLOB into a pooled buffer.
type pooledBlob struct {
	buf *[]byte
	b   []byte
}

func (p *pooledBlob) Scan(src any) error {
	var v []byte
	switch x := src.(type) {
	case nil:
		p.b = nil
		return nil
	case []byte:
		v = x
	case string:
		v = []byte(x)
	default:
		return fmt.Errorf("logs: block data is %T, not bytes", src)
	}
	p.buf, _ = rawBufs.Get().(*[]byte)
	if p.buf == nil || cap(*p.buf) < len(v) {
		if p.buf != nil {
			rawBufs.Put(p.buf)
		}
		b := make([]byte, 0, max(len(v), 256<<10))
		p.buf = &b
	}
	p.b = append((*p.buf)[:0], v...)
	return nil
}

func putRawBuf(b *[]byte) {
	if b != nil {
		rawBufs.Put(b)
	}
}

// filterBlock decompresses and decodes a fetched block and returns the
// events in the scan's range, past its cut, matching its pattern. The
// decompressed bytes go to a pooled buffer; the kept messages are copied
// out of it unless they are most of it.
func filterBlock(sc *scan, meta blockMeta, data []byte) ([]event, error) {
	var pooled *[]byte
	if meta.flags&flagS2 != 0 {
		var err error
		if pooled, data, err = decompressPooled(data); err != nil {
			return nil, err
		}
	}
	match := func([]byte) bool { return true }
	if sc.pattern != nil && !sc.pattern.MatchesAll() {
		m := sc.pattern.NewMatcher()
		match = m.Match
		if meta.flags&flagAlnumEscape == 0 {
			match = m.MatchUnescaped // checked once at ingest
		}
	}
	var kept []event
	keptBytes := 0
	err := walkBlock(data, meta.minTS, meta.firstSeq, func(e event) {
		if e.ts < sc.lo || e.ts > sc.hi {
			return
		}
		k := pos{e.ts, meta.streamID, e.seq}
		if !sc.reverse && k.less(sc.cut) || sc.reverse && !k.less(sc.cut) {
			return
		}
		if !match(e.msg) {
			return
		}
		kept = append(kept, e)
		keptBytes += len(e.msg)
	})
	if err != nil {
		putBlockBuf(pooled)
		return nil, err
	}
	if pooled != nil && keptBytes <= len(data)/2 {
		// Copy the (few) kept messages so the big buffer can be reused.
		buf := make([]byte, 0, keptBytes)
		for i := range kept {
			n := len(buf)
			buf = append(buf, kept[i].msg...)
			kept[i].msg = buf[n:len(buf):len(buf)]
		}
		putBlockBuf(pooled)
	}
	return kept, nil
}

// cursor walks one block's kept events.
type cursor struct {
	streamID int64
	ingest   int64
	evs      []event
	i        int
}

func (c *cursor) key() pos {
	e := c.evs[c.i]
	return pos{e.ts, c.streamID, e.seq}
}

type curHeap struct {
	reverse bool
	cs      []*cursor
}

func (h *curHeap) Len() int { return len(h.cs) }
func (h *curHeap) Less(i, j int) bool {
	if h.reverse {
		return h.cs[j].key().less(h.cs[i].key())
	}
	return h.cs[i].key().less(h.cs[j].key())
}
func (h *curHeap) Swap(i, j int) { h.cs[i], h.cs[j] = h.cs[j], h.cs[i] }
func (h *curHeap) Push(v any)    { h.cs = append(h.cs, v.(*cursor)) }
func (h *curHeap) Pop() any {
	v := h.cs[len(h.cs)-1]
	h.cs = h.cs[:len(h.cs)-1]
	return v
}

func (h *curHeap) top() pos { return h.cs[0].key() }

func (h *curHeap) pop() outEvent {
	c := h.cs[0]
	e := c.evs[c.i]
	out := outEvent{pos: pos{e.ts, c.streamID, e.seq}, ingest: c.ingest, msg: e.msg}
	if h.reverse {
		c.i--
	} else {
		c.i++
	}
	if c.i < 0 || c.i >= len(c.evs) {
		heap.Pop(h)
	} else {
		heap.Fix(h, 0)
	}
	return out
}
