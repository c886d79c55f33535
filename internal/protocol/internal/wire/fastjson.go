package wire

import (
	"encoding"
	"encoding/json"
	"math/bits"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// A fast path for JSON request bodies. encoding/json first checks the
// whole body (checkValid), then decodes it through reflection one byte at
// a time; for a PutLogEvents batch of 1,000 JSON documents (every quote of
// every message escaped) that is most of what the server spends. fastDecode
// decodes in one pass with cached per-type plans, and it is conservative:
// whenever it cannot be certain that json.Unmarshal would produce exactly
// the same value with no error — malformed or unusual input, a type mismatch,
// a duplicate or case-folded member name, a lone surrogate, invalid UTF-8,
// a number out of range, a Go type it does not model — it gives up and the
// caller runs json.Unmarshal on a zero value, which also produces the
// error. Values of types it does not model (floats, []byte, interfaces,
// json.Unmarshaler and encoding.TextUnmarshaler implementations, fixed
// arrays, non-string map keys) are delimited (strictly validated) and
// handed to json.Unmarshal one by one.

// fastDecode decodes body into ptr, a pointer to a zero struct, and
// reports whether it did. On false, *ptr may be partly set: the caller
// zeroes it.
func fastDecode(body []byte, ptr any) bool {
	v := reflect.ValueOf(ptr)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return false
	}
	p := planOf(v.Elem().Type())
	if p.kind != kStruct {
		return false
	}
	d := fastDecoder{data: body}
	d.ws()
	if !d.value(p, v.Elem()) {
		return false
	}
	d.ws()
	return d.pos == len(d.data)
}

type kind uint8

const (
	kDelegate kind = iota // json.Unmarshal on the value's bytes
	kString
	kBool
	kInt
	kUint
	kPointer
	kSlice
	kMap
	kStruct
)

// plan says how to decode one Go type.
type plan struct {
	kind   kind
	typ    reflect.Type
	elem   *plan       // kPointer, kSlice, kMap
	fields []fieldPlan // kStruct
	byName map[string]int
}

type fieldPlan struct {
	name  string
	index int
	plan  *plan
}

var plans sync.Map // reflect.Type -> *plan

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func planOf(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	p := buildPlan(t, map[reflect.Type]*plan{})
	plans.Store(t, p)
	return p
}

// buildPlan builds t's plan; seen holds the plans under construction
// (recursive types).
func buildPlan(t reflect.Type, seen map[reflect.Type]*plan) *plan {
	if p, ok := seen[t]; ok {
		return p
	}
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	p := &plan{typ: t}
	seen[t] = p
	if t.Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(jsonUnmarshaler) ||
		t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return p // kDelegate
	}
	switch t.Kind() {
	case reflect.String:
		p.kind = kString
	case reflect.Bool:
		p.kind = kBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		p.kind = kInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		p.kind = kUint
	case reflect.Pointer:
		p.kind, p.elem = kPointer, buildPlan(t.Elem(), seen)
	case reflect.Slice:
		if t.Elem().Kind() != reflect.Uint8 { // []byte is base64
			p.kind, p.elem = kSlice, buildPlan(t.Elem(), seen)
		}
	case reflect.Map:
		k := t.Key()
		if k.Kind() == reflect.String && !k.Implements(textUnmarshaler) && !reflect.PointerTo(k).Implements(textUnmarshaler) {
			p.kind, p.elem = kMap, buildPlan(t.Elem(), seen)
		}
	case reflect.Struct:
		if fields, ok := structFields(t, seen); ok {
			p.kind, p.fields = kStruct, fields
			p.byName = make(map[string]int, len(fields))
			for i, f := range fields {
				p.byName[f.name] = i
			}
		}
	}
	return p
}

// structFields lists the members of a struct the way encoding/json names
// them, for structs whose naming is plain: no embedded fields, no
// ",string" option, no two members with one name, at most 64 members.
func structFields(t reflect.Type, seen map[reflect.Type]*plan) ([]fieldPlan, bool) {
	var out []fieldPlan
	names := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if sf.Anonymous {
			return nil, false
		}
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		for opts != "" {
			var o string
			o, opts, _ = strings.Cut(opts, ",")
			if o == "string" {
				return nil, false
			}
		}
		if !validTagName(name) {
			name = ""
		}
		if name == "" {
			name = sf.Name
		}
		lower := strings.ToLower(name)
		if names[lower] || !isASCII(name) {
			return nil, false
		}
		names[lower] = true
		out = append(out, fieldPlan{name: name, index: i, plan: buildPlan(sf.Type, seen)})
	}
	return out, len(out) <= 64
}

// validTagName is encoding/json's isValidTag.
func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c >= 0x80):
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

type fastDecoder struct {
	data []byte
	pos  int
	buf  []byte // scratch for unescaping
}

var isSpaceByte = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

func (d *fastDecoder) ws() {
	for d.pos < len(d.data) && isSpaceByte[d.data[d.pos]] {
		d.pos++
	}
}

// value decodes the value at pos into v (settable) per p.
func (d *fastDecoder) value(p *plan, v reflect.Value) bool {
	if d.pos >= len(d.data) {
		return false
	}
	c := d.data[d.pos]
	if p.kind == kDelegate {
		start := d.pos
		if !d.skip(0) {
			return false
		}
		return json.Unmarshal(d.data[start:d.pos], v.Addr().Interface()) == nil
	}
	if c == 'n' {
		// null leaves a zero value as it is (every kind modelled here).
		return d.lit("null")
	}
	switch p.kind {
	case kString:
		if c != '"' {
			return false
		}
		s, ok := d.str()
		if !ok {
			return false
		}
		v.SetString(s)
		return true
	case kBool:
		switch c {
		case 't':
			v.SetBool(true)
			return d.lit("true")
		case 'f':
			return d.lit("false")
		}
		return false
	case kInt:
		n, ok := d.integer(true)
		if !ok || v.OverflowInt(n) {
			return false
		}
		v.SetInt(n)
		return true
	case kUint:
		n, ok := d.integer(false)
		if !ok || n < 0 || v.OverflowUint(uint64(n)) {
			return false
		}
		v.SetUint(uint64(n))
		return true
	case kPointer:
		e := reflect.New(p.typ.Elem())
		if !d.value(p.elem, e.Elem()) {
			return false
		}
		v.Set(e)
		return true
	case kSlice:
		return c == '[' && d.slice(p, v)
	case kMap:
		return c == '{' && d.mapValue(p, v)
	case kStruct:
		return c == '{' && d.object(p, v)
	}
	return false
}

func (d *fastDecoder) lit(w string) bool {
	if len(d.data)-d.pos < len(w) || string(d.data[d.pos:d.pos+len(w)]) != w {
		return false
	}
	d.pos += len(w)
	return true
}

// next consumes c after optional whitespace.
func (d *fastDecoder) next(c byte) bool {
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

// more reads the separator after a member or element: true after ',',
// false after close (ok), or failure (ok false).
func (d *fastDecoder) more(close byte) (more, ok bool) {
	d.ws()
	if d.pos >= len(d.data) {
		return false, false
	}
	switch d.data[d.pos] {
	case ',':
		d.pos++
		d.ws()
		return true, true
	case close:
		d.pos++
		return false, true
	}
	return false, false
}

func (d *fastDecoder) object(p *plan, v reflect.Value) bool {
	d.pos++ // {
	d.ws()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return true
	}
	var seen uint64
	for {
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return false
		}
		kb, ok := d.key()
		if !ok || !d.next(':') {
			return false
		}
		d.ws()
		i, known := p.byName[string(kb)]
		if !known {
			// encoding/json matches members case-insensitively: leave
			// those to it (keys are ASCII here, see key).
			for _, f := range p.fields {
				if len(f.name) == len(kb) && strings.EqualFold(f.name, string(kb)) {
					return false
				}
			}
			if !d.skip(0) {
				return false
			}
		} else {
			if seen&(1<<i) != 0 {
				return false // a duplicate member: json keeps the last
			}
			seen |= 1 << i
			f := &p.fields[i]
			if !d.value(f.plan, v.Field(f.index)) {
				return false
			}
		}
		more, ok := d.more('}')
		if !ok {
			return false
		}
		if !more {
			return true
		}
	}
}

func (d *fastDecoder) slice(p *plan, v reflect.Value) bool {
	d.pos++ // [
	d.ws()
	// json leaves an empty, non-nil slice for [].
	s := reflect.MakeSlice(p.typ, 0, 0)
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		v.Set(s)
		return true
	}
	for i := 0; ; i++ {
		if i == s.Cap() {
			s = reflect.AppendSlice(s, reflect.MakeSlice(p.typ, max(4, i), max(4, i)))
		}
		s = s.Slice(0, i+1)
		if !d.value(p.elem, s.Index(i)) {
			return false
		}
		more, ok := d.more(']')
		if !ok {
			return false
		}
		if !more {
			v.Set(s)
			return true
		}
	}
}

func (d *fastDecoder) mapValue(p *plan, v reflect.Value) bool {
	d.pos++ // {
	d.ws()
	m := reflect.MakeMap(p.typ)
	v.Set(m)
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return true
	}
	et := p.typ.Elem()
	for {
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return false
		}
		key, ok := d.str()
		if !ok || !d.next(':') {
			return false
		}
		d.ws()
		e := reflect.New(et).Elem()
		if !d.value(p.elem, e) {
			return false
		}
		m.SetMapIndex(reflect.ValueOf(key).Convert(p.typ.Key()), e)
		more, ok := d.more('}')
		if !ok {
			return false
		}
		if !more {
			return true
		}
	}
}

// key reads a member name (aliasing the body); names with escapes or
// non-ASCII characters (which json may case-fold onto a member) are left
// to json.
func (d *fastDecoder) key() ([]byte, bool) {
	start := d.pos + 1
	for i := start; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			d.pos = i + 1
			return d.data[start:i], true
		case c == '\\', c < 0x20, c >= utf8.RuneSelf:
			return nil, false
		}
	}
	return nil, false
}

// str reads a string at pos (its opening quote) and returns its value,
// decoded as encoding/json decodes it; it fails for what json would
// reject or replace (control characters, bad escapes, invalid UTF-8,
// lone surrogates).
func (d *fastDecoder) str() (string, bool) {
	data := d.data
	start := d.pos + 1
	i := start
	// The plain prefix: no escapes, ASCII.
	for i+8 <= len(data) {
		if m := specialBits(data, i); m != 0 {
			i += bits.TrailingZeros64(m) >> 3
			break
		}
		i += 8
	}
	for i < len(data) && !strSpecial[data[i]] {
		i++
	}
	if i < len(data) && data[i] == '"' {
		d.pos = i + 1
		return string(data[start:i]), true
	}
	buf := append(d.buf[:0], data[start:i]...)
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			d.buf = buf
			return string(buf), true
		case c == '\\':
			if i+1 >= len(data) {
				return "", false
			}
			switch data[i+1] {
			case '"', '\\', '/':
				buf = append(buf, data[i+1])
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := hex4At(data, i+2)
				if !ok {
					return "", false
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if i+6 > len(data) || data[i] != '\\' || data[i+1] != 'u' {
						return "", false
					}
					r2, ok := hex4At(data, i+2)
					if !ok {
						return "", false
					}
					r = utf16.DecodeRune(r, r2)
					if r == utf8.RuneError {
						return "", false
					}
					i += 6
				}
				buf = utf8.AppendRune(buf, r)
				continue
			default:
				return "", false
			}
			i += 2
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n == 1 {
				return "", false // json would substitute U+FFFD
			}
			buf = append(buf, data[i:i+n]...)
			i += n
		default:
			j := i + 1
			for j < len(data) && !strSpecial[data[j]] {
				j++
			}
			buf = append(buf, data[i:j]...)
			i = j
		}
	}
	return "", false
}

// strSpecial marks the bytes that end a plain run in a string.
var strSpecial = func() (t [256]bool) {
	for c := range t {
		t[c] = c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf
	}
	return t
}()

// specialBits flags (high bit per byte, exact for the first) the bytes
// of data[i:i+8] that are a quote, a backslash, a control character or
// non-ASCII.
func specialBits(data []byte, i int) uint64 {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	x := uint64(data[i]) | uint64(data[i+1])<<8 | uint64(data[i+2])<<16 | uint64(data[i+3])<<24 |
		uint64(data[i+4])<<32 | uint64(data[i+5])<<40 | uint64(data[i+6])<<48 | uint64(data[i+7])<<56
	q := x ^ ('"' * lsb)
	b := x ^ ('\\' * lsb)
	ctl := x - 0x20*lsb // borrows out of bytes < 0x20
	return ((q-lsb)&^q | (b-lsb)&^b | ctl&^x | x) & msb
}

func hex4At(data []byte, i int) (rune, bool) {
	if i+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[i : i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	return r, true
}

// integer reads a JSON number that is an integer literal (no fraction or
// exponent, which json refuses for integer members).
func (d *fastDecoder) integer(signed bool) (int64, bool) {
	data := d.data
	i := d.pos
	neg := i < len(data) && data[i] == '-'
	if neg {
		if !signed {
			return 0, false
		}
		i++
	}
	if i >= len(data) || data[i] < '0' || data[i] > '9' {
		return 0, false
	}
	j := i
	if data[i] == '0' {
		i++
	} else {
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
	}
	if i < len(data) && (data[i] == '.' || data[i] == 'e' || data[i] == 'E' || data[i] >= '0' && data[i] <= '9') {
		return 0, false
	}
	lit := data[d.pos:i]
	var n int64
	var err error
	if signed {
		n, err = strconv.ParseInt(string(lit), 10, 64)
	} else {
		var u uint64
		u, err = strconv.ParseUint(string(data[j:i]), 10, 64)
		if u > 1<<63-1 {
			return 0, false
		}
		n = int64(u)
	}
	if err != nil {
		return 0, false
	}
	d.pos = i
	return n, true
}

// skip moves past one JSON value, checking it strictly (at least as
// strictly as encoding/json: anything it accepts, json accepts).
func (d *fastDecoder) skip(depth int) bool {
	if d.pos >= len(d.data) || depth > 1000 {
		return false
	}
	switch c := d.data[d.pos]; {
	case c == '"':
		_, ok := d.skipStr()
		return ok
	case c == '{':
		d.pos++
		d.ws()
		if d.pos < len(d.data) && d.data[d.pos] == '}' {
			d.pos++
			return true
		}
		for {
			if d.pos >= len(d.data) || d.data[d.pos] != '"' {
				return false
			}
			if _, ok := d.skipStr(); !ok || !d.next(':') {
				return false
			}
			d.ws()
			if !d.skip(depth + 1) {
				return false
			}
			more, ok := d.more('}')
			if !ok {
				return false
			}
			if !more {
				return true
			}
		}
	case c == '[':
		d.pos++
		d.ws()
		if d.pos < len(d.data) && d.data[d.pos] == ']' {
			d.pos++
			return true
		}
		for {
			if !d.skip(depth + 1) {
				return false
			}
			more, ok := d.more(']')
			if !ok {
				return false
			}
			if !more {
				return true
			}
		}
	case c == 't':
		return d.lit("true")
	case c == 'f':
		return d.lit("false")
	case c == 'n':
		return d.lit("null")
	case c == '-' || c >= '0' && c <= '9':
		return d.skipNumber()
	}
	return false
}

// skipStr moves past a string, validating its escapes and refusing
// control characters (json's checkValid does too; invalid UTF-8 it
// accepts, and so does this).
func (d *fastDecoder) skipStr() (int, bool) {
	data := d.data
	for i := d.pos + 1; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			d.pos = i + 1
			return i, true
		case c < 0x20:
			return 0, false
		case c == '\\':
			if i+1 >= len(data) {
				return 0, false
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if _, ok := hex4At(data, i+2); !ok {
					return 0, false
				}
				i += 5
			default:
				return 0, false
			}
		}
	}
	return 0, false
}

func (d *fastDecoder) skipNumber() bool {
	data := d.data
	i := d.pos
	if data[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		return i - j
	}
	if i >= len(data) {
		return false
	}
	if data[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(data) && data[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	d.pos = i
	return true
}
