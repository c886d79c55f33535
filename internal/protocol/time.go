package protocol

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Time is a wire timestamp. In JSON (awsjson, restjson bodies) it is a
// number of epoch seconds with up to millisecond precision
// (1494360160.133; whole seconds have no fraction), which is what every
// AWS SDK expects; it decodes from integer, fraction and exponent forms.
// As XML text, query parameters and rest querystring values it is
// ISO 8601 in UTC (2006-01-02T15:04:05Z, with .sss when the milliseconds
// are non-zero). In rest headers it is an HTTP date (RFC 7231).
//
// Use the omitzero JSON option (or *Time with omitempty) for optional
// members so that an unset time is omitted rather than sent as year 1.
type Time struct{ time.Time }

// NewTime wraps t.
func NewTime(t time.Time) Time { return Time{t} }

// TimePtr returns a pointer to a Time wrapping t, or nil for the zero time.
func TimePtr(t time.Time) *Time {
	if t.IsZero() {
		return nil
	}
	return &Time{t}
}

// Earliest and latest instants a Time decodes from the wire (years 1 and
// 9999), so that arithmetic on decoded values cannot overflow.
const (
	minEpoch = -62135596800
	maxEpoch = 253402300799
)

var timeType = reflect.TypeFor[Time]()

// MarshalJSON writes epoch seconds with millisecond precision.
func (t Time) MarshalJSON() ([]byte, error) {
	return AppendEpoch(nil, t.Time), nil
}

// AppendEpoch appends t as epoch seconds with millisecond precision.
func AppendEpoch(b []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	if ms < 0 {
		b = append(b, '-')
		ms = -ms
	}
	b = strconv.AppendInt(b, ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
	}
	return b
}

// UnmarshalJSON reads a JSON number of epoch seconds. null leaves t
// unchanged; anything else is a *json.UnmarshalTypeError.
func (t *Time) UnmarshalJSON(data []byte) error {
	s := string(data)
	if s == "null" {
		return nil
	}
	v, ok := ParseEpoch(s)
	if !ok {
		return &json.UnmarshalTypeError{Value: jsonKind(s), Type: timeType}
	}
	t.Time = v
	return nil
}

func jsonKind(s string) string {
	if s == "" {
		return "value"
	}
	switch s[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	}
	if len(s) > 32 {
		s = s[:32] + "..."
	}
	return "number " + s
}

// ParseEpoch parses epoch seconds written as a JSON number (integer,
// fraction or exponent form), to millisecond precision for exponent forms
// and nanosecond precision otherwise. It reports false for anything else
// and for instants outside years 1 to 9999.
func ParseEpoch(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if strings.ContainsAny(s, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || f < minEpoch || f > maxEpoch {
			return time.Time{}, false
		}
		return time.UnixMilli(int64(math.Round(f * 1000))).UTC(), true
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 12 || !digits(whole) || !digits(frac) {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	var ns int64
	for i := 0; i < 9; i++ {
		ns *= 10
		if i < len(frac) {
			ns += int64(frac[i] - '0')
		}
	}
	if neg {
		sec, ns = -sec, -ns
	}
	if sec < minEpoch || sec > maxEpoch {
		return time.Time{}, false
	}
	return time.Unix(sec, ns).UTC(), true
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ISO8601 is the layout of Time as XML text and query values.
const ISO8601 = "2006-01-02T15:04:05.999Z07:00"

// MarshalText writes ISO 8601 in UTC (used by encoding/xml for elements
// and attributes).
func (t Time) MarshalText() ([]byte, error) {
	return t.UTC().AppendFormat(nil, ISO8601), nil
}

// UnmarshalText reads an ISO 8601 / RFC 3339 timestamp, with or without
// fractional seconds.
func (t *Time) UnmarshalText(b []byte) error {
	v, err := ParseISO8601(string(b))
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// ParseISO8601 parses an RFC 3339 timestamp (fraction optional), also
// accepting a missing zone (taken as UTC).
func ParseISO8601(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		var err2 error
		if v, err2 = time.Parse("2006-01-02T15:04:05.999999999", s); err2 != nil {
			return time.Time{}, err
		}
	}
	return v.UTC(), nil
}

// String is the ISO 8601 form.
func (t Time) String() string { return t.UTC().Format(ISO8601) }
