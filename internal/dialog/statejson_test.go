package dialog

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

// reachable lists every addressable value reachable from v (v first).
func reachable(v reflect.Value, out *[]reflect.Value) {
	*out = append(*out, v)
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			reachable(v.Elem(), out)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			reachable(v.Field(i), out)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			reachable(v.Index(i), out)
		}
	}
	// map elements are not addressable: whole maps are varied instead
}

func filled() (*State, []reflect.Value) {
	var s State
	n := 0
	fill(reflect.ValueOf(&s).Elem(), &n)
	var vs []reflect.Value
	reachable(reflect.ValueOf(&s).Elem(), &vs)
	return &s, vs
}

func sameJSON(t *testing.T, what string, s *State) {
	t.Helper()
	want, werr := json.Marshal(s)
	got, gerr := s.AppendJSON([]byte("prefix"))
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("%s: json.Marshal error %v, AppendJSON error %v", what, werr, gerr)
	}
	if werr == nil && !bytes.Equal(got, append([]byte("prefix"), want...)) {
		t.Fatalf("%s:\nAppendJSON   %s\njson.Marshal %s", what, got[len("prefix"):], want)
	}
}

// TestAppendJSON: State.AppendJSON writes what json.Marshal writes, for a
// State with every field set (fill), for each field in turn set to its
// zero value (and maps and slices to empty ones), and for strings json
// escapes.
func TestAppendJSON(t *testing.T) {
	s, vs := filled()
	sameJSON(t, "every field set", s)
	for i := range vs {
		for _, empty := range []bool{false, true} {
			s, vs := filled()
			v := vs[i]
			if !v.CanSet() {
				continue
			}
			switch {
			case !empty:
				v.Set(reflect.Zero(v.Type()))
			case v.Kind() == reflect.Map:
				v.Set(reflect.MakeMap(v.Type()))
			case v.Kind() == reflect.Slice:
				v.Set(reflect.MakeSlice(v.Type(), 0, 0))
			default:
				continue
			}
			sameJSON(t, v.Type().String()+" zeroed", s)
		}
	}
	for _, str := range []string{"", "plain text", "a<b>&c", `quo"te`, `back\slash`, "tab\tnew\nline\x01", "héllo ñ 日本", "line\u2028sep\u2029", "bad\xffutf8", "\x7f"} {
		s, vs := filled()
		for _, v := range vs {
			if v.Kind() == reflect.String && v.CanSet() {
				v.SetString(str)
			}
		}
		s.Attributes = map[string]string{str: str, "k": str}
		s.Intent.Slots = map[string]*string{str: &str, "n": nil}
		sameJSON(t, "strings "+str, s)
	}
	for _, f := range []float64{0, 1, 0.5, 0.87, 1e-7, 123456789, 1e21, 1.0 / 3} {
		s, _ := filled()
		s.Intent.Confidence = &f
		sameJSON(t, "confidence", s)
	}
	s, _ = filled()
	s.Intent.Confidence = new(math.NaN())
	sameJSON(t, "NaN confidence", s)
	sameJSON(t, "new state", NewState("x"))
	sameJSON(t, "nil", nil)
}

func BenchmarkStateJSON(b *testing.B) {
	s, _ := filled()
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			json.Marshal(s)
		}
	})
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for i := 0; i < b.N; i++ {
			buf, _ = s.AppendJSON(buf[:0])
		}
	})
}
