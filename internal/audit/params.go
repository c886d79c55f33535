package audit

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"lextrail/internal/protocol"
)

// Members are recorded as AWS records them: the lower-camel form of the
// API member name (the json tag name, else the query tag name, else the
// Go field name — URI, query-string and header members included), with
// empty members left out: nil pointers, slices, maps and interfaces, empty
// strings and non-pointer zero scalars (a member the client set to false
// or 0 is a pointer in lextrail's inputs). Struct tags on input and output
// members adjust this:
//
//	audit:"hidden"   the value is recorded as HIDDEN_DUE_TO_SECURITY_REASONS
//	audit:"omit"     the member is never recorded
//
// Map keys are user data and kept as they are. Timestamps are recorded in
// eventTime's format (2006-01-02T15:04:05Z, with milliseconds when set).

// maxElements is the size above which requestParameters and
// responseElements are replaced by null (CloudTrail: "omitted").
const maxElements = 100 << 10

// appendElements appends v (a pointer to a struct, or any value) as a
// requestParameters/responseElements object, or null when v is nil or has
// no recorded member.
func appendElements(b []byte, v any) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	if m, ok := v.(map[string]any); ok {
		return appendMarshal(b, m)
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return append(b, "null"...)
		}
		rv = rv.Elem()
	}
	start := len(b)
	b, ok := encoderFor(rv.Type())(b, rv)
	if !ok {
		return append(b[:start], "null"...)
	}
	if len(b)-start > maxElements {
		return append(b[:start], "null"...)
	}
	return b
}

// encodeFunc appends v and reports whether anything was written (false
// means "empty: leave the member out", and b is then unchanged).
type encodeFunc func(b []byte, v reflect.Value) ([]byte, bool)

var encoders sync.Map // reflect.Type -> encodeFunc

var (
	timeType      = reflect.TypeFor[time.Time]()
	protoTimeType = reflect.TypeFor[protocol.Time]()
	rawType       = reflect.TypeFor[json.RawMessage]()
	readerType    = reflect.TypeFor[io.Reader]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
)

func encoderFor(t reflect.Type) encodeFunc {
	if f, ok := encoders.Load(t); ok {
		return f.(encodeFunc)
	}
	// Recursive types: publish an indirection first.
	var f encodeFunc
	var wg sync.WaitGroup
	wg.Add(1)
	fi, loaded := encoders.LoadOrStore(t, encodeFunc(func(b []byte, v reflect.Value) ([]byte, bool) {
		wg.Wait()
		return f(b, v)
	}))
	if loaded {
		return fi.(encodeFunc)
	}
	f = newEncoder(t)
	wg.Done()
	encoders.Store(t, f)
	return f
}

func newEncoder(t reflect.Type) encodeFunc {
	switch {
	case t == timeType:
		return func(b []byte, v reflect.Value) ([]byte, bool) {
			tm := v.Interface().(time.Time)
			if tm.IsZero() {
				return b, false
			}
			return appendTime(b, tm), true
		}
	case t == protoTimeType:
		return func(b []byte, v reflect.Value) ([]byte, bool) {
			tm := v.Interface().(protocol.Time).Time
			if tm.IsZero() {
				return b, false
			}
			return appendTime(b, tm), true
		}
	case t == rawType:
		return func(b []byte, v reflect.Value) ([]byte, bool) {
			if v.Len() == 0 {
				return b, false
			}
			return append(b, v.Bytes()...), true
		}
	case t.Kind() == reflect.Interface && t.Implements(readerType), t.Kind() == reflect.Func, t.Kind() == reflect.Chan:
		return func(b []byte, _ reflect.Value) ([]byte, bool) { return b, false }
	case t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && t.Kind() != reflect.Struct && t.Implements(marshalerType):
		return marshalEncoder
	}
	switch t.Kind() {
	case reflect.String:
		return func(b []byte, v reflect.Value) ([]byte, bool) {
			s := v.String()
			if s == "" {
				return b, false
			}
			return appendString(b, s), true
		}
	case reflect.Bool:
		return func(b []byte, v reflect.Value) ([]byte, bool) {
			if !v.Bool() {
				return b, false
			}
			return append(b, "true"...), true
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(b []byte, v reflect.Value) ([]byte, bool) {
			if v.Int() == 0 {
				return b, false
			}
			return strconv.AppendInt(b, v.Int(), 10), true
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return func(b []byte, v reflect.Value) ([]byte, bool) {
			if v.Uint() == 0 {
				return b, false
			}
			return strconv.AppendUint(b, v.Uint(), 10), true
		}
	case reflect.Float32, reflect.Float64:
		bits := t.Bits()
		return func(b []byte, v reflect.Value) ([]byte, bool) {
			f := v.Float()
			if f == 0 || math.IsNaN(f) || math.IsInf(f, 0) {
				return b, false
			}
			return strconv.AppendFloat(b, f, 'g', -1, bits), true
		}
	case reflect.Pointer:
		elem := t.Elem()
		// A set pointer records its value even when it is zero.
		var enc encodeFunc
		switch elem.Kind() {
		case reflect.Bool:
			enc = func(b []byte, v reflect.Value) ([]byte, bool) { return strconv.AppendBool(b, v.Bool()), true }
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			enc = func(b []byte, v reflect.Value) ([]byte, bool) { return strconv.AppendInt(b, v.Int(), 10), true }
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			enc = func(b []byte, v reflect.Value) ([]byte, bool) { return strconv.AppendUint(b, v.Uint(), 10), true }
		case reflect.Float32, reflect.Float64:
			bits := elem.Bits()
			enc = func(b []byte, v reflect.Value) ([]byte, bool) {
				f := v.Float()
				if math.IsNaN(f) || math.IsInf(f, 0) {
					return b, false
				}
				return strconv.AppendFloat(b, f, 'g', -1, bits), true
			}
		case reflect.String:
			enc = func(b []byte, v reflect.Value) ([]byte, bool) { return appendString(b, v.String()), true }
		case reflect.Struct:
			inner := encoderFor(elem)
			enc = func(b []byte, v reflect.Value) ([]byte, bool) {
				if nb, ok := inner(b, v); ok {
					return nb, true
				}
				return append(b, "{}"...), true // set but empty
			}
		default:
			enc = encoderFor(elem)
		}
		return func(b []byte, v reflect.Value) ([]byte, bool) {
			if v.IsNil() {
				return b, false
			}
			return enc(b, v.Elem())
		}
	case reflect.Interface:
		return func(b []byte, v reflect.Value) ([]byte, bool) {
			if v.IsNil() {
				return b, false
			}
			return marshalEncoder(b, v.Elem())
		}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return func(b []byte, v reflect.Value) ([]byte, bool) {
				if v.Len() == 0 {
					return b, false
				}
				var raw []byte
				if v.Kind() == reflect.Slice {
					raw = v.Bytes()
				} else {
					raw = make([]byte, v.Len())
					reflect.Copy(reflect.ValueOf(raw), v)
				}
				b = append(b, '"')
				b = base64.StdEncoding.AppendEncode(b, raw)
				return append(b, '"'), true
			}
		}
		elem := encoderFor(t.Elem())
		return func(b []byte, v reflect.Value) ([]byte, bool) {
			n := v.Len()
			if n == 0 {
				return b, false
			}
			b = append(b, '[')
			for i := 0; i < n; i++ {
				if i > 0 {
					b = append(b, ',')
				}
				var ok bool
				if b, ok = elem(b, v.Index(i)); !ok {
					b = appendEmpty(b, t.Elem())
				}
			}
			return append(b, ']'), true
		}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return marshalEncoder
		}
		elem := encoderFor(t.Elem())
		return func(b []byte, v reflect.Value) ([]byte, bool) {
			if v.Len() == 0 {
				return b, false
			}
			keys := make([]string, 0, v.Len())
			for _, k := range v.MapKeys() {
				keys = append(keys, k.String())
			}
			slices.Sort(keys)
			b = append(b, '{')
			for i, k := range keys {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendString(b, k)
				b = append(b, ':')
				var ok bool
				if b, ok = elem(b, v.MapIndex(reflect.ValueOf(k).Convert(t.Key()))); !ok {
					b = appendEmpty(b, t.Elem())
				}
			}
			return append(b, '}'), true
		}
	case reflect.Struct:
		return structEncoder(t)
	}
	return func(b []byte, _ reflect.Value) ([]byte, bool) { return b, false }
}

// appendEmpty writes the zero value of an element inside a list or map
// (where it cannot be left out).
func appendEmpty(b []byte, t reflect.Type) []byte {
	switch t.Kind() {
	case reflect.String:
		return append(b, `""`...)
	case reflect.Bool:
		return append(b, "false"...)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return append(b, '0')
	case reflect.Struct, reflect.Map:
		return append(b, "{}"...)
	case reflect.Slice, reflect.Array:
		return append(b, "[]"...)
	}
	return append(b, "null"...)
}

func marshalEncoder(b []byte, v reflect.Value) ([]byte, bool) {
	if !v.IsValid() {
		return b, false
	}
	return appendMarshal(b, v.Interface()), true
}

func appendMarshal(b []byte, v any) []byte {
	j, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, j...)
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	t = t.UTC()
	if t.Nanosecond() >= int(time.Millisecond) {
		b = t.AppendFormat(b, "2006-01-02T15:04:05.000Z")
	} else {
		b = t.AppendFormat(b, "2006-01-02T15:04:05Z")
	}
	return append(b, '"')
}

type fieldPlan struct {
	index  int
	key    string // `"name":`
	hidden bool
	enc    encodeFunc
}

func structEncoder(t reflect.Type) encodeFunc {
	var fields []fieldPlan
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, ok := memberName(f)
		if !ok {
			continue
		}
		mode := f.Tag.Get("audit")
		if mode == "omit" {
			continue
		}
		if f.Tag.Get("location") == "statusCode" {
			continue
		}
		fields = append(fields, fieldPlan{index: i, key: string(appendString(nil, name)) + ":",
			hidden: mode == "hidden", enc: encoderFor(f.Type)})
	}
	return func(b []byte, v reflect.Value) ([]byte, bool) {
		start := len(b)
		b = append(b, '{')
		n := 0
		for i := range fields {
			fp := &fields[i]
			fv := v.Field(fp.index)
			mark := len(b)
			if n > 0 {
				b = append(b, ',')
			}
			b = append(b, fp.key...)
			var ok bool
			if fp.hidden {
				if ok = !fv.IsZero(); ok {
					b = append(b, `"`+Hidden+`"`...)
				}
			} else {
				b, ok = fp.enc(b, fv)
			}
			if !ok {
				b = b[:mark]
				continue
			}
			n++
		}
		if n == 0 {
			return b[:start], false
		}
		return append(b, '}'), true
	}
}

// memberName is the API member name of a struct field, lower-camel-cased,
// or false for fields that are not members.
func memberName(f reflect.StructField) (string, bool) {
	name := ""
	if tag, ok := f.Tag.Lookup("json"); ok {
		n, _, _ := strings.Cut(tag, ",")
		if n == "-" {
			if f.Tag.Get("location") == "" {
				return "", false
			}
		} else {
			name = n
		}
	}
	if name == "" {
		if tag, ok := f.Tag.Lookup("query"); ok {
			n, _, _ := strings.Cut(tag, ",")
			if n == "-" {
				return "", false
			}
			name = n
		}
	}
	if name == "" {
		if f.Anonymous {
			return "", false
		}
		name = f.Name
	}
	return lowerCamel(name), true
}

// lowerCamel lowers the first letter: "TrailName" -> "trailName".
func lowerCamel(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if !unicode.IsUpper(r) {
		return s
	}
	return string(unicode.ToLower(r)) + s[size:]
}
