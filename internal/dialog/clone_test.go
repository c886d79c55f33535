package dialog

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// fill sets every field reachable from v to a non-zero value (maps and
// slices get two elements), so that a Clone that forgets a field, or
// shares one, is seen.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", *n))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Float64:
		v.SetFloat(float64(*n) / 7)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), n)
		v.Set(p)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			fill(v.Field(i), n)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := 0; i < 2; i++ {
			fill(s.Index(i), n)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := 0; i < 2; i++ {
			k := reflect.New(v.Type().Key()).Elem()
			fill(k, n)
			e := reflect.New(v.Type().Elem()).Elem()
			fill(e, n)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	default:
		panic("fill: unhandled kind " + v.Kind().String() + " — teach fill and State.Clone about it")
	}
}

// shared reports a map, slice or pointer of a reachable from b too.
func shared(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		return shared(a.Elem(), b.Elem(), path+".*")
	case reflect.Map:
		if a.IsNil() {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		for _, k := range a.MapKeys() {
			if p := shared(a.MapIndex(k), b.MapIndex(k), path+"["+k.String()+"]"); p != "" {
				return p
			}
		}
	case reflect.Slice:
		if a.Len() > 0 && a.Pointer() == b.Pointer() {
			return path
		}
		for i := 0; i < a.Len(); i++ {
			if p := shared(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if p := shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
				return p
			}
		}
	}
	return ""
}

// TestCloneIsDeep: Clone copies every field of a State and shares
// nothing with it (the runtime's session cache hands each request a clone
// and keeps the original).
func TestCloneIsDeep(t *testing.T) {
	var s State
	n := 0
	fill(reflect.ValueOf(&s).Elem(), &n)
	c := s.Clone()
	if !reflect.DeepEqual(&s, c) {
		a, _ := json.Marshal(&s)
		b, _ := json.Marshal(c)
		t.Fatalf("clone differs:\n%s\n%s", a, b)
	}
	if p := shared(reflect.ValueOf(&s).Elem(), reflect.ValueOf(c).Elem(), "State"); p != "" {
		t.Fatalf("clone shares %s with the original", p)
	}
	// nil and empty stay what they were (the stored JSON is the same).
	for _, st := range []*State{NewState("x"), {SessionID: "y"}, {Intent: &IntentState{Slots: map[string]*string{"a": nil}}}} {
		if c := st.Clone(); !reflect.DeepEqual(st, c) {
			t.Errorf("clone of %+v is %+v", st, c)
		}
	}
	if (*State)(nil).Clone() != nil {
		t.Error("nil clone")
	}
}

func BenchmarkClone(b *testing.B) {
	var s State
	n := 0
	fill(reflect.ValueOf(&s).Elem(), &n)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.Clone()
	}
}
