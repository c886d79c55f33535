package wire

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"

	"lextrail/internal/protocol"
)

// DecodeJSON unmarshals a JSON body into ptr. An empty (or all-space)
// body is an empty object. Errors are described for clients by
// DescribeJSONError. A pointer to a zero struct is decoded by fastDecode
// when it can; the result is the same as json.Unmarshal's (which runs
// whenever fastDecode declines, and produces every error).
func DecodeJSON(body []byte, ptr any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if v := reflect.ValueOf(ptr); v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct && v.Elem().IsZero() {
		if fastDecode(body, ptr) {
			return nil
		}
		v.Elem().SetZero()
	}
	return json.Unmarshal(body, ptr)
}

// DescribeJSONError turns a json.Unmarshal error into a client-facing
// message naming the member and the expected type, without Go type names.
// root is the type decoded into (used to tell a member from an element of
// a list or map member); it may be nil.
func DescribeJSONError(err error, root reflect.Type) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	var ce base64.CorruptInputError
	switch {
	case errors.As(err, &te):
		got := describeValue(te.Value)
		if te.Field == "" {
			return fmt.Sprintf("The request body must be a JSON object, not %s.", got)
		}
		if ft := memberType(root, te.Field); ft != nil && deref(ft) != deref(te.Type) {
			switch deref(ft).Kind() {
			case reflect.Slice, reflect.Array, reflect.Map:
				return fmt.Sprintf("Each element of member '%s' must be %s, not %s.", te.Field, DescribeType(te.Type), got)
			}
		}
		return fmt.Sprintf("Member '%s' must be %s, not %s.", te.Field, DescribeType(te.Type), got)
	case errors.As(err, &se):
		return fmt.Sprintf("The request body is not valid JSON: %s (at byte offset %d).", se.Error(), se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "The request body is not valid JSON: unexpected end of input."
	case errors.As(err, &ce):
		return fmt.Sprintf("A blob member is not valid base64 (illegal data at input byte %d).", int64(ce))
	}
	return "The request body could not be parsed as JSON."
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// memberType resolves a dotted path of JSON member names (as in
// json.UnmarshalTypeError.Field) against t, stepping through pointers,
// lists and maps; nil when it cannot.
func memberType(t reflect.Type, path string) reflect.Type {
	for _, name := range strings.Split(path, ".") {
		t = deref(t)
		for t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Map) && t.Elem().Kind() != reflect.Uint8 {
			t = deref(t.Elem())
		}
		if t == nil || t.Kind() != reflect.Struct {
			return nil
		}
		var found reflect.Type
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			n, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if n == "" {
				n = sf.Name
			}
			if n == name || (found == nil && strings.EqualFold(n, name)) {
				found = sf.Type
				if n == name {
					break
				}
			}
		}
		if found == nil {
			return nil
		}
		t = found
	}
	return t
}

func describeValue(v string) string {
	switch {
	case v == "string":
		return "a string"
	case v == "bool":
		return "a boolean"
	case v == "array":
		return "a list"
	case v == "object":
		return "an object"
	case v == "number":
		return "a number"
	case strings.HasPrefix(v, "number "):
		n := v[len("number "):]
		if len(n) > 40 {
			n = n[:40] + "..."
		}
		return "the number " + n
	}
	return "a JSON " + v
}

var timeType = reflect.TypeFor[protocol.Time]()

// DescribeType names the JSON shape a Go type expects, in AWS terms.
func DescribeType(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return "a timestamp (a number of epoch seconds)"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer in range"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64-encoded string"
		}
		return "a list"
	case reflect.Map:
		return "a map (a JSON object)"
	case reflect.Struct:
		return "a structure (a JSON object)"
	}
	return "a JSON value"
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// MarshalJSON encodes v without HTML escaping and without a trailing
// newline. The returned slice is freshly allocated.
func MarshalJSON(v any) ([]byte, error) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return append([]byte(nil), b...), nil
}
