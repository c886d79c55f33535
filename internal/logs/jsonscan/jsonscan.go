// Package jsonscan extracts values from JSON documents by path in one pass
// over the bytes, without decoding the document: the filter-pattern and
// Logs Insights engines (internal/logs/filter, internal/logs/insights) ask
// it for the few fields a pattern or query names, over millions of log
// events, so it allocates nothing per event and skips what no path needs.
//
// It also validates what it walks: a document that is not well-formed JSON
// (or nests deeper than MaxDepth) is reported as such, so callers treat it
// as "not a JSON event". One leniency, for speed: raw control characters
// inside strings are accepted (strings are skipped with bytes.IndexByte).
// It owns no knowledge of either query language.
package jsonscan

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is the JSON type of a value.
type Kind uint8

// Kinds. Missing means the path is not in the document.
const (
	Missing Kind = iota
	String
	Number
	True
	False
	Null
	Object
	Array
)

func (k Kind) String() string {
	return [...]string{"missing", "string", "number", "true", "false", "null", "object", "array"}[k]
}

// MaxDepth bounds nesting; deeper documents are reported as invalid.
const MaxDepth = 512

// Value is a value found at a path. Raw is its JSON text (a string's
// includes the quotes); it aliases the scanned document.
type Value struct {
	Kind Kind
	Raw  []byte
}

// Scalar reports whether the value is a string, number, boolean or null.
func (v Value) Scalar() bool { return v.Kind >= String && v.Kind <= Null }

// Text returns a string's decoded text, a number's literal text, or
// "true"/"false"/"null"; for objects and arrays their JSON text.
func (v Value) Text() string {
	if v.Kind == String {
		s, _ := Unquote(v.Raw)
		return s
	}
	return string(v.Raw)
}

// AppendText appends what Text returns to dst.
func (v Value) AppendText(dst []byte) []byte {
	if v.Kind == String {
		return AppendUnquote(dst, v.Raw)
	}
	return append(dst, v.Raw...)
}

// Float returns a number's value.
func (v Value) Float() (float64, bool) {
	if v.Kind != Number {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(v.Raw), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// StringBytes returns a string's text without unescaping when it has no
// escapes (the common case), else its decoded text. ok is false for other
// kinds.
func (v Value) StringBytes() (b []byte, ok bool) {
	if v.Kind != String || len(v.Raw) < 2 {
		return nil, false
	}
	inner := v.Raw[1 : len(v.Raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner, true
	}
	return AppendUnquote(nil, v.Raw), true
}

// Step is one step of a path: an object member name, an array index, or
// (Either) a name that also matches the array index it spells, which is
// how Logs Insights names flattened JSON ("items.0.id").
type Step struct {
	Name   string
	Index  int // array index for Index and Either steps
	Select StepKind
}

// StepKind says what a Step selects.
type StepKind uint8

// Step kinds.
const (
	Member StepKind = iota
	Index
	Either
)

// Path is a sequence of steps from the document root.
type Path []Step

// DottedPath returns the path of a Logs Insights style field name: parts
// separated by dots, each a member name, or an array index when it is all
// digits.
func DottedPath(name string) Path {
	var p Path
	for {
		part, rest, more := cut(name, '.')
		st := Step{Name: part, Select: Member}
		if n, ok := smallInt(part); ok {
			st.Index, st.Select = n, Either
		}
		p = append(p, st)
		if !more {
			return p
		}
		name = rest
	}
}

func cut(s string, sep byte) (before, after string, found bool) {
	if i := indexByte(s, sep); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func smallInt(s string) (int, bool) {
	if s == "" || len(s) > 9 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// node is a trie node over paths.
type node struct {
	want    []int // indexes into the output of the paths ending here
	members map[string]*node
	indexes map[int]*node
	// few holds the members when there are at most fewMembers of them
	// (comparing a handful of names beats hashing each key).
	few []member
}

type member struct {
	name string
	node *node
}

const fewMembers = 6

func (n *node) member(key []byte) *node {
	if n.members == nil {
		return nil
	}
	if n.few != nil {
		for i := range n.few {
			if n.few[i].name == string(key) {
				return n.few[i].node
			}
		}
		return nil
	}
	return n.members[string(key)]
}

func (n *node) child(st Step) *node {
	if st.Select == Index {
		if n.indexes == nil {
			n.indexes = map[int]*node{}
		}
		c := n.indexes[st.Index]
		if c == nil {
			c = &node{}
			n.indexes[st.Index] = c
		}
		return c
	}
	if n.members == nil {
		n.members = map[string]*node{}
	}
	c := n.members[st.Name]
	if c == nil {
		c = &node{}
		n.members[st.Name] = c
		n.few = append(n.few, member{st.Name, c})
		if len(n.members) > fewMembers {
			n.few = nil
		}
		if n.few == nil && len(n.members) <= fewMembers {
			for k, v := range n.members {
				n.few = append(n.few, member{k, v})
			}
		}
	}
	return c
}

// expand replaces each Either step by its Member and Index readings (at
// most 2^maxEither variants; further Either steps read as members).
func expand(p Path) []Path {
	const maxEither = 6
	out := []Path{nil}
	seen := 0
	for _, st := range p {
		if st.Select != Either || seen >= maxEither {
			if st.Select == Either {
				st.Select = Member
			}
			for i := range out {
				out[i] = append(out[i], st)
			}
			continue
		}
		seen++
		next := make([]Path, 0, 2*len(out))
		for _, q := range out {
			m := append(append(Path(nil), q...), Step{Name: st.Name, Select: Member})
			x := append(append(Path(nil), q...), Step{Index: st.Index, Select: Index})
			next = append(next, m, x)
		}
		out = next
	}
	return out
}

// Set is a compiled set of paths extracted together. It is immutable and
// safe for concurrent use.
type Set struct {
	root node
	n    int
}

// NewSet compiles paths; Scan fills its output in the same order.
func NewSet(paths []Path) *Set {
	s := &Set{n: len(paths)}
	for i, p := range paths {
		for _, q := range expand(p) {
			n := &s.root
			for _, st := range q {
				n = n.child(st)
			}
			n.want = append(n.want, i)
		}
	}
	return s
}

// Len is the number of paths.
func (s *Set) Len() int { return s.n }

// Scan walks doc once and sets out[i] to the value at path i (Kind Missing
// when absent; the last occurrence wins for duplicate members). out must
// have Len elements. It reports whether doc is one well-formed JSON value
// (with only whitespace around it); on false, out is unspecified.
func (s *Set) Scan(doc []byte, out []Value) bool {
	for i := range out {
		out[i] = Value{}
	}
	sc := scanner{doc: doc, out: out}
	sc.ws()
	if !sc.value(&s.root, 0) {
		return false
	}
	sc.ws()
	return sc.pos == len(doc)
}

// ScanFirst is Scan that stops as soon as every path has a value: the
// first occurrence of a duplicate member wins, and the rest of the
// document is not read (so not validated). It reports false for a
// document that is malformed up to that point. Matching uses it: most
// patterns need a few members near the start of each event.
func (s *Set) ScanFirst(doc []byte, out []Value) bool {
	for i := range out {
		out[i] = Value{}
	}
	sc := scanner{doc: doc, out: out, first: true, left: s.n}
	sc.ws()
	if !sc.value(&s.root, 0) {
		return false
	}
	if sc.left == 0 {
		return true
	}
	sc.ws()
	return sc.pos == len(doc)
}

// Valid reports whether doc is well-formed JSON.
func Valid(doc []byte) bool {
	var s Set
	return s.Scan(doc, nil)
}

type scanner struct {
	doc []byte
	pos int
	out []Value
	// first (ScanFirst): keep first occurrences and stop when left, the
	// paths still without a value, reaches 0.
	first bool
	left  int
}

// isWS marks JSON whitespace.
var isWS = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

func (s *scanner) ws() {
	for s.pos < len(s.doc) && isWS[s.doc[s.pos]] {
		s.pos++
	}
}

// expect consumes c, after optional whitespace (compact documents have
// none, so the first byte is tested before anything else).
func (s *scanner) expect(c byte) bool {
	if s.pos < len(s.doc) && s.doc[s.pos] == c {
		s.pos++
		return true
	}
	s.ws()
	if s.pos < len(s.doc) && s.doc[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

// value scans one value at pos; n (maybe nil) is the trie node for it.
func (s *scanner) value(n *node, depth int) bool {
	if s.pos >= len(s.doc) {
		return false
	}
	start := s.pos
	var kind Kind
	switch c := s.doc[s.pos]; {
	case c == '{':
		if depth >= MaxDepth || !s.object(n, depth) {
			return false
		}
		kind = Object
	case c == '[':
		if depth >= MaxDepth || !s.array(n, depth) {
			return false
		}
		kind = Array
	case c == '"':
		if !s.str() {
			return false
		}
		kind = String
	case c == '-' || (c >= '0' && c <= '9'):
		if !s.number() {
			return false
		}
		kind = Number
	case c == 't':
		if !s.lit("true") {
			return false
		}
		kind = True
	case c == 'f':
		if !s.lit("false") {
			return false
		}
		kind = False
	case c == 'n':
		if !s.lit("null") {
			return false
		}
		kind = Null
	default:
		return false
	}
	if n != nil {
		for _, i := range n.want {
			if s.first {
				if s.out[i].Kind != Missing {
					continue
				}
				s.left--
			}
			s.out[i] = Value{Kind: kind, Raw: s.doc[start:s.pos]}
		}
	}
	return true
}

func (s *scanner) lit(w string) bool {
	if len(s.doc)-s.pos < len(w) || string(s.doc[s.pos:s.pos+len(w)]) != w {
		return false
	}
	s.pos += len(w)
	return true
}

// str scans a string starting at the opening quote.
func (s *scanner) str() bool {
	_, ok := s.strEsc()
	return ok
}

// SWAR constants: a byte equal to c in x is a zero byte of x^(c*lsb).
const (
	lsb    = 0x0101010101010101
	msb    = 0x8080808080808080
	quote  = '"' * lsb
	bslash = '\\' * lsb
)

// stopBits has the high bit set in each byte of the 8 bytes at d[i:]
// that is a quote or a backslash, exactly for the first such byte (bits
// after it may be set spuriously by the borrow, which callers ignore).
func stopBits(d []byte, i int) uint64 {
	x := binary.LittleEndian.Uint64(d[i:])
	q, b := x^quote, x^bslash
	return ((q-lsb)&^q | (b-lsb)&^b) & msb
}

// strEsc scans a string starting at the opening quote; esc reports
// whether it holds an escape. Eight bytes are tested at a time for the
// quote or backslash that ends a plain run.
func (s *scanner) strEsc() (esc, ok bool) {
	d := s.doc
	i := s.pos + 1 // past the opening quote
	for {
		for i+8 <= len(d) {
			if m := stopBits(d, i); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto stop
			}
			i += 8
		}
		for i < len(d) && d[i] != '"' && d[i] != '\\' {
			i++
		}
		if i >= len(d) {
			return esc, false
		}
	stop:
		if d[i] == '"' {
			s.pos = i + 1
			return esc, true
		}
		// An escape: validate it and continue after it.
		esc = true
		i++
		if i >= len(d) {
			return esc, false
		}
		switch d[i] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i++
		case 'u':
			if len(d)-i < 5 || !isHex4(d[i+1:i+5]) {
				return esc, false
			}
			i += 5
		default:
			return esc, false
		}
	}
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func (s *scanner) number() bool {
	d := s.doc
	i := s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	if i >= len(d) {
		return false
	}
	if d[i] == '0' {
		i++
	} else if d[i] >= '1' && d[i] <= '9' {
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(d) && d[i] == '.' {
		i++
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	s.pos = i
	return true
}

func (s *scanner) object(n *node, depth int) bool {
	s.pos++ // {
	s.ws()
	if s.pos < len(s.doc) && s.doc[s.pos] == '}' {
		s.pos++
		return true
	}
	for {
		if s.pos >= len(s.doc) || s.doc[s.pos] != '"' {
			return false
		}
		kstart := s.pos
		esc, ok := s.strEsc()
		if !ok {
			return false
		}
		var child *node
		if n != nil && n.members != nil {
			key := s.doc[kstart+1 : s.pos-1]
			if esc {
				key = AppendUnquote(nil, s.doc[kstart:s.pos])
			}
			child = n.member(key)
		}
		if !s.expect(':') {
			return false
		}
		if s.pos < len(s.doc) && isWS[s.doc[s.pos]] {
			s.ws()
		}
		if !s.value(child, depth+1) {
			return false
		}
		if s.first && s.left == 0 {
			return true
		}
		if s.pos < len(s.doc) && isWS[s.doc[s.pos]] {
			s.ws()
		}
		if s.pos >= len(s.doc) {
			return false
		}
		switch s.doc[s.pos] {
		case ',':
			s.pos++
			if s.pos < len(s.doc) && isWS[s.doc[s.pos]] {
				s.ws()
			}
		case '}':
			s.pos++
			return true
		default:
			return false
		}
	}
}

func (s *scanner) array(n *node, depth int) bool {
	s.pos++ // [
	s.ws()
	if s.pos < len(s.doc) && s.doc[s.pos] == ']' {
		s.pos++
		return true
	}
	for i := 0; ; i++ {
		var child *node
		if n != nil && n.indexes != nil {
			child = n.indexes[i]
		}
		if !s.value(child, depth+1) {
			return false
		}
		if s.first && s.left == 0 {
			return true
		}
		s.ws()
		if s.pos >= len(s.doc) {
			return false
		}
		switch s.doc[s.pos] {
		case ',':
			s.pos++
			s.ws()
		case ']':
			s.pos++
			return true
		default:
			return false
		}
	}
}

// Unquote decodes a JSON string literal (with its quotes). ok is false for
// a malformed literal; the decoded prefix is still returned.
func Unquote(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), true
	}
	return string(AppendUnquote(nil, raw)), true
}

// AppendUnquote appends the decoded text of a JSON string literal (with its
// quotes) to dst. Invalid escapes are copied through; lone surrogates
// become U+FFFD.
func AppendUnquote(dst, raw []byte) []byte {
	if len(raw) < 2 {
		return dst
	}
	s := raw[1 : len(raw)-1]
	for i := 0; i < len(s); {
		// Copy up to the next escape in one go.
		j := bytes.IndexByte(s[i:], '\\')
		if j < 0 {
			return append(dst, s[i:]...)
		}
		dst = append(dst, s[i:i+j]...)
		i += j
		if i+1 >= len(s) {
			dst = append(dst, s[i])
			i++
			continue
		}
		switch e := s[i+1]; e {
		case '"', '\\', '/':
			dst = append(dst, e)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			if i+6 > len(s) || !isHex4(s[i+2:i+6]) {
				dst = append(dst, s[i:i+2]...)
				i += 2
				continue
			}
			r := rune(hex4(s[i+2 : i+6]))
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' && isHex4(s[i+2:i+6]) {
					r2 := rune(hex4(s[i+2 : i+6]))
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						dst = utf8.AppendRune(dst, d)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default:
			dst = append(dst, s[i:i+2]...)
		}
		i += 2
	}
	return dst
}

func hex4(b []byte) int {
	n := 0
	for _, c := range b[:4] {
		n <<= 4
		switch {
		case c >= '0' && c <= '9':
			n |= int(c - '0')
		case c >= 'a' && c <= 'f':
			n |= int(c-'a') + 10
		default:
			n |= int(c-'A') + 10
		}
	}
	return n
}

// Flatten calls fn for every scalar value of doc with its Logs Insights
// field name: member names joined by dots, array elements by their index
// ("alternativeIntents.0.name"). Objects and arrays themselves are not
// reported; empty ones are skipped. It stops early when fn returns false
// and reports whether doc is a well-formed JSON object.
func Flatten(doc []byte, fn func(name []byte, v Value) bool) bool {
	f := flattener{scanner: scanner{doc: doc}, fn: fn}
	f.ws()
	if f.pos >= len(doc) || doc[f.pos] != '{' {
		return false
	}
	ok := f.fvalue(0)
	if f.stopped {
		return true
	}
	f.ws()
	return ok && f.pos == len(doc)
}

type flattener struct {
	scanner
	name    []byte
	fn      func(name []byte, v Value) bool
	stopped bool
}

func (f *flattener) fvalue(depth int) bool {
	if f.stopped {
		return true
	}
	if f.pos >= len(f.doc) {
		return false
	}
	switch f.doc[f.pos] {
	case '{':
		if depth >= MaxDepth {
			return false
		}
		f.pos++
		f.ws()
		if f.pos < len(f.doc) && f.doc[f.pos] == '}' {
			f.pos++
			return true
		}
		for !f.stopped {
			if f.pos >= len(f.doc) || f.doc[f.pos] != '"' {
				return false
			}
			ks := f.pos
			if !f.str() {
				return false
			}
			mark := len(f.name)
			if mark > 0 {
				f.name = append(f.name, '.')
			}
			f.name = AppendUnquote(f.name, f.doc[ks:f.pos])
			f.ws()
			if f.pos >= len(f.doc) || f.doc[f.pos] != ':' {
				return false
			}
			f.pos++
			f.ws()
			if !f.fvalue(depth + 1) {
				return false
			}
			f.name = f.name[:mark]
			if f.stopped {
				return true
			}
			f.ws()
			if f.pos >= len(f.doc) {
				return false
			}
			switch f.doc[f.pos] {
			case ',':
				f.pos++
				f.ws()
			case '}':
				f.pos++
				return true
			default:
				return false
			}
		}
		return true
	case '[':
		if depth >= MaxDepth {
			return false
		}
		f.pos++
		f.ws()
		if f.pos < len(f.doc) && f.doc[f.pos] == ']' {
			f.pos++
			return true
		}
		for i := 0; !f.stopped; i++ {
			mark := len(f.name)
			if mark > 0 {
				f.name = append(f.name, '.')
			}
			f.name = strconv.AppendInt(f.name, int64(i), 10)
			if !f.fvalue(depth + 1) {
				return false
			}
			f.name = f.name[:mark]
			if f.stopped {
				return true
			}
			f.ws()
			if f.pos >= len(f.doc) {
				return false
			}
			switch f.doc[f.pos] {
			case ',':
				f.pos++
				f.ws()
			case ']':
				f.pos++
				return true
			default:
				return false
			}
		}
		return true
	default:
		start := f.pos
		if !f.value(nil, depth) {
			return false
		}
		v := Value{Raw: f.doc[start:f.pos]}
		switch f.doc[start] {
		case '"':
			v.Kind = String
		case 't':
			v.Kind = True
		case 'f':
			v.Kind = False
		case 'n':
			v.Kind = Null
		default:
			v.Kind = Number
		}
		if !f.fn(f.name, v) {
			f.stopped = true
		}
		return true
	}
}
