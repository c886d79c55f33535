package convlogs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"lextrail/internal/awserr"
	"lextrail/internal/jsonenc"
	"lextrail/internal/services/logs"
	"lextrail/internal/services/s3"
	"lextrail/internal/store"
)

// Worker delivers the queue. Run one per lextrail process
// (server.AddWorker): processes sharing a database claim rows with leases
// (an UPDATE that only takes rows whose lease has run out), so no row is
// delivered by two at once, and rows of a process that died are taken over
// when their lease ends.
//
// A pass finds up to Config.TextBatch text rows and claims up to
// Config.AudioBatch audio rows that are due, groups them by destination,
// and delivers each group as the Lex service with the alias's role:
//
//   - text: in one write transaction, the group's rows are deleted (those
//     still due and not leased: another process that got there first has
//     deleted them, or holds their row locks until it commits) and their
//     documents appended to the log group (logs.Append in the same
//     transaction, into the stream <resourcePrefix><per-process, per-hour
//     ID>, created when missing): the events and the end of their queue
//     rows commit together, so a document is written exactly once whatever
//     happens to the process, and no lease is needed;
//   - audio: the rows are leased (an UPDATE that takes only rows whose
//     lease has run out), each object is put (s3.PutAs, SSE-KMS with the
//     alias's key when set) at its deterministic key, then its row deleted;
//     a process that dies in between leaves the row to be taken over when
//     the lease ends, and its retry rewrites the same object with the same
//     bytes.
//
// A failed group (the role cannot be assumed or may not write, the log
// group or bucket is gone, the KMS key is unusable, …) releases its rows
// with the next attempt after an exponential backoff (Config.RetryMin
// doubling up to RetryMax, per destination: this process does not try the
// destination again before then), counts a failure in
// lextrail_convlogs_delivery_failures_total and the alias's Status, and
// logs it. Rows older than Config.MaxAge are dropped (counted and logged).
type Worker struct {
	s  *Service
	id string

	mu     sync.Mutex
	paused map[string]*backoff // by group key
	dests  map[string]*dest    // by group key (destinations never change)

	lastExpire, lastPending time.Time
	// lastScan is when the queue was last read for due text rows;
	// scanSoon asks the next pass to read it again (it found rows, or a
	// delivery from memory failed).
	lastScan time.Time
	scanSoon bool
}

type backoff struct {
	until    time.Time
	failures int
}

// Worker returns a delivery worker with a fresh lease identity.
func (s *Service) Worker() *Worker {
	return &Worker{s: s, id: "convlogs-" + uuid.NewString(), paused: map[string]*backoff{}, dests: map[string]*dest{}}
}

// Pass is what one RunOnce did.
type Pass struct {
	// Claimed rows, of which Delivered were written, Failed released for a
	// retry, and Dropped given up (rejected by the log group, or too old).
	Claimed, Delivered, Failed, Dropped int
	// More is true when a batch was full (work may be waiting).
	More bool
}

// Run delivers until ctx is cancelled, then releases its leases.
func (w *Worker) Run(ctx context.Context) error {
	defer w.release()
	cfg := w.s.cfg
	for {
		p, err := w.RunOnce(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			w.s.log.Error("conversation logs: delivery pass failed", "err", err)
		}
		if p.More && err == nil {
			continue // a backlog: no pause
		}
		t := time.NewTimer(cfg.BatchDelay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		t = time.NewTimer(cfg.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-w.s.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// release gives up this worker's leases (on shutdown), so that another
// process need not wait for them to run out.
func (w *Worker) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = w.s.cfg.DB.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE convlogs_queue SET lease_owner = '', lease_until_ms = 0 WHERE lease_owner = $1`, w.id)
		return err
	})
}

// row is a queue row found due or claimed.
type row struct {
	d                                             *dest
	seq                                           int64
	id, kind, group, objectKey, contentType, body string
	turnMS, enqueuedMS, attempts, docs            int64
}

const rowCols = `seq, id, kind, group_key, object_key, content_type, body, turn_ms, enqueued_ms, attempts, docs`

// RunOnce makes one delivery pass.
func (w *Worker) RunOnce(ctx context.Context) (Pass, error) {
	var p Pass
	now := w.s.cfg.Now()
	if now.Sub(w.lastExpire) >= time.Minute || now.Before(w.lastExpire) {
		n, err := w.expire(ctx, now)
		if err != nil {
			return p, err
		}
		w.lastExpire = now
		p.Dropped += n
	}
	w.deliverFresh(ctx, now, &p)
	if w.scanDue(now) {
		rows, more, err := w.due(ctx, now)
		if err != nil {
			return p, err
		}
		w.lastScan, w.scanSoon = now, len(rows) > 0
		p.Claimed += len(rows)
		p.More = more
		w.deliverText(ctx, rows, now, &p)
	}
	rows, err := w.claimAudio(ctx, now)
	if err != nil {
		return p, err
	}
	p.Claimed += len(rows)
	p.More = p.More || len(rows) == w.s.cfg.AudioBatch
	w.deliverAudio(ctx, rows, now, &p)
	if now.Sub(w.lastPending) >= 5*time.Second || now.Before(w.lastPending) {
		w.lastPending = now
		w.samplePending(ctx)
	}
	return p, nil
}

// scanDue reports whether this pass reads the queue for due text rows:
// the rows this process queued are delivered from memory, so the queue is
// read for the others — other processes', rows from before a restart,
// retries after a backoff, rows not kept in memory — on the first pass,
// every PollInterval, while reads find rows, and after a delivery from
// memory failed or memory was full.
func (w *Worker) scanDue(now time.Time) bool {
	overflow := w.s.freshOverflow.Swap(false)
	return w.lastScan.IsZero() || w.scanSoon || overflow || now.Sub(w.lastScan) >= w.s.cfg.PollInterval || now.Before(w.lastScan)
}

// placeholders returns "$from, $from+1, …" for n values.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(from + i))
	}
	return b.String()
}

// pausedGroups are the groups this worker backs off from at now.
func (w *Worker) pausedGroups(now time.Time) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for g, b := range w.paused {
		if now.Before(b.until) {
			out = append(out, g)
		}
	}
	sort.Strings(out)
	return out
}

// due finds due text rows (not of a paused group) holding up to
// TextBatch documents: their IDs and groups, and each group's destination
// from its first row (the bodies are read when the rows are taken). more
// is true when there are others.
func (w *Worker) due(ctx context.Context, now time.Time) (rows []row, more bool, err error) {
	cond, args := w.dueCond(kindText, now, 1)
	args = append(args, w.s.cfg.TextBatch)
	// In seq order: text rows have no due index (migration 1011); the few
	// the queue holds are read in its primary key's order.
	q := `SELECT seq, id, group_key, attempts, docs FROM convlogs_queue WHERE ` + cond + ` ORDER BY seq LIMIT $` + strconv.Itoa(len(args))
	err = w.s.cfg.DB.Read(ctx, func(tx *store.Tx) error {
		rows, more = rows[:0], false
		rs, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		docs := 0
		for rs.Next() {
			r := row{kind: kindText}
			if err := rs.Scan(&r.seq, &r.id, &r.group, &r.attempts, &r.docs); err != nil {
				rs.Close()
				return err
			}
			if len(rows) > 0 && docs+int(r.docs) > w.s.cfg.TextBatch {
				more = true
				break // keep the delivering transaction short
			}
			rows = append(rows, r)
			docs += int(r.docs)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return err
		}
		for i := range rows {
			if rows[i].d, err = w.dest(ctx, tx, rows[i].group); err != nil {
				return err
			}
		}
		return nil
	})
	return rows, more, err
}

// dest returns a group's destination (read in tx once, then cached).
func (w *Worker) dest(ctx context.Context, tx *store.Tx, group string) (*dest, error) {
	w.mu.Lock()
	d := w.dests[group]
	w.mu.Unlock()
	if d != nil {
		return d, nil
	}
	d = &dest{group: group}
	err := tx.QueryRow(ctx, `SELECT kind, account_id, region, bot_name, bot_alias, role_arn, source_arn, destination, prefix, kms_key
		FROM convlogs_dests WHERE group_key = $1`, group).Scan(&d.kind, &d.account, &d.region, &d.bot, &d.alias, &d.role, &d.source, &d.dest, &d.prefix, &d.kms)
	if err != nil {
		return nil, fmt.Errorf("convlogs: destination %s: %w", group, err)
	}
	w.mu.Lock()
	if len(w.dests) > 10_000 {
		w.dests = map[string]*dest{}
	}
	w.dests[group] = d
	w.mu.Unlock()
	return d, nil
}

// dueCond is the condition of due rows of kind at now (placeholders from
// $first: now, then the paused groups) and its arguments. The kind is
// written literally (it is one of two constants), so that the audio rows'
// partial due index (kind = 'audio', migration 1011) applies.
func (w *Worker) dueCond(kind string, now time.Time, first int) (string, []any) {
	cond := `kind = '` + kind + `' AND next_ms <= $` + strconv.Itoa(first) + ` AND lease_until_ms < $` + strconv.Itoa(first)
	args := []any{store.Millis(now)}
	if paused := w.pausedGroups(now); len(paused) > 0 {
		cond += ` AND group_key NOT IN (` + placeholders(first+1, len(paused)) + `)`
		for _, g := range paused {
			args = append(args, g)
		}
	}
	return cond, args
}

// claimAudio leases up to AudioBatch due audio rows, when there are any
// (a read first: most passes find none and need no write transaction).
func (w *Worker) claimAudio(ctx context.Context, now time.Time) ([]row, error) {
	cond, args := w.dueCond(kindAudio, now, 1)
	var any bool
	err := w.s.cfg.DB.Read(ctx, func(tx *store.Tx) error {
		var seq int64
		err := tx.QueryRow(ctx, `SELECT seq FROM convlogs_queue WHERE `+cond+` LIMIT 1`, args...).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		any = err == nil
		return err
	})
	if err != nil || !any {
		return nil, err
	}
	return w.claim(ctx, kindAudio, w.s.cfg.AudioBatch, now)
}

// claim leases up to limit due rows of kind (not of a paused group).
func (w *Worker) claim(ctx context.Context, kind string, limit int, now time.Time) ([]row, error) {
	cond, args := w.dueCond(kind, now, 3)
	args = append([]any{w.id, store.Millis(now.Add(w.s.cfg.Lease))}, args...)
	args = append(args, limit)
	q := `UPDATE convlogs_queue SET lease_owner = $1, lease_until_ms = $2 WHERE ` + cond +
		` AND seq IN (SELECT seq FROM convlogs_queue WHERE ` + cond + ` ORDER BY next_ms, seq LIMIT $` + strconv.Itoa(len(args)) + `) RETURNING ` + rowCols
	var rows []row
	err := w.s.cfg.DB.Write(ctx, func(tx *store.Tx) error {
		rows = rows[:0]
		rs, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var r row
			if err := rs.Scan(&r.seq, &r.id, &r.kind, &r.group, &r.objectKey, &r.contentType, &r.body, &r.turnMS, &r.enqueuedMS, &r.attempts, &r.docs); err != nil {
				return err
			}
			rows = append(rows, r)
		}
		if err := rs.Err(); err != nil {
			return err
		}
		rs.Close()
		for i := range rows {
			if rows[i].d, err = w.dest(ctx, tx, rows[i].group); err != nil {
				return err
			}
		}
		return nil
	})
	sort.Slice(rows, func(a, b int) bool {
		if rows[a].turnMS != rows[b].turnMS {
			return rows[a].turnMS < rows[b].turnMS
		}
		return rows[a].seq < rows[b].seq
	})
	return rows, err
}

// groups splits rows by group key, in order of first appearance.
func groups(rows []row) [][]row {
	idx := map[string]int{}
	var out [][]row
	for _, r := range rows {
		i, ok := idx[r.group]
		if !ok {
			i = len(out)
			idx[r.group] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], r)
	}
	return out
}

func seqs(rows []row) []any {
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r.seq
	}
	return out
}

// streamSuffix names this process's log stream for the hour of now (log
// entries of a conversation are spread over several streams, as on AWS).
func (w *Worker) streamSuffix(now time.Time) string {
	h := sha256.Sum256([]byte(w.id + "/" + now.UTC().Truncate(time.Hour).Format(time.RFC3339)))
	x := hex.EncodeToString(h[:16])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

func (w *Worker) deliverText(ctx context.Context, rows []row, now time.Time, p *Pass) {
	for _, g := range groups(rows) {
		w.deliverGroup(ctx, g, now, p, func(tx *store.Tx) ([]logs.Event, error) {
			mine, err := w.take(ctx, tx, g, now)
			if err != nil {
				return nil, err
			}
			var events []logs.Event
			for _, r := range mine {
				evs, err := decodeDocs(r.body)
				if err != nil { // cannot happen: WriteTurns encoded it
					return nil, err
				}
				events = append(events, evs...)
			}
			return events, nil
		})
	}
}

// errNotFresh rolls back a delivery from memory that took a row it does
// not hold.
var errNotFresh = errors.New("convlogs: a taken row is not in memory")

// deliverFresh delivers the text rows this process queued from memory
// (Service.fresh), so that their bodies are neither read back nor decoded:
// per destination (up to TextBatch documents a transaction), the rows
// still due and unleased are deleted by their seq and id (a seq may be
// reused once its row is gone, the id not), and the documents of those
// deleted are appended. A row someone else took meanwhile (the queue path,
// another process) is not deleted and not appended. Rows of a group that
// is backing off are forgotten: the queue path delivers them when the
// backoff ends.
func (w *Worker) deliverFresh(ctx context.Context, now time.Time, p *Pass) {
	fresh := w.s.takeFresh()
	if len(fresh) == 0 {
		return
	}
	idx := map[string]int{}
	var byGroup [][]freshRow
	for _, f := range fresh {
		i, ok := idx[f.d.group]
		if !ok {
			i = len(byGroup)
			idx[f.d.group] = i
			byGroup = append(byGroup, nil)
		}
		byGroup[i] = append(byGroup[i], f)
	}
	for _, fs := range byGroup {
		group := fs[0].d.group
		if w.isPaused(group, now) {
			continue
		}
		for len(fs) > 0 {
			n, docs := 0, 0
			for n < len(fs) && (n == 0 || docs+len(fs[n].docs) <= w.s.cfg.TextBatch) {
				docs += len(fs[n].docs)
				n++
			}
			chunk := fs[:n]
			fs = fs[n:]
			g := make([]row, len(chunk))
			for i, f := range chunk {
				g[i] = row{d: f.d, seq: f.seq, id: f.id, kind: kindText, group: group, docs: int64(len(f.docs))}
			}
			p.Claimed += len(g)
			err := w.deliverGroup(ctx, g, now, p, func(tx *store.Tx) ([]logs.Event, error) {
				return w.takeFresh(ctx, tx, chunk, now, false)
			})
			if errors.Is(err, errNotFresh) {
				err = w.deliverGroup(ctx, g, now, p, func(tx *store.Tx) ([]logs.Event, error) {
					return w.takeFresh(ctx, tx, chunk, now, true)
				})
			}
			if err != nil {
				w.scanSoon = true
				break // the queue path retries the rest
			}
		}
	}
}

// takeFreshQuery deletes the rows named by a JSON array of [seq, id]
// pairs ($1) that are still due and unleased, per driver.
var takeFreshQuery = map[string]string{
	store.DriverSQLite: `DELETE FROM convlogs_queue WHERE (seq, id) IN (SELECT value->>0, value->>1 FROM json_each($1))
		AND kind = 'text' AND group_key = $2 AND next_ms <= $3 AND lease_until_ms < $3 RETURNING seq, id`,
	store.DriverPostgres: `DELETE FROM convlogs_queue WHERE (seq, id) IN (SELECT (e->>0)::bigint, e->>1 FROM jsonb_array_elements($1::jsonb) e)
		AND kind = 'text' AND group_key = $2 AND next_ms <= $3 AND lease_until_ms < $3 RETURNING seq, id`,
}

// takeFresh deletes the rows of fs (one destination's, from memory) that
// are still due and unleased, and returns the documents of those deleted.
// Unless exact, it deletes the group's due rows with a seq from the least
// to the greatest of fs (one range: cheaper than looking each row up), and
// returns errNotFresh — the caller rolls back and tries again exactly —
// when the range held a row fs does not (another process's, or a seq
// reused since a row of fs was taken); exact deletes fs's rows by their
// seq and id.
func (w *Worker) takeFresh(ctx context.Context, tx *store.Tx, fs []freshRow, now time.Time, exact bool) ([]logs.Event, error) {
	type key struct {
		seq int64
		id  string
	}
	byKey := make(map[key]*freshRow, len(fs))
	docs := 0
	lo, hi := fs[0].seq, fs[0].seq
	var b []byte
	if exact {
		b = make([]byte, 0, 64*len(fs))
	}
	b = append(b, '[')
	for i := range fs {
		byKey[key{fs[i].seq, fs[i].id}] = &fs[i]
		docs += len(fs[i].docs)
		lo, hi = min(lo, fs[i].seq), max(hi, fs[i].seq)
		if !exact {
			continue
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, fs[i].seq, 10)
		b = append(b, ',')
		b = jsonenc.AppendString(b, fs[i].id)
		b = append(b, ']')
	}
	b = append(b, ']')
	var rs *sql.Rows
	var err error
	if exact {
		rs, err = tx.Query(ctx, takeFreshQuery[w.s.cfg.DB.Driver()], string(b), fs[0].d.group, store.Millis(now))
	} else {
		rs, err = tx.Query(ctx, `DELETE FROM convlogs_queue WHERE seq >= $1 AND seq <= $2 AND kind = 'text' AND group_key = $3
			AND next_ms <= $4 AND lease_until_ms < $4 RETURNING seq, id`, lo, hi, fs[0].d.group, store.Millis(now))
	}
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	events := make([]logs.Event, 0, docs)
	for rs.Next() {
		var k key
		if err := rs.Scan(&k.seq, &k.id); err != nil {
			return nil, err
		}
		f := byKey[k]
		if f == nil {
			return nil, errNotFresh
		}
		delete(byKey, k) // a pair listed twice is taken once
		for _, d := range f.docs {
			events = append(events, logs.Event{Timestamp: store.FromMillis(d.turnMS), Message: d.doc})
		}
	}
	return events, rs.Err()
}

// deliverGroup delivers one destination's rows g as the Lex service: in
// one write transaction, take deletes what it delivers and returns its
// documents, which are appended to the log group; the alias's status
// counts them. A failure releases g's rows for a retry after the backoff
// (errNotFresh is returned, not counted: the queue path delivers them).
func (w *Worker) deliverGroup(ctx context.Context, g []row, now time.Time, p *Pass, take func(tx *store.Tx) ([]logs.Event, error)) error {
	r0 := g[0]
	pr, err := w.s.sessions.get(ctx, r0.d.role, r0.d.source, r0.d.account, r0.d.region)
	if err != nil {
		w.failed(ctx, g, now, "assume_role", err, p)
		return err
	}
	stream := r0.d.prefix + w.streamSuffix(now)
	var accepted, rejected int
	err = w.s.cfg.DB.Write(ctx, func(tx *store.Tx) error {
		accepted, rejected = 0, 0
		events, err := take(tx)
		if err != nil || len(events) == 0 {
			return err
		}
		out, err := w.s.deps.Logs.Append(ctx, logs.AppendInput{Principal: pr, Region: r0.d.region, Group: r0.d.dest, Stream: stream,
			CreateStream: true, Events: events, Tx: tx})
		if err != nil {
			return err
		}
		accepted, rejected = out.Accepted, len(out.Rejected)
		st := statusDelta{delivered: int64(accepted), dropped: int64(rejected), lastDelivery: now}
		if rejected > 0 {
			st.lastError, st.lastErrorAt = "the log group rejected "+strconv.Itoa(rejected)+" events ("+out.Rejected[0].Reason+")", now
		}
		return w.s.updateStatus(ctx, tx, r0, TypeText, st)
	})
	if errors.Is(err, errNotFresh) {
		return err
	}
	if err != nil {
		w.failed(ctx, g, now, reasonOf(err), err, p)
		return err
	}
	w.recovered(r0.group)
	p.Delivered += accepted
	p.Dropped += rejected
	w.s.m.delivered.WithLabelValues(kindText).Add(float64(accepted))
	if rejected > 0 {
		w.s.m.dropped.WithLabelValues(kindText, "rejected").Add(float64(rejected))
		w.s.log.Warn("conversation logs: the log group rejected events", "bot", r0.d.bot, "alias", r0.d.alias, "log_group", r0.d.dest, "rejected", rejected)
	}
	return nil
}

// take deletes the text rows of g's group that are still due and
// unleased with a seq from g's least to its greatest (one range delete: a
// list of thousands of IDs cost more to bind and plan than the deletes) and
// returns them with their bodies. The range may hold rows the due read did
// not return (queued since, or beyond its limit); they are delivered with
// the others: whatever the transaction deletes, it appends.
func (w *Worker) take(ctx context.Context, tx *store.Tx, g []row, now time.Time) ([]row, error) {
	lo, hi := g[0].seq, g[0].seq
	for _, r := range g {
		lo, hi = min(lo, r.seq), max(hi, r.seq)
	}
	rs, err := tx.Query(ctx, `DELETE FROM convlogs_queue WHERE seq >= $1 AND seq <= $2 AND kind = 'text' AND group_key = $3
		AND next_ms <= $4 AND lease_until_ms < $4 RETURNING seq, body, attempts, docs`, lo, hi, g[0].group, store.Millis(now))
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var mine []row
	for rs.Next() {
		r := row{d: g[0].d, kind: kindText, group: g[0].group}
		if err := rs.Scan(&r.seq, &r.body, &r.attempts, &r.docs); err != nil {
			return nil, err
		}
		mine = append(mine, r)
	}
	return mine, rs.Err()
}

func (w *Worker) deliverAudio(ctx context.Context, rows []row, now time.Time, p *Pass) {
	var deferred []row // rows of a group that failed in this pass
	for _, r := range rows {
		if w.isPaused(r.group, now) {
			deferred = append(deferred, r)
			continue
		}
		pr, err := w.s.sessions.get(ctx, r.d.role, r.d.source, r.d.account, r.d.region)
		if err != nil {
			w.failed(ctx, []row{r}, now, "assume_role", err, p)
			continue
		}
		audio, err := base64.StdEncoding.DecodeString(r.body)
		if err != nil { // cannot happen: PrepareTurn encoded it
			w.drop(ctx, r, now, "corrupt", err, p)
			continue
		}
		in := s3.PutAsInput{Principal: pr, Bucket: r.d.dest, Key: r.objectKey, Body: bytes.NewReader(audio), ContentType: r.contentType}
		if r.d.kms != "" {
			in.SSE, in.KMSKeyID = "aws:kms", r.d.kms
		}
		if _, err := w.s.deps.Buckets.PutAs(ctx, in); err != nil {
			w.failed(ctx, []row{r}, now, reasonOf(err), err, p)
			continue
		}
		err = w.s.cfg.DB.Write(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, `DELETE FROM convlogs_queue WHERE seq = $1 AND lease_owner = $2`, r.seq, w.id); err != nil {
				return err
			}
			return w.s.updateStatus(ctx, tx, r, TypeAudio, statusDelta{delivered: 1, lastDelivery: now})
		})
		if err != nil {
			// The object is written; the row comes back after its lease
			// and rewrites the same object.
			w.s.log.Error("conversation logs: could not dequeue a delivered audio log", "id", r.id, "err", err)
			continue
		}
		w.recovered(r.group)
		p.Delivered++
		w.s.m.delivered.WithLabelValues(kindAudio).Inc()
	}
	if len(deferred) > 0 {
		w.releaseUntried(ctx, deferred)
	}
}

// releaseUntried gives back rows this pass did not try (their group failed
// earlier in the pass), due when the group's backoff ends.
func (w *Worker) releaseUntried(ctx context.Context, rows []row) {
	for _, g := range groups(rows) {
		until := w.pauseUntil(g[0].group)
		_ = w.s.cfg.DB.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE convlogs_queue SET next_ms = $1, lease_owner = '', lease_until_ms = 0 WHERE lease_owner = $2 AND seq IN (`+
				placeholders(3, len(g))+`)`, append([]any{store.Millis(until), w.id}, seqs(g)...)...)
			return err
		})
	}
}

func (w *Worker) isPaused(group string, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.paused[group]
	return b != nil && now.Before(b.until)
}

func (w *Worker) pauseUntil(group string) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if b := w.paused[group]; b != nil {
		return b.until
	}
	return time.Time{}
}

func (w *Worker) recovered(group string) {
	w.mu.Lock()
	delete(w.paused, group)
	w.mu.Unlock()
}

// pause backs off from a group after a failure and returns when to retry.
func (w *Worker) pause(group string, now time.Time) time.Time {
	cfg := w.s.cfg
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.paused[group]
	if b == nil {
		b = &backoff{}
		if len(w.paused) > 10_000 {
			w.paused = map[string]*backoff{}
		}
		w.paused[group] = b
	}
	b.failures++
	d := cfg.RetryMin
	for i := 1; i < b.failures && d < cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, cfg.RetryMax)
	b.until = now.Add(d)
	return b.until
}

// failed releases a group's rows for a retry after the backoff, and makes
// the failure visible: metrics, the alias's status, a log line.
func (w *Worker) failed(ctx context.Context, g []row, now time.Time, reason string, cause error, p *Pass) {
	r0 := g[0]
	until := w.pause(r0.group, now)
	msg := clip(errorText(cause))
	// Audio rows are this worker's by lease; text rows are not leased
	// (a lease another process holds is respected).
	typ, mine := TypeText, `lease_until_ms < $3`
	arg := any(store.Millis(now))
	if r0.kind == kindAudio {
		typ, mine, arg = TypeAudio, `lease_owner = $3`, w.id
	}
	err := w.s.cfg.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE convlogs_queue SET attempts = attempts + 1, next_ms = $1, last_error = $2, lease_owner = '', lease_until_ms = 0
			WHERE `+mine+` AND seq IN (`+placeholders(4, len(g))+`)`, append([]any{store.Millis(until), msg, arg}, seqs(g)...)...); err != nil {
			return err
		}
		return w.s.updateStatus(ctx, tx, r0, typ, statusDelta{failed: 1, lastError: msg, lastErrorAt: now})
	})
	if err != nil && ctx.Err() == nil {
		w.s.log.Error("conversation logs: could not record a delivery failure", "err", err)
	}
	for _, r := range g {
		p.Failed += int(r.docs)
	}
	w.s.m.failures.WithLabelValues(r0.kind, reason).Inc()
	w.s.log.Warn("conversation logs: delivery failed; will retry", "type", r0.kind, "bot", r0.d.bot, "alias", r0.d.alias, "role", r0.d.role,
		"destination", r0.d.dest, "entries", len(g), "attempt", r0.attempts+1, "retry_at", until.UTC().Format(time.RFC3339), "reason", reason, "err", msg)
}

// drop gives a row up.
func (w *Worker) drop(ctx context.Context, r row, now time.Time, reason string, cause error, p *Pass) {
	typ := TypeText
	if r.kind == kindAudio {
		typ = TypeAudio
	}
	_ = w.s.cfg.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM convlogs_queue WHERE seq = $1`, r.seq); err != nil {
			return err
		}
		return w.s.updateStatus(ctx, tx, r, typ, statusDelta{dropped: 1, lastError: clip(errorText(cause)), lastErrorAt: now})
	})
	p.Dropped++
	w.s.m.dropped.WithLabelValues(r.kind, reason).Inc()
	w.s.log.Error("conversation logs: entry dropped", "type", r.kind, "bot", r.d.bot, "alias", r.d.alias, "id", r.id, "reason", reason, "err", cause)
}

// expire drops rows older than MaxAge (not leased).
func (w *Worker) expire(ctx context.Context, now time.Time) (int, error) {
	cut := store.Millis(now.Add(-w.s.cfg.MaxAge))
	var gone []row
	err := w.s.cfg.DB.Write(ctx, func(tx *store.Tx) error {
		gone = gone[:0]
		rs, err := tx.Query(ctx, `DELETE FROM convlogs_queue WHERE enqueued_ms < $1 AND lease_until_ms < $2
			RETURNING kind, group_key, docs`, cut, store.Millis(now))
		if err != nil {
			return err
		}
		for rs.Next() {
			var r row
			if err := rs.Scan(&r.kind, &r.group, &r.docs); err != nil {
				rs.Close()
				return err
			}
			gone = append(gone, r)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return err
		}
		for i := range gone {
			if gone[i].d, err = w.dest(ctx, tx, gone[i].group); err != nil {
				return err
			}
		}
		type k struct{ acct, region, bot, alias, kind string }
		n := map[k]int64{}
		first := map[k]row{}
		for _, r := range gone {
			key := k{r.d.account, r.d.region, r.d.bot, r.d.alias, r.kind}
			n[key] += r.docs
			first[key] = r
		}
		for key, c := range n {
			typ := TypeText
			if key.kind == kindAudio {
				typ = TypeAudio
			}
			if err := w.s.updateStatus(ctx, tx, first[key], typ, statusDelta{dropped: c,
				lastError: "entries older than " + w.s.cfg.MaxAge.String() + " were dropped undelivered", lastErrorAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	dropped := 0
	for _, r := range gone {
		w.s.m.dropped.WithLabelValues(r.kind, "expired").Add(float64(r.docs))
		dropped += int(r.docs)
	}
	if dropped > 0 {
		w.s.log.Error("conversation logs: undelivered entries expired", "entries", dropped, "max_age", w.s.cfg.MaxAge.String())
	}
	return dropped, nil
}

func (w *Worker) samplePending(ctx context.Context) {
	counts := map[string]float64{kindText: 0, kindAudio: 0}
	err := w.s.cfg.DB.Read(ctx, func(tx *store.Tx) error {
		rs, err := tx.Query(ctx, `SELECT kind, SUM(docs) FROM convlogs_queue GROUP BY kind`)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var k string
			var n int64
			if err := rs.Scan(&k, &n); err != nil {
				return err
			}
			counts[k] = float64(n)
		}
		return rs.Err()
	})
	if err == nil {
		for k, n := range counts {
			w.s.m.pending.WithLabelValues(k).Set(n)
		}
	}
}

// reasonOf is a failure's metric label.
func reasonOf(err error) string {
	var ae *awserr.Error
	if !errors.As(err, &ae) {
		return "error"
	}
	switch c := ae.Code; {
	case strings.Contains(c, "AccessDenied"):
		return "access_denied"
	case c == "ResourceNotFoundException" || c == "NoSuchBucket":
		return "not_found"
	case strings.HasPrefix(c, "KMS") || c == "NotFoundException" || c == "DisabledException" || c == "KMSInvalidStateException" || c == "InvalidParameterException":
		return "kms"
	}
	return "error"
}

func errorText(err error) string {
	var ae *awserr.Error
	if errors.As(err, &ae) {
		return ae.Code + ": " + ae.Message
	}
	return err.Error()
}
