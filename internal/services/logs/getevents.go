package logs

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"lextrail/internal/catalog"
)

// GetLogEventsInput is GetLogEvents' request.
type GetLogEventsInput struct {
	LogGroupName       *string `json:"logGroupName,omitempty"`
	LogGroupIdentifier *string `json:"logGroupIdentifier,omitempty"`
	LogStreamName      *string `json:"logStreamName,omitempty"`
	StartTime          *int64  `json:"startTime,omitempty"`
	EndTime            *int64  `json:"endTime,omitempty"`
	NextToken          *string `json:"nextToken,omitempty"`
	Limit              *int32  `json:"limit,omitempty"`
	StartFromHead      *bool   `json:"startFromHead,omitempty"`
	Unmask             bool    `json:"unmask,omitempty"`
}

func (in *GetLogEventsInput) groupIdent() string {
	return groupIdent(in.LogGroupName, in.LogGroupIdentifier)
}
func (in *GetLogEventsInput) streamName() string { return deref(in.LogStreamName) }

// OutputLogEvent is one GetLogEvents event.
type OutputLogEvent struct {
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
}

// GetLogEventsOutput is GetLogEvents' response.
type GetLogEventsOutput struct {
	Events            []OutputLogEvent `json:"events"`
	NextForwardToken  string           `json:"nextForwardToken"`
	NextBackwardToken string           `json:"nextBackwardToken"`
}

// maxResponseBytes bounds the messages of one GetLogEvents or
// FilterLogEvents response (AWS: 1 MB), counted like PutLogEvents.
const maxResponseBytes = MaxBatchBytes

// GetLogEvents tokens are "f/" or "b/" and 56 digits: the cut's timestamp
// (19 digits), its sequence number (19) and a check (18) binding the token
// to its stream and direction. A forward token returns the events at or
// after the cut, a backward token those before it; a page's
// nextForwardToken cuts after its last event and its nextBackwardToken
// before its first, and a page with no events returns the token it was
// given (the end of the stream).
func streamToken(dir byte, streamID int64, c pos) string {
	return fmt.Sprintf("%c/%019d%019d%018d", dir, c.ts, c.seq, tokenCheck(dir, streamID, c))
}

func tokenCheck(dir byte, streamID int64, c pos) uint64 {
	var b [25]byte
	b[0] = dir
	binary.BigEndian.PutUint64(b[1:], uint64(streamID))
	binary.BigEndian.PutUint64(b[9:], uint64(c.ts))
	binary.BigEndian.PutUint64(b[17:], uint64(c.seq))
	sum := sha256.Sum256(b[:])
	return binary.BigEndian.Uint64(sum[:8]) % 1_000_000_000_000_000_000
}

func parseStreamToken(tok string, streamID int64) (dir byte, c pos, ok bool) {
	if len(tok) != 58 || tok[1] != '/' || (tok[0] != 'f' && tok[0] != 'b') {
		return 0, pos{}, false
	}
	ts, err1 := strconv.ParseInt(tok[2:21], 10, 64)
	seq, err2 := strconv.ParseInt(tok[21:40], 10, 64)
	chk, err3 := strconv.ParseUint(tok[40:58], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || ts < 0 || seq < 0 {
		return 0, pos{}, false
	}
	c = pos{ts: ts, stream: streamID, seq: seq}
	if tokenCheck(tok[0], streamID, c) != chk {
		return 0, pos{}, false
	}
	return tok[0], c, true
}

func (s *Service) getLogEvents(ctx context.Context, c *catalog.Call, in *GetLogEventsInput) (*GetLogEventsOutput, error) {
	var v validator
	v.groupRef(in.LogGroupName, in.LogGroupIdentifier)
	v.streamName("logStreamName", in.LogStreamName)
	v.nonNegative("startTime", in.StartTime)
	v.nonNegative("endTime", in.EndTime)
	v.rangeInt("limit", in.Limit, 1, 10000)
	if in.NextToken != nil {
		v.length("nextToken", *in.NextToken, 1, 1024)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	g, err := loadGroup(ctx, c.Tx, c, in.groupIdent())
	if err != nil {
		return nil, err
	}
	st, err := loadStream(ctx, c.Tx, g.ID, *in.LogStreamName)
	if err != nil {
		return nil, err
	}
	lo, hi := int64(0), int64(math.MaxInt64-1)
	if in.StartTime != nil {
		lo = *in.StartTime
	}
	if in.EndTime != nil {
		hi = *in.EndTime - 1 // endTime is exclusive
	}
	limit := 10000
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	sc := &scan{groupID: g.ID, streamID: st.ID, lo: lo, hi: hi}
	var given string
	switch {
	case in.NextToken != nil:
		dir, cut, ok := parseStreamToken(*in.NextToken, st.ID)
		if !ok {
			return nil, errInvalidToken()
		}
		sc.cut, sc.reverse, given = cut, dir == 'b', *in.NextToken
	case in.StartFromHead != nil && *in.StartFromHead:
		sc.cut = pos{ts: lo, stream: st.ID}
	default:
		// The newest events first (AWS's default): a backward read from
		// the end of the time range.
		sc.reverse = true
		sc.cut = pos{ts: hi + 1, stream: st.ID}
		if hi == math.MaxInt64-1 {
			sc.cut.ts = math.MaxInt64
		}
	}
	r := s.newReader(ctx, c.Tx, sc)
	defer r.close()
	var evs []outEvent
	size := 0
	for len(evs) < limit {
		e, ok := r.next()
		if !ok {
			break
		}
		size += len(e.msg) + EventOverhead
		if size > maxResponseBytes && len(evs) > 0 {
			break
		}
		evs = append(evs, e)
	}
	if r.err != nil {
		return nil, r.err
	}
	if sc.reverse {
		for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
			evs[i], evs[j] = evs[j], evs[i]
		}
	}
	out := &GetLogEventsOutput{Events: make([]OutputLogEvent, len(evs))}
	for i, e := range evs {
		out.Events[i] = OutputLogEvent{Timestamp: e.ts, Message: string(e.msg), IngestionTime: e.ingest}
	}
	if len(evs) == 0 {
		// The end of the stream in this direction: the same token again
		// (and the other direction from the same place).
		cut := sc.cut
		if given == "" {
			cut = pos{ts: lo, stream: st.ID}
		}
		if sc.reverse && given != "" {
			out.NextBackwardToken, out.NextForwardToken = given, streamToken('f', st.ID, cut)
		} else if given != "" {
			out.NextForwardToken, out.NextBackwardToken = given, streamToken('b', st.ID, cut)
		} else {
			out.NextForwardToken, out.NextBackwardToken = streamToken('f', st.ID, cut), streamToken('b', st.ID, cut)
		}
		return out, nil
	}
	first, last := evs[0], evs[len(evs)-1]
	out.NextForwardToken = streamToken('f', st.ID, pos{ts: last.ts, stream: st.ID, seq: last.seq + 1})
	out.NextBackwardToken = streamToken('b', st.ID, pos{ts: first.ts, stream: st.ID, seq: first.seq})
	return out, nil
}
