package logs

import (
	"context"
	"time"
	"unsafe"

	"github.com/klauspost/compress/s2"

	"lextrail/internal/catalog"
	"lextrail/internal/store"
)

// PutLogEvents' limits (AWS).
const (
	MaxBatchEvents  = 10_000
	MaxBatchBytes   = 1_048_576 // sum of UTF-8 message bytes plus EventOverhead per event
	EventOverhead   = 26
	MaxBatchSpan    = 24 * time.Hour
	MaxFutureSkew   = 2 * time.Hour
	MaxEventAge     = 14 * 24 * time.Hour
	maxMessageBytes = MaxBatchBytes - EventOverhead
)

// InputLogEvent is one event to put.
type InputLogEvent struct {
	Timestamp *int64  `json:"timestamp,omitempty"`
	Message   *string `json:"message,omitempty"`
}

// PutLogEventsInput is PutLogEvents' request.
type PutLogEventsInput struct {
	LogGroupName  *string         `json:"logGroupName,omitempty"`
	LogStreamName *string         `json:"logStreamName,omitempty"`
	LogEvents     []InputLogEvent `json:"logEvents,omitempty"`
	// SequenceToken is accepted and ignored, as AWS now does.
	SequenceToken *string `json:"sequenceToken,omitempty"`
}

func (in *PutLogEventsInput) groupIdent() string { return deref(in.LogGroupName) }
func (in *PutLogEventsInput) streamName() string { return deref(in.LogStreamName) }

// RejectedLogEventsInfo says which events of a batch were not stored.
// Indexes refer to the request's logEvents: events before TooOld…EndIndex
// (exclusive) were older than 14 days, before Expired…EndIndex older than
// the group's retention, and from TooNew…StartIndex (inclusive) more than
// two hours in the future.
type RejectedLogEventsInfo struct {
	TooNewLogEventStartIndex *int32 `json:"tooNewLogEventStartIndex,omitempty"`
	TooOldLogEventEndIndex   *int32 `json:"tooOldLogEventEndIndex,omitempty"`
	ExpiredLogEventEndIndex  *int32 `json:"expiredLogEventEndIndex,omitempty"`
}

// PutLogEventsOutput is PutLogEvents' response.
type PutLogEventsOutput struct {
	NextSequenceToken     string                 `json:"nextSequenceToken,omitempty"`
	RejectedLogEventsInfo *RejectedLogEventsInfo `json:"rejectedLogEventsInfo,omitempty"`
}

func (s *Service) putLogEvents(ctx context.Context, c *catalog.Call, in *PutLogEventsInput) (*PutLogEventsOutput, error) {
	var v validator
	v.groupName("logGroupName", in.LogGroupName)
	v.streamName("logStreamName", in.LogStreamName)
	if v.required("logEvents", in.LogEvents != nil) {
		switch n := len(in.LogEvents); {
		case n < 1:
			v.add("[]", "logEvents", "Member must have length greater than or equal to 1")
		case n > MaxBatchEvents:
			v.add("list of "+itoa(n)+" events", "logEvents", "Member must have length less than or equal to 10000")
		}
	}
	for i, e := range in.LogEvents {
		m := "logEvents." + itoa(i+1) + ".member"
		v.required(m+".timestamp", e.Timestamp != nil)
		if v.required(m+".message", e.Message != nil) && *e.Message == "" {
			v.add("''", m+".message", "Member must have length greater than or equal to 1")
		}
		v.nonNegative(m+".timestamp", e.Timestamp)
		if len(v.errs) > 10 {
			break
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	events := make([]event, len(in.LogEvents))
	for i, e := range in.LogEvents {
		// The message's bytes are shared, not copied (never written to).
		events[i] = event{ts: *e.Timestamp, msg: unsafe.Slice(unsafe.StringData(*e.Message), len(*e.Message))}
	}
	g, err := loadGroup(ctx, c.Tx, c, *in.LogGroupName)
	if err != nil {
		return nil, err
	}
	st, err := loadStream(ctx, c.Tx, g.ID, *in.LogStreamName)
	if err != nil {
		return nil, err
	}
	res, err := s.ingest(ctx, c.Tx, g, st, events, c.Now)
	if err != nil {
		return nil, err
	}
	return res.output(), nil
}

// ingestResult is what one batch did.
type ingestResult struct {
	nextSeq               int64
	accepted              int
	tooOldEnd, expiredEnd int // exclusive; 0: none
	tooNewStart           int // len(events): none
	n                     int
}

func (r *ingestResult) output() *PutLogEventsOutput {
	out := &PutLogEventsOutput{NextSequenceToken: seqToken(r.nextSeq)}
	var rej RejectedLogEventsInfo
	some := false
	if r.tooOldEnd > 0 {
		v := int32(r.tooOldEnd)
		rej.TooOldLogEventEndIndex, some = &v, true
	}
	if r.expiredEnd > r.tooOldEnd {
		v := int32(r.expiredEnd)
		rej.ExpiredLogEventEndIndex, some = &v, true
	}
	if r.tooNewStart < r.n {
		v := int32(r.tooNewStart)
		rej.TooNewLogEventStartIndex, some = &v, true
	}
	if some {
		out.RejectedLogEventsInfo = &rej
	}
	return out
}

// checkBatch applies PutLogEvents' batch rules to events (in request
// order) at now with the group's retention: the whole batch fails for
// size, order or span; events too old, expired or too new are rejected by
// index.
func checkBatch(events []event, retentionDays int32, now time.Time) (res ingestResult, err error) {
	res.n = len(events)
	total := 0
	for i, e := range events {
		size := len(e.msg) + EventOverhead
		if size > MaxBatchBytes {
			return res, invalidParam("Log event too large: %d bytes exceeds limit of %d", size, MaxBatchBytes)
		}
		total += size
		if i > 0 && e.ts < events[i-1].ts {
			return res, invalidParam("Log events in a single PutLogEvents request must be in chronological order.")
		}
	}
	if total > MaxBatchBytes {
		return res, invalidParam("Upload too large: %d bytes exceeds limit of %d", total, MaxBatchBytes)
	}
	nowMS := now.UnixMilli()
	oldest := nowMS - MaxEventAge.Milliseconds()
	expired := int64(-1)
	if retentionDays > 0 {
		expired = nowMS - int64(retentionDays)*24*60*60*1000
	}
	newest := nowMS + MaxFutureSkew.Milliseconds()
	res.tooNewStart = len(events)
	for i, e := range events {
		switch {
		case e.ts < oldest:
			res.tooOldEnd = i + 1
			res.expiredEnd = max(res.expiredEnd, i+1)
		case e.ts < expired:
			res.expiredEnd = i + 1
		case e.ts > newest:
			if res.tooNewStart == len(events) {
				res.tooNewStart = i
			}
		}
	}
	lo, hi := res.expiredEnd, res.tooNewStart
	if hi > lo && events[hi-1].ts-events[lo].ts > MaxBatchSpan.Milliseconds() {
		return res, invalidParam("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
	}
	return res, nil
}

// ingest checks a batch and stores its valid events as one block in tx.
func (s *Service) ingest(ctx context.Context, tx *store.Tx, g *group, st *stream, events []event, now time.Time) (*ingestResult, error) {
	res, err := checkBatch(events, g.Retention, now)
	if err != nil {
		return nil, err
	}
	valid := events[res.expiredEnd:res.tooNewStart]
	res.accepted = len(valid)
	nowMS := now.UnixMilli()
	if len(valid) == 0 {
		res.nextSeq = st.NextSeq
		return &res, nil
	}
	minTS, maxTS := valid[0].ts, valid[len(valid)-1].ts
	var raw int64
	for _, e := range valid {
		raw += int64(len(e.msg))
	}
	bb := newBloom(raw)
	defer bb.release() // the INSERT copied its bits
	flags := int64(flagTokens)
	for _, e := range valid {
		bb.add(e.msg)
		if flags&flagAlnumEscape == 0 && hasAlnumEscape(e.msg) {
			flags |= flagAlnumEscape
		}
	}
	// Allocate the batch's sequence numbers and move the stream's times.
	var next int64
	err = tx.QueryRow(ctx, `UPDATE logs_streams SET next_seq = next_seq + $1,
		first_event_ms = CASE WHEN first_event_ms < 0 OR first_event_ms > $2 THEN $2 ELSE first_event_ms END,
		last_event_ms = CASE WHEN last_event_ms < $3 THEN $3 ELSE last_event_ms END,
		last_ingest_ms = $4
		WHERE stream_id = $5 RETURNING next_seq`, int64(len(valid)), minTS, maxTS, nowMS, st.ID).Scan(&next)
	if err != nil {
		return nil, err
	}
	first := next - int64(len(valid))
	rawBuf := getEncodeBuf(encodeBlockSize(valid))
	data := encodeBlockInto(rawBuf, valid, minTS)
	encBuf := getEncodeBuf(s2.MaxEncodedLen(len(data)))
	defer func() { putEncodeBuf(rawBuf); putEncodeBuf(encBuf) }() // the INSERT copied them
	if enc, ok := compressBlockInto(encBuf, data); ok {
		data = enc
		flags |= flagS2
	}
	bloom := bb.build()
	if g.DEK != 0 {
		a, err := s.dataKeyFor(ctx, tx, g.DEK)
		if err != nil {
			return nil, err
		}
		data = seal(a, data, blockAAD(st.ID, first, 'd'))
		bloom = seal(a, bloom, blockAAD(st.ID, first, 'b'))
		flags |= flagEncrypted
	}
	if _, err := tx.Exec(ctx, `INSERT INTO logs_blocks (stream_id, first_seq, group_id, min_ts, max_ts, events, raw_bytes, ingest_ms, dek_id, flags, bloom, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		st.ID, first, g.ID, minTS, maxTS, int64(len(valid)), raw, nowMS, g.DEK, flags, bloom, data); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE logs_groups SET stored_bytes = stored_bytes + $1 WHERE group_id = $2`, raw, g.ID); err != nil {
		return nil, err
	}
	res.nextSeq = next
	st.NextSeq = next
	return &res, nil
}
