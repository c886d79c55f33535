package audit

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"lextrail/internal/catalog"
)

// Posting lists (migration 0261): an event_postings row lists the
// (sequence, time) entries of one (scope, attribute, value) among one
// indexer batch's events whose times fall in one postingSpan-aligned
// window.

// postingSpan is the width of a posting row's time window, in ms: every
// entry of a row has a time t with max_t - postingSpan < t <= max_t, so a
// lookup for events at or before T reads only rows with max_t < T +
// postingSpan. Part of the stored format: rows written with one span are
// read with it.
const postingSpan = 10_000

// entry is one posting: an event's time (ms) and sequence number.
type entry struct{ t, seq int64 }

// less orders entries newest first: a before b when a is older.
func (a entry) less(b entry) bool { return a.t < b.t || (a.t == b.t && a.seq < b.seq) }

// postingDigits are the list's digits: URL-safe base64, so that a list
// needs no escaping in SQL text or JSON. A digit carries 5 bits of a
// varint and, in its 6th bit, that more digits follow.
const postingDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

var postingValue = func() (v [256]int8) {
	for i := range v {
		v[i] = -1
	}
	for i := 0; i < len(postingDigits); i++ {
		v[postingDigits[i]] = int8(i)
	}
	return
}()

func appendVarint(b []byte, v uint64) []byte {
	for v >= 32 {
		b = append(b, postingDigits[32|v&31])
		v >>= 5
	}
	return append(b, postingDigits[v])
}

// taggedEntry is an entry being written, with its tag: in a ResourceName
// row keyed by a short name, which of the row's ARNs the event's resource
// has (1-based; 0: the value itself, not an ARN's short name).
type taggedEntry struct {
	entry
	tag int
}

// appendList encodes es (in ascending sequence order) newest sequence
// first: per entry the sequence's distance below the previous one (the
// first: below maxSeq), its time's zigzag difference from the previous
// one's (the first: from maxT) and, in a tagged row, its tag.
func appendList(b []byte, es []taggedEntry, maxT, maxSeq int64, tagged bool) []byte {
	ps, pt := maxSeq, maxT
	for i := len(es) - 1; i >= 0; i-- {
		e := es[i]
		b = appendVarint(b, uint64(ps-e.seq))
		d := e.t - pt
		b = appendVarint(b, uint64(d<<1)^uint64(d>>63))
		if tagged {
			b = appendVarint(b, uint64(e.tag))
		}
		ps, pt = e.seq, e.t
	}
	return b
}

// decodeList calls fn for each entry of a row's list (tagged: with tags),
// newest sequence first, until fn returns false.
func decodeList(list string, maxT, maxSeq int64, tagged bool, fn func(entry, int) bool) error {
	if list == "" {
		fn(entry{t: maxT, seq: maxSeq}, 0)
		return nil
	}
	ps, pt := maxSeq, maxT
	var vals [3]uint64
	n := 2
	if tagged {
		n = 3
	}
	for i := 0; i < len(list); {
		for k := 0; k < n; k++ {
			var v uint64
			for shift := uint(0); ; shift += 5 {
				if i >= len(list) || shift > 63 {
					return fmt.Errorf("audit: corrupt posting list")
				}
				c := postingValue[list[i]]
				i++
				if c < 0 {
					return fmt.Errorf("audit: corrupt posting list")
				}
				v |= uint64(c&31) << shift
				if c&32 == 0 {
					break
				}
			}
			vals[k] = v
		}
		ps -= int64(vals[0])
		pt += int64(vals[1]>>1) ^ -int64(vals[1]&1)
		if !fn(entry{t: pt, seq: ps}, int(vals[2])) {
			return nil
		}
	}
	return nil
}

// attrValue is one lookup attribute value of an event: its code and value.
type attrValue struct {
	code  byte
	value string
}

// indexedEvent is what the indexer and the purge read of an event.
type indexedEvent struct {
	seq, t                                           int64
	account, region                                  string
	readOnly, name, source, user, key, id, resources string
	// memo: the event came from a Recorder's memo; its resources are res
	// (resources, unset, is not parsed).
	memo bool
	res  []catalog.Resource
}

// eventColumnsIndexed are the events columns an indexedEvent scans.
const eventColumnsIndexed = "seq, event_time_ms, account_id, region, read_only, event_name, event_source, username, access_key_id, event_id, resources"

func (ev *indexedEvent) scanArgs(resources *[]byte) []any {
	return []any{&ev.seq, &ev.t, &ev.account, &ev.region, &ev.readOnly, &ev.name, &ev.source, &ev.user, &ev.key, &ev.id, resources}
}

// values appends the event's posting attribute values (all but EventId),
// empty values left out, each distinct value once.
func (ev *indexedEvent) values(dst []attrValue) ([]attrValue, error) {
	for _, v := range [...]attrValue{{'n', ev.name}, {'r', ev.readOnly}, {'u', ev.user}, {'s', ev.source}, {'k', ev.key}} {
		if v.value != "" {
			dst = append(dst, v)
		}
	}
	if ev.memo {
		return appendResourceValues(dst, ev.res), nil
	}
	if ev.resources == "" {
		return dst, nil
	}
	var res []string
	if strings.IndexByte(ev.resources, '\\') < 0 {
		// A flat array of strings without escapes (appendResources).
		s := strings.TrimSpace(ev.resources)
		if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
			return nil, fmt.Errorf("audit: resources column %q", ev.resources)
		}
		for s = strings.TrimSpace(s[1 : len(s)-1]); s != ""; {
			if s[0] != '"' {
				return nil, fmt.Errorf("audit: resources column %q", ev.resources)
			}
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("audit: resources column %q", ev.resources)
			}
			res = append(res, s[1:1+end])
			s = strings.TrimSpace(s[2+end:])
			if s != "" {
				if s[0] != ',' {
					return nil, fmt.Errorf("audit: resources column %q", ev.resources)
				}
				s = strings.TrimSpace(s[1:])
			}
		}
	} else if err := json.Unmarshal([]byte(ev.resources), &res); err != nil {
		return nil, fmt.Errorf("audit: resources column: %w", err)
	}
	for _, r := range res {
		if len(r) < 2 {
			continue
		}
		v := attrValue{r[0], r[1:]}
		dup := false
		for _, d := range dst {
			dup = dup || d == v
		}
		if !dup {
			dst = append(dst, v)
		}
	}
	return dst, nil
}

// appendResourceValues appends the multi-valued attribute values of
// resources, as appendResources lists them in the resources column, each
// distinct value once (and none already in dst).
func appendResourceValues(dst []attrValue, resources []catalog.Resource) []attrValue {
	for _, r := range resources {
		for _, v := range [3]attrValue{{'t', r.Type}, {'m', r.ARN}, {'m', ResourceName(r.ARN)}} {
			if v.value != "" && !slices.Contains(dst, v) {
				dst = append(dst, v)
			}
		}
	}
	return dst
}
