package logs

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"

	"lextrail/internal/catalog"
	"lextrail/internal/logs/filter"
)

// FilterLogEventsInput is FilterLogEvents' request.
type FilterLogEventsInput struct {
	LogGroupName        *string  `json:"logGroupName,omitempty"`
	LogGroupIdentifier  *string  `json:"logGroupIdentifier,omitempty"`
	LogStreamNames      []string `json:"logStreamNames,omitempty"`
	LogStreamNamePrefix *string  `json:"logStreamNamePrefix,omitempty"`
	StartTime           *int64   `json:"startTime,omitempty"`
	EndTime             *int64   `json:"endTime,omitempty"`
	FilterPattern       *string  `json:"filterPattern,omitempty"`
	NextToken           *string  `json:"nextToken,omitempty"`
	Limit               *int32   `json:"limit,omitempty"`
	// Interleaved is ignored: results always interleave streams (AWS since
	// June 2019).
	Interleaved   *bool `json:"interleaved,omitempty"`
	StartFromHead *bool `json:"startFromHead,omitempty"`
	Unmask        bool  `json:"unmask,omitempty"`
}

func (in *FilterLogEventsInput) groupIdent() string {
	return groupIdent(in.LogGroupName, in.LogGroupIdentifier)
}

// FilteredLogEvent is one FilterLogEvents event.
type FilteredLogEvent struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventId       string `json:"eventId"`
}

// SearchedLogStream is deprecated; the list is always empty (AWS).
type SearchedLogStream struct {
	LogStreamName      string `json:"logStreamName"`
	SearchedCompletely bool   `json:"searchedCompletely"`
}

// FilterLogEventsOutput is FilterLogEvents' response.
type FilterLogEventsOutput struct {
	Events             []FilteredLogEvent  `json:"events"`
	SearchedLogStreams []SearchedLogStream `json:"searchedLogStreams"`
	NextToken          string              `json:"nextToken,omitempty"`
}

// startFromHeadFalseSince is the earliest startTime AWS accepts with
// startFromHead false (Jan 1, 2024).
var startFromHeadFalseSince = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

// eventID is a 56-digit event ID: timestamp, sequence and a stream check.
func eventID(p pos) string {
	return fmt.Sprintf("%019d%019d%018d", p.ts, p.seq, uint64(p.stream)%1_000_000_000_000_000_000)
}

func (s *Service) filterLogEvents(ctx context.Context, c *catalog.Call, in *FilterLogEventsInput) (*FilterLogEventsOutput, error) {
	var v validator
	v.groupRef(in.LogGroupName, in.LogGroupIdentifier)
	if in.LogStreamNames != nil && (len(in.LogStreamNames) < 1 || len(in.LogStreamNames) > 100) {
		v.add("list of "+itoa(len(in.LogStreamNames)), "logStreamNames", "Member must have length between 1 and 100")
	}
	for i, n := range in.LogStreamNames {
		n := n
		v.streamName("logStreamNames."+itoa(i+1)+".member", &n)
	}
	if in.LogStreamNamePrefix != nil && v.length("logStreamNamePrefix", *in.LogStreamNamePrefix, 1, 512) {
		v.pattern("logStreamNamePrefix", *in.LogStreamNamePrefix, streamNameRE, streamNamePattern)
	}
	v.nonNegative("startTime", in.StartTime)
	v.nonNegative("endTime", in.EndTime)
	v.rangeInt("limit", in.Limit, 1, 10000)
	if in.FilterPattern != nil {
		v.length("filterPattern", *in.FilterPattern, 0, filter.MaxLength)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if in.LogStreamNames != nil && in.LogStreamNamePrefix != nil {
		return nil, invalidParam("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
	}
	var pat *filter.Pattern
	if in.FilterPattern != nil {
		p, err := filter.Parse(*in.FilterPattern)
		if err != nil {
			return nil, invalidParam("%s", err.Error())
		}
		if !p.MatchesAll() {
			pat = p
		}
	}
	lo, hi := int64(0), int64(math.MaxInt64-1)
	if in.StartTime != nil {
		lo = *in.StartTime
	}
	if in.EndTime != nil {
		hi = *in.EndTime // endTime is inclusive here
	}
	if lo > hi {
		return nil, invalidParam("startTime must be less than or equal to endTime.")
	}
	fromHead := in.StartFromHead == nil || *in.StartFromHead
	if !fromHead && in.StartTime != nil && *in.StartTime < startFromHeadFalseSince {
		return nil, invalidParam("startFromHead false is supported only with a startTime on or after Jan 1, 2024 00:00:00 UTC.")
	}
	g, err := loadGroup(ctx, c.Tx, c, in.groupIdent())
	if err != nil {
		return nil, err
	}
	// The streams to read: all live streams of the group, or the named
	// ones, or those with the prefix.
	names, err := s.streamNames(ctx, c, g.ID)
	if err != nil {
		return nil, err
	}
	sc := &scan{groupID: g.ID, lo: lo, hi: hi, pattern: pat, scanLimit: s.cfg.FilterScanLimit, reverse: !fromHead}
	sc.streams = map[int64]bool{}
	switch {
	case in.LogStreamNames != nil:
		byName := map[string]int64{}
		for id, n := range names {
			byName[n] = id
		}
		for _, n := range in.LogStreamNames {
			id, ok := byName[n]
			if !ok {
				return nil, errStreamNotFound()
			}
			sc.streams[id] = true
		}
	default:
		for id, n := range names {
			if in.LogStreamNamePrefix == nil || strings.HasPrefix(n, *in.LogStreamNamePrefix) {
				sc.streams[id] = true
			}
		}
	}
	if len(sc.streams) == 1 {
		for id := range sc.streams {
			sc.streamID = id
		}
	}
	hash := paramHash("FilterLogEvents", fmt.Sprint(g.ID), strings.Join(in.LogStreamNames, "\x00"), deref(in.LogStreamNamePrefix), deref(in.FilterPattern), fmt.Sprint(lo, hi, fromHead))
	if in.NextToken != nil {
		reverse, cut, ok := decodeFilterToken(*in.NextToken, hash)
		if !ok {
			return nil, errInvalidToken()
		}
		sc.cut, sc.reverse = cut, reverse
	} else if sc.reverse {
		sc.cut = pos{ts: hi + 1}
		if hi == math.MaxInt64-1 {
			sc.cut.ts = math.MaxInt64
		}
	} else {
		sc.cut = pos{ts: lo}
	}
	limit := 10000
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	out := &FilterLogEventsOutput{Events: []FilteredLogEvent{}, SearchedLogStreams: []SearchedLogStream{}}
	if len(sc.streams) == 0 {
		return out, nil
	}
	r := s.newReader(ctx, c.Tx, sc)
	defer r.close()
	size := 0
	var last pos
	for {
		if len(out.Events) == limit {
			break
		}
		e, ok := r.next()
		if !ok {
			break
		}
		size += len(e.msg) + EventOverhead
		if size > maxResponseBytes && len(out.Events) > 0 {
			// Not returned: resume at it.
			out.NextToken = encodeFilterToken(sc.reverse, resumeAt(e.pos, sc.reverse, true), hash)
			return out, nil
		}
		out.Events = append(out.Events, FilteredLogEvent{LogStreamName: names[e.stream], Timestamp: e.ts, Message: string(e.msg), IngestionTime: e.ingest, EventId: eventID(e.pos)})
		last = e.pos
	}
	if r.err != nil {
		return nil, r.err
	}
	switch {
	case r.stopped():
		out.NextToken = encodeFilterToken(sc.reverse, r.resumeCut(), hash)
	case len(out.Events) == limit:
		// More may follow: resume after the last event returned.
		if _, more := r.peek(); more {
			out.NextToken = encodeFilterToken(sc.reverse, resumeAt(last, sc.reverse, false), hash)
		}
	}
	return out, nil
}

// resumeAt is the cut that continues a scan at event p (inclusive) or
// after it.
func resumeAt(p pos, reverse, inclusive bool) pos {
	switch {
	case !reverse && inclusive:
		return p
	case !reverse:
		return pos{p.ts, p.stream, p.seq + 1}
	case inclusive:
		return pos{p.ts, p.stream, p.seq + 1} // key < cut includes p
	default:
		return p
	}
}

// peek reports whether another event follows; it consumes that event, so
// it ends a read. Used to leave out the token on a last page that happens
// to be full.
func (r *reader) peek() (outEvent, bool) {
	e, ok := r.next()
	if !ok {
		return outEvent{}, r.stopped()
	}
	return e, true
}

func encodeFilterToken(reverse bool, c pos, hash []byte) string {
	b := make([]byte, 0, 34)
	b = append(b, 3)
	if reverse {
		b = append(b, 'b')
	} else {
		b = append(b, 'f')
	}
	b = append(b, hash...)
	b = binary.BigEndian.AppendUint64(b, uint64(c.ts))
	b = binary.BigEndian.AppendUint64(b, uint64(c.stream))
	b = binary.BigEndian.AppendUint64(b, uint64(c.seq))
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeFilterToken(tok string, hash []byte) (reverse bool, c pos, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) != 34 || b[0] != 3 || (b[1] != 'f' && b[1] != 'b') || string(b[2:10]) != string(hash) {
		return false, pos{}, false
	}
	c = pos{int64(binary.BigEndian.Uint64(b[10:])), int64(binary.BigEndian.Uint64(b[18:])), int64(binary.BigEndian.Uint64(b[26:]))}
	return b[1] == 'b', c, true
}

// streamNames maps the group's live stream IDs to names.
func (s *Service) streamNames(ctx context.Context, c *catalog.Call, groupID int64) (map[int64]string, error) {
	rows, err := c.Tx.Query(ctx, `SELECT stream_id, name FROM logs_streams WHERE group_id = $1`, groupID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[int64]string{}
	for rows.Next() {
		var id int64
		var n string
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		m[id] = n
	}
	return m, rows.Err()
}
