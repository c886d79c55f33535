package convlogs

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/s2"

	"lextrail/internal/services/lexruntime"
	"lextrail/internal/services/logs"
	"lextrail/internal/store"
)

// Queue row kinds.
const (
	kindText  = "text"
	kindAudio = "audio"
)

const (
	insertQuery = `INSERT INTO convlogs_queue (id, kind, group_key, object_key, content_type, body, docs, turn_ms, enqueued_ms, next_ms)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`
	// insertTextQuery is insertQuery for a text row (kind written, no
	// object key or content type: fewer arguments to bind per commit).
	insertTextQuery = `INSERT INTO convlogs_queue (id, kind, group_key, body, docs, turn_ms, enqueued_ms, next_ms)
	VALUES ($1, 'text', $2, $3, $4, $5, $6, $6)`
	destQuery = `INSERT INTO convlogs_dests (group_key, kind, account_id, region, bot_name, bot_alias, role_arn, source_arn, destination, prefix, kms_key)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (group_key) DO NOTHING`
)

// dest is a destination queue rows go to (a convlogs_dests row).
type dest struct {
	group, kind, account, region, bot, alias, role, source, dest, prefix, kms string
}

// prepared is a turn's prepared write: its text document, its audio, or
// both.
type prepared struct {
	reqID       string
	turnMS      int64
	text, audio *entry
	// queued is set when a transaction that queued it committed: a
	// replayed write queues nothing twice (the queue has no unique index
	// to refuse a second copy).
	queued atomic.Bool
}

// entry is one destination's part of a prepared turn.
type entry struct {
	d *dest
	// objectKey and contentType are the audio object's.
	objectKey, contentType string
	// body is the document (text) or the base64 of the audio.
	body string
}

// aliasKey names what a turn's destinations derive from.
type aliasKey struct {
	st                                   *settings
	account, region, bot, alias, version string
}

// aliasDests are the destinations of an alias version's logs.
type aliasDests struct {
	prefix      string
	text, audio *dest
}

// destsOf returns (caching) the destinations of a turn.
func (s *Service) destsOf(st *settings, t *lexruntime.Turn) *aliasDests {
	k := aliasKey{st, t.AccountID, t.Region, t.BotName, t.BotAlias, t.BotVersion}
	s.mu.Lock()
	ad := s.dests[k]
	s.mu.Unlock()
	if ad != nil {
		return ad
	}
	prefix := ResourcePrefix(t.BotName, t.BotAlias, t.BotVersion)
	source := aliasARN(t.Region, t.AccountID, t.BotName, t.BotAlias)
	ad = &aliasDests{prefix: prefix}
	if g := st.Text; g != nil {
		ad.text = &dest{group: groupKey(kindText, t.AccountID, t.Region, st.Role, source, g.ARN, prefix), kind: kindText,
			account: t.AccountID, region: t.Region, bot: t.BotName, alias: t.BotAlias, role: st.Role, source: source, dest: g.ARN, prefix: prefix}
	}
	if a := st.Audio; a != nil {
		ad.audio = &dest{group: groupKey(kindAudio, t.AccountID, t.Region, st.Role, source, a.Bucket, a.KMSKey), kind: kindAudio,
			account: t.AccountID, region: t.Region, bot: t.BotName, alias: t.BotAlias, role: st.Role, source: source, dest: a.Bucket, kms: a.KMSKey}
	}
	s.mu.Lock()
	if len(s.dests) > 10_000 {
		s.dests = map[aliasKey]*aliasDests{}
	}
	s.dests[k] = ad
	s.mu.Unlock()
	return ad
}

func groupKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// PrepareTurn implements lexruntime.TurnRecorder: for a turn of a session
// that started with conversation logs on (and not on $LATEST, nor for a
// child-directed bot), it builds the text document (TEXT logging) and the
// audio object (AUDIO logging of a PostContent audio turn) on the request's
// goroutine; WriteTurns queues them.
func (s *Service) PrepareTurn(t *lexruntime.Turn) lexruntime.TurnWrite {
	if len(t.ConversationLogs) == 0 || t.BotAlias == latestAlias {
		return nil
	}
	if t.ChildDirected {
		s.m.dropped.WithLabelValues("all", "child_directed").Inc()
		return nil
	}
	st, err := s.settingsOf(t.ConversationLogs)
	if err != nil {
		s.m.dropped.WithLabelValues("all", "bad_settings").Inc()
		s.log.Error("conversation logs: unusable settings; turn not logged", "bot", t.BotName, "alias", t.BotAlias, "request_id", t.RequestID, "err", err)
		return nil
	}
	ad := s.destsOf(st, t)
	p := &prepared{reqID: t.RequestID, turnMS: store.Millis(t.Timestamp)}
	s3Path := ""
	if ad.audio != nil && t.InputDialogMode == "Speech" && len(t.Audio) > 0 {
		key := AudioKey(ad.prefix, t.SessionID, t.RequestID, t.AudioContentType)
		s3Path = ad.audio.dest + "/" + key
		p.audio = &entry{d: ad.audio, objectKey: key, contentType: t.AudioContentType, body: base64.StdEncoding.EncodeToString(t.Audio)}
	}
	if ad.text != nil {
		var d Document
		d.fill(t, s3Path)
		p.text = &entry{d: ad.text, body: d.marshalString()}
	}
	if p.text == nil && p.audio == nil {
		return nil
	}
	return p
}

// WriteTurns implements lexruntime.TurnRecorder: inside the transaction
// that commits the turns, it queues each turn's audio as a row, and the
// text documents of the turns committed together (up to 64 on SQLite) as
// one row per destination — the cheapest write a busy alias can make in a
// turn's commit.
func (s *Service) WriteTurns(ctx context.Context, tx *store.Tx, ws []lexruntime.TurnWrite) error {
	now := store.Millis(s.cfg.Now())
	type batch struct {
		first *prepared
		e     *entry
		docs  []textDoc
	}
	var order []*dest
	groups := map[*dest]*batch{}
	var texts, audios int
	var added []string
	mine := make([]*prepared, 0, len(ws))
	ensure := func(d *dest) error {
		if _, ok := s.known.Load(d.group); ok {
			return nil
		}
		added = append(added, d.group)
		_, err := tx.Exec(ctx, destQuery, d.group, d.kind, d.account, d.region, d.bot, d.alias, d.role, d.source, d.dest, d.prefix, d.kms)
		return err
	}
	for _, w := range ws {
		p, ok := w.(*prepared)
		if !ok {
			return errors.New("convlogs: WriteTurns got another recorder's write")
		}
		if p.queued.Load() {
			continue
		}
		mine = append(mine, p)
		if e := p.audio; e != nil {
			if err := ensure(e.d); err != nil {
				return err
			}
			if err := s.insertRow(ctx, tx, p, kindAudio, e, e.body, 1, now); err != nil {
				return err
			}
			audios++
		}
		if e := p.text; e != nil {
			b := groups[e.d]
			if b == nil {
				if err := ensure(e.d); err != nil {
					return err
				}
				b = &batch{first: p, e: e, docs: make([]textDoc, 0, len(ws))}
				groups[e.d] = b
				order = append(order, e.d)
			}
			b.docs = append(b.docs, textDoc{p.turnMS, e.body})
			texts++
		}
	}
	fresh := make([]freshRow, 0, len(order))
	for _, d := range order {
		b := groups[d]
		f := freshRow{d: d, id: rowID(b.first.turnMS, b.first.reqID, kindText), docs: b.docs}
		var err error
		if f.seq, err = s.insertText(ctx, tx, f.id, b.first, b.e, b.docs, now); err != nil {
			return err
		}
		fresh = append(fresh, f)
	}
	tx.AfterCommit(func() {
		for _, p := range mine {
			p.queued.Store(true)
		}
		for _, g := range added {
			s.known.Store(g, true)
		}
		s.addFresh(fresh)
		if texts > 0 {
			s.m.enqueuedText.Add(float64(texts))
		}
		if audios > 0 {
			s.m.enqueuedAudio.Add(float64(audios))
		}
		s.Wake()
	})
	return nil
}

// insertRow queues one row. Its id (a column for people reading the
// queue; rows are identified by seq) is the (first) turn's time, request ID
// and kind.
func (s *Service) insertRow(ctx context.Context, tx *store.Tx, p *prepared, kind string, e *entry, body string, docs int, now int64) error {
	_, err := tx.Exec(ctx, insertQuery, rowID(p.turnMS, p.reqID, kind), kind, e.d.group, e.objectKey, e.contentType, body, docs, p.turnMS, now)
	return err
}

// insertText queues a text row of docs and returns its seq. On SQLite the
// body is S2-compressed lines (s2Prefix, stored as a BLOB: a commit's two
// or three documents shrink about threefold, so several rows share a page
// and a commit writes fewer WAL pages; the worker delivers them from
// memory, so they are seldom decompressed) and the seq is the rowid the
// insert assigned; on PostgreSQL the body is the plain lines and the seq
// RETURNING's.
func (s *Service) insertText(ctx context.Context, tx *store.Tx, id string, p *prepared, e *entry, docs []textDoc, now int64) (int64, error) {
	if s.cfg.DB.Driver() == store.DriverSQLite {
		bp := bodyBufs.Get().(*[]byte)
		lines := appendDocLines((*bp)[:0], docs)
		zp := bodyBufs.Get().(*[]byte)
		z := *zp
		if n := len(s2Prefix) + s2.MaxEncodedLen(len(lines)); cap(z) < n {
			z = make([]byte, n)
		}
		z = z[:cap(z)]
		copy(z, s2Prefix)
		body := z[:len(s2Prefix)+len(s2.Encode(z[len(s2Prefix):], lines))]
		res, err := tx.Exec(ctx, insertTextQuery, id, e.d.group, body, len(docs), p.turnMS, now)
		// The driver copied the body: the buffers are free again.
		*bp, *zp = lines, z
		bodyBufs.Put(bp)
		bodyBufs.Put(zp)
		if err != nil {
			return 0, err
		}
		return res.LastInsertId()
	}
	var seq int64
	err := tx.QueryRow(ctx, insertTextQuery+` RETURNING seq`, id, e.d.group, encodeDocs(docs), len(docs), p.turnMS, now).Scan(&seq)
	return seq, err
}

// bodyBufs recycles the buffers text row bodies are built in.
var bodyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 8192); return &b }}

// freshRow is a text row this process queued, as the worker finds it in
// memory (Service.fresh): its seq and id (a seq may be reused once its row
// is gone, the id not), destination and documents.
type freshRow struct {
	d    *dest
	seq  int64
	id   string
	docs []textDoc
}

// addFresh keeps committed text rows for the worker to deliver from
// memory, up to maxFresh documents (more are found in the queue).
func (s *Service) addFresh(rows []freshRow) {
	s.freshMu.Lock()
	defer s.freshMu.Unlock()
	for _, r := range rows {
		if s.freshDocs+len(r.docs) > s.maxFresh() {
			s.freshOverflow.Store(true)
			return
		}
		s.fresh = append(s.fresh, r)
		s.freshDocs += len(r.docs)
	}
}

// maxFresh bounds the documents kept in memory for the worker.
func (s *Service) maxFresh() int { return 16 * s.cfg.TextBatch }

// takeFresh returns (and forgets) the rows kept for the worker.
func (s *Service) takeFresh() []freshRow {
	s.freshMu.Lock()
	defer s.freshMu.Unlock()
	rows := s.fresh
	s.fresh, s.freshDocs = nil, 0
	return rows
}

// rowID is fmt.Sprintf("%013d/%s/%s", ms, reqID, kind) for ms ≥ 0.
func rowID(ms int64, reqID, kind string) string {
	b := make([]byte, 0, 16+len(reqID)+len(kind))
	d := strconv.AppendInt(make([]byte, 0, 20), ms, 10)
	for i := len(d); i < 13; i++ {
		b = append(b, '0')
	}
	b = append(b, d...)
	b = append(b, '/')
	b = append(b, reqID...)
	b = append(b, '/')
	b = append(b, kind...)
	return string(b)
}

// textDoc is one turn's document in a text row.
type textDoc struct {
	turnMS int64
	doc    string
}

// rawPrefix starts a text row body written as plain lines (never the
// first character of the base64 of the older S2-compressed bodies).
const rawPrefix = "~"

// s2Prefix starts a text row body of S2-compressed lines (SQLite; neither
// base64 nor rawPrefix starts so).
const s2Prefix = "\x00"

// appendDocLines appends the lines "<turn ms>\t<document>\n" of docs.
func appendDocLines(b []byte, docs []textDoc) []byte {
	for _, d := range docs {
		b = strconv.AppendInt(b, d.turnMS, 10)
		b = append(b, '\t')
		b = append(b, d.doc...)
		b = append(b, '\n')
	}
	return b
}

// encodeDocs renders a text row's body: rawPrefix, then lines
// "<turn ms>\t<document>\n" (documents are single-line JSON, valid UTF-8
// with control characters escaped, so the text is storable as is). Rows
// written before held the base64 of the S2-compressed lines: for the two
// or three documents a commit holds, compressing and base64 cost more CPU
// than they saved bytes.
func encodeDocs(docs []textDoc) string {
	n := len(rawPrefix)
	for _, d := range docs {
		n += len(d.doc) + 16
	}
	var b strings.Builder // its String does not copy
	b.Grow(n)
	b.WriteString(rawPrefix)
	var ms [20]byte
	for _, d := range docs {
		b.Write(strconv.AppendInt(ms[:0], d.turnMS, 10))
		b.WriteByte('\t')
		b.WriteString(d.doc)
		b.WriteByte('\n')
	}
	return b.String()
}

var errCorrupt = errors.New("convlogs: corrupt text row")

// maxBody bounds a text row's lines (64 turns of documents a commit, each
// under CloudWatch Logs' 256 KiB event limit).
const maxBody = 64 << 20

// decodeDocs reads a text row's body back as log events (either format).
func decodeDocs(body string) ([]logs.Event, error) {
	raw, plain := strings.CutPrefix(body, rawPrefix)
	if z, ok := strings.CutPrefix(body, s2Prefix); ok {
		if n, err := s2.DecodedLen([]byte(z)); err != nil || n > maxBody {
			return nil, errCorrupt
		}
		d, err := s2.Decode(nil, []byte(z))
		if err != nil {
			return nil, errors.Join(errCorrupt, err)
		}
		raw = string(d)
	} else if !plain {
		z, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return nil, errors.Join(errCorrupt, err)
		}
		d, err := s2.Decode(nil, z)
		if err != nil {
			return nil, errors.Join(errCorrupt, err)
		}
		raw = string(d)
	}
	// The messages are substrings of the body (no copy per document).
	out := make([]logs.Event, 0, strings.Count(raw, "\n"))
	for len(raw) > 0 {
		line, rest, ok := strings.Cut(raw, "\n")
		if !ok {
			return nil, errCorrupt
		}
		raw = rest
		ts, doc, ok := strings.Cut(line, "\t")
		ms, err := strconv.ParseInt(ts, 10, 64)
		if !ok || err != nil {
			return nil, errCorrupt
		}
		out = append(out, logs.Event{Timestamp: store.FromMillis(ms), Message: doc})
	}
	return out, nil
}
