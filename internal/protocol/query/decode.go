package query

import (
	"encoding"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/protocol"
	"lextrail/internal/protocol/internal/wire"
)

type kind uint8

const (
	kScalar kind = iota
	kStruct
	kList
	kMap
)

type field struct {
	index     int
	name      string
	flattened bool
	keyName   string // map entry key member ("key")
	valueName string // map entry value member ("value")
	kind      kind
	ptr       bool         // *struct
	elem      reflect.Type // list element / map value type
	elemKind  kind
}

type typeInfo struct {
	fields []field
}

var infos sync.Map // reflect.Type -> *typeInfo

var (
	timeType            = reflect.TypeFor[protocol.Time]()
	timeTimeType        = reflect.TypeFor[time.Time]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func infoOf(t reflect.Type) *typeInfo {
	if v, ok := infos.Load(t); ok {
		return v.(*typeInfo)
	}
	ti := &typeInfo{}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() || sf.Anonymous {
			continue
		}
		tag := sf.Tag.Get("query")
		if tag == "-" {
			continue
		}
		f := field{index: i, name: sf.Name, keyName: "key", valueName: "value"}
		parts := strings.Split(tag, ",")
		if parts[0] != "" {
			f.name = parts[0]
		}
		for _, o := range parts[1:] {
			switch {
			case o == "flattened":
				f.flattened = true
			case strings.HasPrefix(o, "key="):
				f.keyName = o[len("key="):]
			case strings.HasPrefix(o, "value="):
				f.valueName = o[len("value="):]
			}
		}
		ft := sf.Type
		f.kind = kindOf(ft)
		switch f.kind {
		case kStruct:
			f.ptr = ft.Kind() == reflect.Pointer
		case kList:
			f.elem = ft.Elem()
			f.elemKind = kindOf(f.elem)
		case kMap:
			if ft.Key().Kind() != reflect.String {
				continue
			}
			f.elem = ft.Elem()
			f.elemKind = kindOf(f.elem)
		}
		if (f.kind == kList || f.kind == kMap) && (f.elemKind == kList || f.elemKind == kMap) {
			continue // nested collections are not part of any query API
		}
		ti.fields = append(ti.fields, f)
	}
	v, _ := infos.LoadOrStore(t, ti)
	return v.(*typeInfo)
}

func kindOf(t reflect.Type) kind {
	if t == timeType || t == timeTimeType || reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return kScalar
	}
	switch t.Kind() {
	case reflect.Pointer:
		if e := t.Elem(); e.Kind() == reflect.Struct && e != timeType && e != timeTimeType && !t.Implements(textUnmarshalerType) {
			return kStruct
		}
		return kScalar
	case reflect.Struct:
		return kStruct
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return kScalar
		}
		return kList
	case reflect.Map:
		return kMap
	}
	return kScalar
}

type decoder struct {
	form     url.Values
	prefixes map[string]struct{}
}

// has reports whether some parameter starts with prefix (which ends in
// a dot).
func (d *decoder) has(prefix string) bool {
	if d.prefixes == nil {
		d.prefixes = make(map[string]struct{})
		for k := range d.form {
			for i := 0; i < len(k); i++ {
				if k[i] == '.' {
					d.prefixes[k[:i+1]] = struct{}{}
				}
			}
		}
	}
	_, ok := d.prefixes[prefix]
	return ok
}

func (d *decoder) scalar(fv reflect.Value, key string) error {
	vs, ok := d.form[key]
	if !ok || len(vs) == 0 {
		return nil
	}
	s := vs[0]
	if s == "" {
		t := fv.Type()
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.String {
			return nil // an empty non-string value is absent
		}
	}
	if err := wire.SetText(fv, s, wire.TextQuery); err != nil {
		v := s
		if len(v) > 64 {
			v = v[:64] + "..."
		}
		return &awserr.Error{Code: "InvalidParameterValue", Status: http.StatusBadRequest,
			Message: "Invalid value '" + v + "' for parameter " + key + ": expected " + err.Error() + "."}
	}
	return nil
}

func (d *decoder) structure(v reflect.Value, prefix string) error {
	ti := infoOf(v.Type())
	for i := range ti.fields {
		f := &ti.fields[i]
		fv := v.Field(f.index)
		key := prefix + f.name
		switch f.kind {
		case kScalar:
			if err := d.scalar(fv, key); err != nil {
				return err
			}
		case kStruct:
			if !d.has(key + ".") {
				continue
			}
			if f.ptr {
				p := reflect.New(fv.Type().Elem())
				if err := d.structure(p.Elem(), key+"."); err != nil {
					return err
				}
				fv.Set(p)
			} else if err := d.structure(fv, key+"."); err != nil {
				return err
			}
		case kList:
			if err := d.list(f, fv, key); err != nil {
				return err
			}
		case kMap:
			if err := d.mapping(f, fv, key); err != nil {
				return err
			}
		}
	}
	return nil
}

// element decodes one list element or map value at key into ev.
func (d *decoder) element(k kind, ev reflect.Value, key string) (present bool, err error) {
	if k == kScalar {
		if _, ok := d.form[key]; !ok {
			return false, nil
		}
		return true, d.scalar(ev, key)
	}
	if !d.has(key + ".") {
		return false, nil
	}
	if ev.Kind() == reflect.Pointer {
		p := reflect.New(ev.Type().Elem())
		if err := d.structure(p.Elem(), key+"."); err != nil {
			return true, err
		}
		ev.Set(p)
		return true, nil
	}
	return true, d.structure(ev, key+".")
}

func (d *decoder) list(f *field, fv reflect.Value, key string) error {
	base := key + ".member."
	if f.flattened {
		base = key + "."
	}
	var sl reflect.Value
	n := 0
	for i := 1; ; i++ {
		ev := reflect.New(f.elem).Elem()
		ok, err := d.element(f.elemKind, ev, base+strconv.Itoa(i))
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if n == 0 {
			sl = reflect.MakeSlice(fv.Type(), 0, 4)
		}
		sl = reflect.Append(sl, ev)
		n++
	}
	if n > 0 {
		fv.Set(sl)
	} else if _, ok := d.form[key]; ok {
		fv.Set(reflect.MakeSlice(fv.Type(), 0, 0)) // "Name=": an empty list
	}
	return nil
}

func (d *decoder) mapping(f *field, fv reflect.Value, key string) error {
	base := key + ".entry."
	if f.flattened {
		base = key + "."
	}
	var m reflect.Value
	for i := 1; ; i++ {
		entry := base + strconv.Itoa(i) + "."
		ks, ok := d.form[entry+f.keyName]
		if !ok || len(ks) == 0 {
			break
		}
		ev := reflect.New(f.elem).Elem()
		if _, err := d.element(f.elemKind, ev, entry+f.valueName); err != nil {
			return err
		}
		if !m.IsValid() {
			m = reflect.MakeMap(fv.Type())
		}
		m.SetMapIndex(reflect.ValueOf(ks[0]).Convert(fv.Type().Key()), ev)
	}
	if m.IsValid() {
		fv.Set(m)
	} else if _, ok := d.form[key]; ok {
		fv.Set(reflect.MakeMap(fv.Type()))
	}
	return nil
}
