package wire

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"lextrail/internal/protocol"
)

// BadValue describes a located member whose text could not be converted.
type BadValue struct {
	Where string // "URI label", "query parameter", "header"
	Name  string
	Value string
	Want  string
}

func (b *BadValue) Error() string {
	v := b.Value
	if len(v) > 64 {
		v = v[:64] + "..."
	}
	return fmt.Sprintf("Invalid value %q for %s %s: expected %s.", v, b.Where, b.Name, b.Want)
}

// DecodeLocated fills v's located members (everything but the payload and
// the body) from the request. v is an addressable struct value.
func DecodeLocated(info *Info, v reflect.Value, r *http.Request, labels protocol.Labels) error {
	var q url.Values
	for _, f := range info.Located {
		fv := v.Field(f.Index)
		switch f.Loc {
		case URI:
			s, ok := labels[f.Name]
			if !ok {
				for k, lv := range labels {
					if strings.EqualFold(k, f.Name) {
						s, ok = lv, true
						break
					}
				}
			}
			if ok {
				if err := SetText(fv, s, TextQuery); err != nil {
					return &BadValue{"URI label", f.Name, s, err.Error()}
				}
			}
		case Query:
			if q == nil {
				q, _ = url.ParseQuery(r.URL.RawQuery)
				if q == nil {
					q = url.Values{}
				}
			}
			vs := nonEmpty(q[f.Name])
			if len(vs) == 0 {
				continue
			}
			if fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() != reflect.Uint8 {
				sl := reflect.MakeSlice(fv.Type(), len(vs), len(vs))
				for i, s := range vs {
					if err := SetText(sl.Index(i), s, TextQuery); err != nil {
						return &BadValue{"query parameter", f.Name, s, err.Error()}
					}
				}
				fv.Set(sl)
				continue
			}
			if err := SetText(fv, vs[0], TextQuery); err != nil {
				return &BadValue{"query parameter", f.Name, vs[0], err.Error()}
			}
		case Header:
			vs := r.Header.Values(f.Name)
			if len(vs) == 0 {
				// net/http moves these out of the header map.
				switch {
				case strings.EqualFold(f.Name, "Content-Length") && r.ContentLength >= 0 && r.Body != nil && r.Body != http.NoBody:
					vs = []string{strconv.FormatInt(r.ContentLength, 10)}
				case strings.EqualFold(f.Name, "Host") && r.Host != "":
					vs = []string{r.Host}
				default:
					continue
				}
			}
			s := strings.TrimSpace(vs[0])
			if f.JSONValue {
				if err := setJSONValue(fv, s); err != nil {
					return &BadValue{"header", f.Name, s, "base64-encoded JSON of " + DescribeType(fv.Type())}
				}
				continue
			}
			if s == "" && fv.Kind() != reflect.String {
				continue
			}
			if fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String {
				var parts []string
				for _, h := range vs {
					for _, p := range strings.Split(h, ",") {
						if p = strings.TrimSpace(p); p != "" {
							parts = append(parts, p)
						}
					}
				}
				fv.Set(reflect.ValueOf(parts).Convert(fv.Type()))
				continue
			}
			if err := SetText(fv, s, TextHeader); err != nil {
				return &BadValue{"header", f.Name, s, err.Error()}
			}
		case Headers:
			m := map[string]string{}
			for k, hv := range r.Header {
				lk := strings.ToLower(k)
				if len(lk) > len(f.Name) && strings.HasPrefix(lk, f.Name) && len(hv) > 0 {
					m[lk[len(f.Name):]] = strings.Join(hv, ",")
				}
			}
			if len(m) > 0 {
				fv.Set(reflect.ValueOf(m))
			}
		}
	}
	return nil
}

func nonEmpty(vs []string) []string {
	for _, s := range vs {
		if s == "" {
			out := make([]string, 0, len(vs))
			for _, s := range vs {
				if s != "" {
					out = append(out, s)
				}
			}
			return out
		}
	}
	return vs
}

func setJSONValue(fv reflect.Value, s string) error {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "=")); err != nil {
			return err
		}
	}
	if fv.Kind() == reflect.String {
		if !json.Valid(b) {
			return fmt.Errorf("invalid JSON")
		}
		fv.SetString(string(b))
		return nil
	}
	p := reflect.New(fv.Type())
	if err := json.Unmarshal(b, p.Interface()); err != nil {
		return err
	}
	fv.Set(p.Elem())
	return nil
}

type textKind uint8

const (
	TextQuery  textKind = iota // ISO 8601 timestamps
	TextHeader                 // HTTP-date timestamps (ISO 8601 accepted)
)

var (
	timeTimeType        = reflect.TypeFor[time.Time]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// SetText converts s into fv (string, bool, integer, float, []byte as
// base64, protocol.Time, time.Time, TextUnmarshaler, or a pointer to
// one). The error text says what was expected.
func SetText(fv reflect.Value, s string, kind textKind) error {
	if fv.Kind() == reflect.Pointer {
		p := reflect.New(fv.Type().Elem())
		if err := SetText(p.Elem(), s, kind); err != nil {
			return err
		}
		fv.Set(p)
		return nil
	}
	switch fv.Type() {
	case timeType, timeTimeType:
		t, err := parseTime(s, kind)
		if err != nil {
			if kind == TextHeader {
				return fmt.Errorf("an HTTP date")
			}
			return fmt.Errorf("an ISO 8601 timestamp")
		}
		if fv.Type() == timeType {
			fv.Set(reflect.ValueOf(protocol.Time{Time: t}))
		} else {
			fv.Set(reflect.ValueOf(t))
		}
		return nil
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(s)
	case reflect.Bool:
		switch {
		case strings.EqualFold(s, "true"):
			fv.SetBool(true)
		case strings.EqualFold(s, "false"):
			fv.SetBool(false)
		default:
			return fmt.Errorf("true or false")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, fv.Type().Bits())
		if err != nil {
			return fmt.Errorf("an integer in range")
		}
		fv.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, fv.Type().Bits())
		if err != nil {
			return fmt.Errorf("a non-negative integer in range")
		}
		fv.SetUint(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(s, fv.Type().Bits())
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return fmt.Errorf("a number")
		}
		fv.SetFloat(n)
	case reflect.Slice:
		if fv.Type().Elem().Kind() == reflect.Uint8 {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return fmt.Errorf("base64-encoded data")
			}
			fv.SetBytes(b)
			return nil
		}
		return fmt.Errorf("a single value")
	default:
		if fv.CanAddr() && fv.Addr().Type().Implements(textUnmarshalerType) {
			if err := fv.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
				return fmt.Errorf("a valid value")
			}
			return nil
		}
		return fmt.Errorf("a supported value")
	}
	return nil
}

func parseTime(s string, kind textKind) (time.Time, error) {
	if kind == TextHeader {
		if t, err := http.ParseTime(s); err == nil {
			return t.UTC(), nil
		}
	}
	if t, err := protocol.ParseISO8601(s); err == nil {
		return t, nil
	}
	if t, ok := protocol.ParseEpoch(s); ok {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("bad time")
}

// FormatText renders a scalar member for a header or query value; ok is
// false for values that are omitted (nil pointers, empty strings, zero
// non-pointer numbers and booleans, zero times).
func FormatText(fv reflect.Value, kind textKind) (string, bool) {
	explicit := false
	if fv.Kind() == reflect.Pointer {
		if fv.IsNil() {
			return "", false
		}
		fv, explicit = fv.Elem(), true
	}
	switch fv.Type() {
	case timeType, timeTimeType:
		var t time.Time
		if fv.Type() == timeType {
			t = fv.Interface().(protocol.Time).Time
		} else {
			t = fv.Interface().(time.Time)
		}
		if t.IsZero() && !explicit {
			return "", false
		}
		if kind == TextHeader {
			return t.UTC().Format(http.TimeFormat), true
		}
		return t.UTC().Format(protocol.ISO8601), true
	}
	switch fv.Kind() {
	case reflect.String:
		return fv.String(), explicit || fv.Len() > 0
	case reflect.Bool:
		return strconv.FormatBool(fv.Bool()), explicit || fv.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(fv.Int(), 10), explicit || fv.Int() != 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(fv.Uint(), 10), explicit || fv.Uint() != 0
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(fv.Float(), 'g', -1, fv.Type().Bits()), explicit || fv.Float() != 0
	case reflect.Slice:
		if fv.Type().Elem().Kind() == reflect.Uint8 {
			return base64.StdEncoding.EncodeToString(fv.Bytes()), explicit || fv.Len() > 0
		}
	}
	if m, ok := fv.Interface().(encoding.TextMarshaler); ok {
		b, err := m.MarshalText()
		return string(b), err == nil && (explicit || len(b) > 0)
	}
	return fmt.Sprint(fv.Interface()), true
}

// EncodeLocated writes v's header, headers and statusCode members to h and
// returns the status a statusCode member sets (0 if none).
func EncodeLocated(info *Info, v reflect.Value, h http.Header) (status int, err error) {
	for _, f := range info.Located {
		fv := v.Field(f.Index)
		switch f.Loc {
		case Header:
			if f.JSONValue {
				s, ok, err := formatJSONValue(fv)
				if err != nil {
					return 0, fmt.Errorf("encoding header %s: %w", f.Name, err)
				}
				if ok {
					h.Set(f.Name, s)
				}
				continue
			}
			if fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String {
				if fv.Len() > 0 {
					h.Set(f.Name, strings.Join(fv.Convert(reflect.TypeFor[[]string]()).Interface().([]string), ","))
				}
				continue
			}
			if s, ok := FormatText(fv, TextHeader); ok {
				h.Set(f.Name, s)
			}
		case Headers:
			// Prefix headers go out lower-case, as S3 sends them (the key
			// is set directly, so net/http does not canonicalize it):
			// botocore takes a user metadata key from the header name as
			// received, so "X-Amz-Meta-Signature" would reach it as
			// "Signature" and validate-logs would not find "signature".
			for k, val := range fv.Interface().(map[string]string) {
				name := strings.ToLower(f.Name + k)
				h.Del(name)
				h[name] = []string{val}
			}
		case StatusCode:
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue
				}
				fv = fv.Elem()
			}
			if fv.CanInt() && fv.Int() >= 100 && fv.Int() <= 999 {
				status = int(fv.Int())
			}
		}
	}
	return status, nil
}

func formatJSONValue(fv reflect.Value) (string, bool, error) {
	switch fv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
		if fv.IsNil() {
			return "", false, nil
		}
	case reflect.String:
		if fv.Len() == 0 {
			return "", false, nil
		}
		return base64.StdEncoding.EncodeToString([]byte(fv.String())), true, nil
	}
	b, err := MarshalJSON(fv.Interface())
	if err != nil {
		return "", false, err
	}
	return base64.StdEncoding.EncodeToString(b), true, nil
}

// SetPayload stores the request body into the payload member when it is
// raw ([]byte, string or io.ReadCloser); it reports whether it did.
// rawBody (for Operation.RawBody) hands r.Body to io.ReadCloser members.
func SetPayload(f *Field, v reflect.Value, r *http.Request, body []byte) bool {
	fv := v.Field(f.Index)
	switch {
	case f.Type == readCloserType:
		if body != nil {
			fv.Set(reflect.ValueOf(io.NopCloser(bytes.NewReader(body))))
		} else if r.Body != nil {
			fv.Set(reflect.ValueOf(r.Body))
		}
		return true
	case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Uint8:
		if body != nil {
			fv.SetBytes(body)
		}
		return true
	case f.Type.Kind() == reflect.String:
		fv.SetString(string(body))
		return true
	}
	return false
}

// RawPayload returns the bytes or reader of a raw payload member of an
// output; isRaw is false for struct payloads.
func RawPayload(f *Field, v reflect.Value) (b []byte, rc io.ReadCloser, isRaw bool) {
	fv := v.Field(f.Index)
	switch {
	case f.Type == readCloserType:
		if !fv.IsNil() {
			rc = fv.Interface().(io.ReadCloser)
		}
		return nil, rc, true
	case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Uint8:
		return fv.Bytes(), nil, true
	case f.Type.Kind() == reflect.String:
		return []byte(fv.String()), nil, true
	}
	return nil, nil, false
}
