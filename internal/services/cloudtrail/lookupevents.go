package cloudtrail

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"lextrail/internal/audit"
	"lextrail/internal/catalog"
	"lextrail/internal/protocol"
	"lextrail/internal/store"
)

// LookupEventsInput is LookupEvents' request.
type LookupEventsInput struct {
	LookupAttributes []LookupAttribute `json:"LookupAttributes,omitempty"`
	StartTime        *protocol.Time    `json:"StartTime,omitempty"`
	EndTime          *protocol.Time    `json:"EndTime,omitempty"`
	EventCategory    *string           `json:"EventCategory,omitempty"`
	MaxResults       *int64            `json:"MaxResults,omitempty"`
	NextToken        *string           `json:"NextToken,omitempty"`
}

// LookupAttribute is one attribute filter.
type LookupAttribute struct {
	AttributeKey   *string `json:"AttributeKey,omitempty"`
	AttributeValue *string `json:"AttributeValue,omitempty"`
}

// LookupEventsOutput is LookupEvents' response.
type LookupEventsOutput struct {
	Events    []Event `json:"Events"`
	NextToken string  `json:"NextToken,omitempty"`
}

// Event is one event history item (spec §4).
type Event struct {
	EventId         string        `json:"EventId"`
	EventName       string        `json:"EventName"`
	ReadOnly        string        `json:"ReadOnly"`
	AccessKeyId     string        `json:"AccessKeyId,omitempty"`
	EventTime       protocol.Time `json:"EventTime"`
	EventSource     string        `json:"EventSource"`
	Username        string        `json:"Username,omitempty"`
	Resources       []Resource    `json:"Resources"`
	CloudTrailEvent string        `json:"CloudTrailEvent"`
}

// Resource is an item's resource.
type Resource struct {
	ResourceType *string `json:"ResourceType"`
	ResourceName *string `json:"ResourceName,omitempty"`
}

const (
	defaultMaxResults = 50
	maxAttrValueLen   = 2000
)

func (s *Service) lookupEvents(ctx context.Context, c *catalog.Call, in *LookupEventsInput) (*LookupEventsOutput, error) {
	if s.limiter != nil && !s.limiter.allow(c.AccountID()+"/"+c.Region, c.Now) {
		return nil, clientError("ThrottlingException", "Rate exceeded")
	}
	if len(in.LookupAttributes) > 1 {
		return nil, clientError("InvalidLookupAttributesException",
			"You cannot specify more than one lookup attribute.")
	}
	q := audit.Query{AccountID: c.AccountID(), Region: c.Region}
	if len(in.LookupAttributes) == 1 {
		a := in.LookupAttributes[0]
		if a.AttributeKey == nil || !slices.Contains(audit.Attributes, *a.AttributeKey) {
			key := ""
			if a.AttributeKey != nil {
				key = *a.AttributeKey
			}
			return nil, clientError("InvalidLookupAttributesException",
				"The attribute key %q is not valid. Valid keys are: %s.", key, strings.Join(audit.Attributes, ", "))
		}
		if a.AttributeValue == nil || *a.AttributeValue == "" || valueLength(*a.AttributeValue) > maxAttrValueLen {
			return nil, clientError("InvalidLookupAttributesException",
				"The attribute value for %s must be between 1 and %d characters.", *a.AttributeKey, maxAttrValueLen)
		}
		q.Attr, q.Value = *a.AttributeKey, *a.AttributeValue
	}
	if in.EventCategory != nil && *in.EventCategory != "insight" {
		return nil, clientError("InvalidEventCategoryException",
			"The event category %q is not valid. The only valid event category is insight.", *in.EventCategory)
	}
	if in.StartTime != nil {
		q.Start = in.StartTime.Time
	}
	if in.EndTime != nil {
		q.End = in.EndTime.Time
	}
	if !q.Start.IsZero() && !q.End.IsZero() && q.Start.After(q.End) {
		return nil, clientError("InvalidTimeRangeException", "Start time must be before end time.")
	}
	if q.Start.IsZero() && s.cfg.Retention > 0 {
		q.Start = c.Now.Add(-s.cfg.Retention)
	}
	limit := defaultMaxResults
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > defaultMaxResults {
			return nil, clientError("InvalidMaxResultsException",
				"Value %d for MaxResults is invalid. It must be between 1 and %d.", *in.MaxResults, defaultMaxResults)
		}
		limit = int(*in.MaxResults)
	}
	h := paramsHash(c, in)
	if in.NextToken != nil {
		pos, ok := decodeToken(*in.NextToken, h)
		if !ok {
			return nil, clientError("InvalidNextTokenException", "Invalid NextToken.")
		}
		q.After = &pos
	}
	out := &LookupEventsOutput{Events: []Event{}}
	if in.EventCategory != nil {
		// Insights events: lextrail generates none.
		return out, nil
	}
	q.Limit = limit + 1
	rows, err := audit.LookupTx(ctx, c.DB, c.Tx, q)
	if err != nil {
		return nil, err
	}
	if len(rows) > limit {
		rows = rows[:limit]
		out.NextToken = encodeToken(rows[limit-1].Position(), h)
	}
	for i := range rows {
		out.Events = append(out.Events, item(&rows[i]))
	}
	return out, nil
}

func item(r *audit.Row) Event {
	ev := Event{
		EventId:         r.EventID,
		EventName:       r.EventName,
		ReadOnly:        r.ReadOnly,
		AccessKeyId:     r.AccessKeyID,
		EventTime:       protocol.NewTime(store.FromMillis(r.TimeMs)),
		EventSource:     r.EventSource,
		Username:        r.Username,
		Resources:       []Resource{},
		CloudTrailEvent: r.Record,
	}
	if strings.Contains(r.Record, `"resources":[`) {
		var rec struct {
			Resources []audit.Resource `json:"resources"`
		}
		if json.Unmarshal([]byte(r.Record), &rec) == nil {
			for _, res := range rec.Resources {
				typ, name := res.Type, audit.ResourceName(res.ARN)
				ev.Resources = append(ev.Resources, Resource{ResourceType: &typ, ResourceName: &name})
			}
		}
	}
	return ev
}

// valueLength counts an attribute value as CloudTrail does: '_', ' ', ','
// and '\n' count double.
func valueLength(s string) int {
	n := utf8.RuneCountInString(s)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '_', ' ', ',', '\n':
			n++
		}
	}
	return n
}

// paramsHash identifies the parameters a NextToken is valid for (all but
// MaxResults and the token itself), scoped to the caller's account and
// region.
func paramsHash(c *catalog.Call, in *LookupEventsInput) [8]byte {
	hh := sha256.New()
	w := func(s string) { hh.Write([]byte(s)); hh.Write([]byte{0}) }
	w(c.AccountID())
	w(c.Region)
	for _, a := range in.LookupAttributes {
		if a.AttributeKey != nil {
			w(*a.AttributeKey)
		}
		if a.AttributeValue != nil {
			w(*a.AttributeValue)
		}
	}
	if in.StartTime != nil {
		w(strconv.FormatInt(in.StartTime.UnixNano(), 10))
	}
	w("|")
	if in.EndTime != nil {
		w(strconv.FormatInt(in.EndTime.UnixNano(), 10))
	}
	w("|")
	if in.EventCategory != nil {
		w(*in.EventCategory)
	}
	var h [8]byte
	copy(h[:], hh.Sum(nil))
	return h
}

// A NextToken is base64url of: version byte 1, the last event's time (ms)
// and sequence as big-endian int64s, and 8 bytes of the parameters' hash.
func encodeToken(p audit.Position, h [8]byte) string {
	var b [25]byte
	b[0] = 1
	binary.BigEndian.PutUint64(b[1:], uint64(p.TimeMs))
	binary.BigEndian.PutUint64(b[9:], uint64(p.Seq))
	copy(b[17:], h[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func decodeToken(s string, h [8]byte) (audit.Position, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 25 || b[0] != 1 || [8]byte(b[17:]) != h {
		return audit.Position{}, false
	}
	return audit.Position{TimeMs: int64(binary.BigEndian.Uint64(b[1:])), Seq: int64(binary.BigEndian.Uint64(b[9:]))}, true
}
