// Package wire holds what the protocol codecs share: per-type field
// metadata, JSON error descriptions, rest URI templates and the HTTP
// bindings (uri, querystring, header, headers, statusCode, payload).
package wire

import (
	"encoding/xml"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
)

// Location of a member in an HTTP message.
type Location uint8

// Member locations (see package protocol's doc).
const (
	Body Location = iota
	URI
	Query
	Header
	Headers
	StatusCode
	Payload
)

// Field is a located member of an input or output struct.
type Field struct {
	Index     int
	GoName    string
	Loc       Location
	Name      string // locationName (label, query key, header name or prefix)
	JSONValue bool   // header carries base64 JSON
	Type      reflect.Type
}

// Info is the cached metadata of an input or output struct type.
type Info struct {
	Type reflect.Type
	// Located are the members with a location tag, Payload (also in
	// Located) the payload member if any.
	Located []Field
	Payload *Field
	// BodyIndex are the field indexes of body members, in order, and
	// Shadow a struct type with exactly those fields (same names, types
	// and tags) when some members are located; nil when every member is a
	// body member and the type itself can be (un)marshalled.
	BodyIndex []int
	Shadow    reflect.Type
	// XMLBody reports whether the body members include anything but
	// XMLName (an XML document is expected or produced).
	XMLBody bool
	// Err is set for types the codecs cannot handle (a programming error,
	// reported as an internal failure).
	Err error
}

// HasBody reports whether the type has body members.
func (i *Info) HasBody() bool { return len(i.BodyIndex) > 0 }

var infos sync.Map // reflect.Type -> *Info

// InfoOf returns the metadata of struct type t (cached).
func InfoOf(t reflect.Type) *Info {
	if v, ok := infos.Load(t); ok {
		return v.(*Info)
	}
	info := build(t)
	v, _ := infos.LoadOrStore(t, info)
	return v.(*Info)
}

var (
	readCloserType = reflect.TypeFor[io.ReadCloser]()
	xmlNameType    = reflect.TypeFor[xml.Name]()
)

func build(t reflect.Type) *Info {
	info := &Info{Type: t}
	if t.Kind() != reflect.Struct {
		info.Err = fmt.Errorf("wire: %v is not a struct", t)
		return info
	}
	var shadowFields []reflect.StructField
	anonymous := false
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if sf.Anonymous {
			// encoding/json and encoding/xml promote embedded fields,
			// which a shadow struct cannot reproduce.
			anonymous = true
		}
		if !sf.IsExported() {
			continue
		}
		loc, ok := sf.Tag.Lookup("location")
		if !ok || loc == "" {
			info.BodyIndex = append(info.BodyIndex, i)
			shadowFields = append(shadowFields, reflect.StructField{Name: sf.Name, Type: sf.Type, Tag: sf.Tag})
			if sf.Type != xmlNameType && sf.Tag.Get("xml") != "-" {
				info.XMLBody = true
			}
			continue
		}
		f := Field{Index: i, GoName: sf.Name, Type: sf.Type, Name: sf.Tag.Get("locationName"), JSONValue: sf.Tag.Get("jsonvalue") == "true"}
		switch loc {
		case "uri":
			f.Loc = URI
		case "querystring":
			f.Loc = Query
		case "header":
			f.Loc = Header
		case "headers":
			f.Loc = Headers
			f.Name = strings.ToLower(f.Name)
			if sf.Type != reflect.TypeFor[map[string]string]() {
				info.Err = fmt.Errorf("wire: %v.%s: location headers needs map[string]string", t, sf.Name)
			}
		case "statusCode":
			f.Loc = StatusCode
		case "payload":
			f.Loc = Payload
		default:
			info.Err = fmt.Errorf("wire: %v.%s: unknown location %q", t, sf.Name, loc)
		}
		if f.Name == "" {
			f.Name = sf.Name
			if f.Loc == URI {
				f.Name = lowerFirst(sf.Name)
			}
		}
		info.Located = append(info.Located, f)
		if f.Loc == Payload {
			if info.Payload != nil {
				info.Err = fmt.Errorf("wire: %v has two payload members", t)
			}
			info.Payload = &info.Located[len(info.Located)-1]
		}
	}
	if info.Payload != nil {
		// Located may have grown after Payload was taken.
		for i := range info.Located {
			if info.Located[i].Loc == Payload {
				info.Payload = &info.Located[i]
			}
		}
	}
	if len(info.Located) > 0 && (len(shadowFields) > 0 || anonymous) {
		if anonymous {
			info.Err = fmt.Errorf("wire: %v mixes located members with embedded body members", t)
			return info
		}
		info.Shadow = reflect.StructOf(shadowFields)
	}
	return info
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// BodyValue returns a pointer to a value holding v's body members: v's own
// address when the type needs no shadow, else a fresh shadow struct filled
// from v. v must be an addressable struct value of info.Type.
func (i *Info) BodyValue(v reflect.Value) any {
	if i.Shadow == nil {
		return v.Addr().Interface()
	}
	s := reflect.New(i.Shadow).Elem()
	for k, idx := range i.BodyIndex {
		s.Field(k).Set(v.Field(idx))
	}
	return s.Addr().Interface()
}

// NewBody returns a pointer to decode the body into: v's address when no
// shadow is needed (then Commit is a no-op).
func (i *Info) NewBody(v reflect.Value) any {
	if i.Shadow == nil {
		return v.Addr().Interface()
	}
	return reflect.New(i.Shadow).Interface()
}

// Commit copies a shadow decoded by NewBody into v.
func (i *Info) Commit(v reflect.Value, body any) {
	if i.Shadow == nil {
		return
	}
	s := reflect.ValueOf(body).Elem()
	for k, idx := range i.BodyIndex {
		v.Field(idx).Set(s.Field(k))
	}
}
