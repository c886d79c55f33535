// Package filter is the CloudWatch Logs filter-pattern language used by
// FilterLogEvents (and `lextrail logs tail --filter`): it parses a pattern
// once and matches raw log-event messages against it.
//
// Supported forms (AWS "Filter pattern syntax"):
//
//   - "" or an empty pattern: every event matches.
//   - Terms: `ERROR Exception` — every term must occur in the message
//     (case-sensitive substring). Terms with characters other than letters,
//     digits and underscore must be quoted: `"Failed to process"` is one
//     phrase. `-term` excludes events containing it; `?term` terms are
//     alternatives of which at least one must occur.
//   - JSON: `{ $.botName = "X" && $.missedUtterance IS TRUE }` with
//     selectors `$.a.b`, `$.a[0]`, operators = != < > <= >=, IS TRUE / IS
//     FALSE / IS NULL, EXISTS, NOT EXISTS, && and || (&& binds tighter),
//     parentheses, strings quoted or bare with a `*` wildcard at either
//     end, numbers, and `= *` (any scalar value).
//   - A regular expression between percent signs: `%ERROR [0-9]{3}%`.
//
// Space-delimited patterns (`[ip, user, ...]`) are refused with a
// SyntaxError saying so. The package knows nothing about storage; it
// exposes Hint so that a store can skip blocks that cannot match.
package filter

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"lextrail/internal/logs/jsonscan"
)

// MaxLength is the longest pattern FilterLogEvents accepts.
const MaxLength = 1024

// SyntaxError is a pattern that cannot be parsed.
type SyntaxError struct {
	Offset int // byte offset in the pattern
	Msg    string
}

func (e *SyntaxError) Error() string { return e.Msg }

// Pattern is a compiled filter pattern. It is immutable and safe for
// concurrent use.
type Pattern struct {
	src string
	all bool // matches everything

	// term patterns
	must, any, not [][]byte

	// regex pattern
	re *regexp.Regexp

	// JSON patterns
	expr  *expr
	paths *jsonscan.Set
	hint  *Hint
}

// String returns the pattern's source text.
func (p *Pattern) String() string { return p.src }

// MatchesAll reports whether every message matches (an empty pattern).
func (p *Pattern) MatchesAll() bool { return p.all }

// IsJSON reports whether p is a JSON pattern.
func (p *Pattern) IsJSON() bool { return p.expr != nil }

// NewMatcher returns a per-goroutine matcher (JSON patterns need scratch
// space for the values they extract).
func (p *Pattern) NewMatcher() *Matcher {
	m := &Matcher{p: p}
	if p.paths != nil {
		m.vals = make([]jsonscan.Value, p.paths.Len())
	}
	return m
}

// Match reports whether msg matches. It allocates for JSON patterns; hot
// loops use a Matcher.
func (p *Pattern) Match(msg []byte) bool { return p.NewMatcher().Match(msg) }

// Matcher matches messages against one pattern. It is not safe for
// concurrent use.
type Matcher struct {
	p    *Pattern
	vals []jsonscan.Value
	msg  []byte
	has  func(*Hint) bool

	// The hint's literal checks pay only when they rule most messages
	// out (a selective value such as a bot name); when they rule out few
	// (a member name every event has), checking them costs more than the
	// JSON scan it saves. A matcher samples hintSample messages, and if
	// the hint rejected fewer than a third of them, matches the next
	// hintPause messages without it, then samples again. The result of
	// Match never depends on it: the hint is a necessary condition.
	hintTried, hintRejected, hintSkip int
}

const (
	hintSample = 256
	hintPause  = 4096
)

// Match reports whether msg matches the pattern.
func (m *Matcher) Match(msg []byte) bool { return m.match(msg, false) }

// MatchUnescaped is Match for a message known to hide no ASCII word
// character behind a \u00XX escape (a store that checked its data once),
// which lets JSON patterns reject on raw bytes without looking for escapes.
func (m *Matcher) MatchUnescaped(msg []byte) bool { return m.match(msg, true) }

func (m *Matcher) match(msg []byte, unescaped bool) bool {
	p := m.p
	switch {
	case p.all:
		return true
	case p.re != nil:
		return p.re.Match(msg)
	case p.expr != nil:
		// Cheap rejection first: literals every match must contain.
		if p.hint != nil && m.rejectByHint(msg, unescaped) {
			return false
		}
		i := firstNonSpace(msg)
		if i < 0 || (msg[i] != '{' && msg[i] != '[') {
			return false
		}
		// Stop reading at the last member the pattern needs.
		if !p.paths.ScanFirst(msg, m.vals) {
			return false
		}
		return p.expr.eval(m.vals)
	}
	for _, t := range p.must {
		if !bytes.Contains(msg, t) {
			return false
		}
	}
	for _, t := range p.not {
		if bytes.Contains(msg, t) {
			return false
		}
	}
	if len(p.any) == 0 {
		return true
	}
	for _, t := range p.any {
		if bytes.Contains(msg, t) {
			return true
		}
	}
	return false
}

// rejectByHint reports whether the hint rules msg out (when the hint is
// being checked at all; see Matcher).
func (m *Matcher) rejectByHint(msg []byte, unescaped bool) bool {
	if m.hintSkip > 0 {
		m.hintSkip--
		return false
	}
	reject := !m.p.hint.MayMatchHint(m.contains(msg), true) && (unescaped || !hasAlnumEscape(msg))
	m.hintTried++
	if reject {
		m.hintRejected++
	}
	if m.hintTried == hintSample {
		if m.hintRejected*3 < hintSample {
			m.hintSkip = hintPause
		}
		m.hintTried, m.hintRejected = 0, 0
	}
	return reject
}

// contains returns the literal check for msg (one closure per Matcher).
func (m *Matcher) contains(msg []byte) func(*Hint) bool {
	m.msg = msg
	if m.has == nil {
		m.has = func(h *Hint) bool {
			if h.value != nil {
				return followedBy(m.msg, h.Lit, h.anchor, h.value)
			}
			return containsAt(m.msg, h.Lit, h.anchor)
		}
	}
	return m.has
}

func firstNonSpace(b []byte) int {
	for i, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return i
		}
	}
	return -1
}

// hasAlnumEscape reports whether msg may hide an ASCII letter, digit or
// underscore behind a \u escape, in which case JSON hints (which are ASCII
// words) cannot be checked on its raw bytes. Encoders escape only control,
// HTML and non-ASCII characters, so this is rare.
func hasAlnumEscape(msg []byte) bool {
	for {
		i := bytes.Index(msg, []byte(`\u00`))
		if i < 0 {
			return false
		}
		msg = msg[i+4:]
		if len(msg) >= 2 {
			c := unhex(msg[0])<<4 | unhex(msg[1])
			if c < 0x80 && isWordByte(byte(c)) {
				return true
			}
		}
	}
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return 0
}

// isWordByte is a byte that can be part of an unquoted term: letters,
// digits, underscore, and the bytes of non-ASCII characters.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80
}

// Parse compiles a filter pattern.
func Parse(src string) (*Pattern, error) {
	p, err := parse(src)
	if err != nil {
		return nil, err
	}
	p.hint.setAnchors()
	return p, nil
}

func parse(src string) (*Pattern, error) {
	if len(src) > MaxLength {
		return nil, &SyntaxError{0, fmt.Sprintf("The filter pattern is longer than %d characters.", MaxLength)}
	}
	p := &Pattern{src: src}
	s := strings.TrimSpace(src)
	switch {
	case s == "" || s == `""`:
		p.all = true
		return p, nil
	case s[0] == '{':
		return p, p.parseJSON(src)
	case s[0] == '[':
		return nil, &SyntaxError{strings.IndexByte(src, '['), "Space-delimited filter patterns ([field, ...]) are not supported by lextrail; use terms or a JSON pattern."}
	case len(s) >= 2 && s[0] == '%' && s[len(s)-1] == '%':
		re, err := regexp.Compile(s[1 : len(s)-1])
		if err != nil {
			return nil, &SyntaxError{strings.IndexByte(src, '%'), "Invalid regular expression in filter pattern: " + err.Error()}
		}
		p.re = re
		if lit, _ := re.LiteralPrefix(); lit != "" {
			p.hint = &Hint{Lit: []byte(lit)}
		}
		return p, nil
	}
	return p, p.parseTerms(src)
}

// parseTerms parses a term pattern.
func (p *Pattern) parseTerms(src string) error {
	i := 0
	for {
		for i < len(src) && isSpace(src[i]) {
			i++
		}
		if i >= len(src) {
			break
		}
		start := i
		var list *[][]byte
		switch src[i] {
		case '-':
			list = &p.not
			i++
		case '?':
			list = &p.any
			i++
		default:
			list = &p.must
		}
		if i >= len(src) || isSpace(src[i]) {
			return &SyntaxError{start, fmt.Sprintf("Invalid filter pattern: %q must be followed by a term.", src[start])}
		}
		var term string
		if src[i] == '"' {
			t, n, err := quoted(src, i)
			if err != nil {
				return err
			}
			term, i = t, n
			if i < len(src) && !isSpace(src[i]) {
				return &SyntaxError{i, "Invalid filter pattern: a quoted term must be followed by a space."}
			}
		} else {
			j := i
			for j < len(src) && !isSpace(src[j]) {
				if !isWordByte(src[j]) {
					return &SyntaxError{j, fmt.Sprintf("Invalid character(s) in term '%s': quote terms that contain characters other than letters, digits and underscore.", termAt(src, i))}
				}
				j++
			}
			term, i = src[i:j], j
		}
		if term == "" {
			// An empty quoted term matches every message.
			if list == &p.not {
				// ...so excluding it excludes everything.
				*list = append(*list, []byte{})
			}
			continue
		}
		*list = append(*list, []byte(term))
	}
	if len(p.must) == 0 && len(p.any) == 0 && len(p.not) == 0 {
		p.all = true
		return nil
	}
	// The hint: every required term; one of the alternatives.
	h := &Hint{And: true}
	for _, t := range p.must {
		h.Kids = append(h.Kids, &Hint{Lit: t})
	}
	if len(p.any) > 0 {
		alt := &Hint{}
		for _, t := range p.any {
			alt.Kids = append(alt.Kids, &Hint{Lit: t})
		}
		h.Kids = append(h.Kids, alt)
	}
	if len(h.Kids) > 0 {
		p.hint = h
	}
	return nil
}

func termAt(src string, i int) string {
	j := i
	for j < len(src) && !isSpace(src[j]) {
		j++
	}
	return src[i:j]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// quoted reads a double-quoted string at src[i] (\" and \\ escape), and
// returns its text and the offset after the closing quote.
func quoted(src string, i int) (string, int, error) {
	var b strings.Builder
	for j := i + 1; j < len(src); j++ {
		switch c := src[j]; c {
		case '\\':
			if j+1 < len(src) && (src[j+1] == '"' || src[j+1] == '\\') {
				b.WriteByte(src[j+1])
				j++
				continue
			}
			b.WriteByte(c)
		case '"':
			return b.String(), j + 1, nil
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, &SyntaxError{i, "Invalid filter pattern: unterminated quoted string."}
}

// Hint is a condition on literal byte strings that every message matching
// a pattern satisfies: a literal that must occur (Lit), all of Kids (And)
// or one of Kids (an Or). Stores use it to skip data that cannot match.
type Hint struct {
	Lit  []byte
	JSON bool // Lit comes from a JSON pattern: checkable only on JSON text without \u-escaped word characters
	// Whole says Lit occurs between non-word bytes (a whole JSON string
	// value, member name or literal), so its first and last word runs are
	// whole tokens of the message too, not only its inner ones.
	Whole bool
	And   bool
	Kids  []*Hint

	anchor int // index of Lit's rarest byte (set by Parse)
	// value, for a member-name literal, is what must follow the name
	// (after a colon) in some place of a matching message; nil when
	// nothing is known. Stores checking literals in a summary (a Bloom
	// filter) ignore it.
	value *valueCheck
}

// Hint returns the pattern's hint, or nil when it gives no information.
func (p *Pattern) Hint() *Hint { return p.hint }

// MayMatch evaluates the hint with has reporting whether a literal may
// occur; jsonOK says whether JSON literals may be checked at all. It
// answers false only when no matching message can be in the data has
// describes.
func (h *Hint) MayMatch(has func(lit []byte, json bool) bool, jsonOK bool) bool {
	return h.MayMatchHint(func(k *Hint) bool { return has(k.Lit, k.JSON) }, jsonOK)
}

// MayMatchHint is MayMatch with has given the whole literal hint (for
// checks that use Whole).
func (h *Hint) MayMatchHint(has func(lit *Hint) bool, jsonOK bool) bool {
	if h == nil {
		return true
	}
	if h.Kids == nil {
		if h.JSON && !jsonOK {
			return true
		}
		return has(h)
	}
	if h.And {
		for _, k := range h.Kids {
			if !k.MayMatchHint(has, jsonOK) {
				return false
			}
		}
		return true
	}
	for _, k := range h.Kids {
		if k.MayMatchHint(has, jsonOK) {
			return true
		}
	}
	return false
}

// ---- JSON patterns ----

type op uint8

const (
	opEq op = iota
	opNe
	opLt
	opGt
	opLe
	opGe
	opIsTrue
	opIsFalse
	opIsNull
	opExists
	opNotExists
	opAnd
	opOr
)

type expr struct {
	op    op
	l, r  *expr // opAnd, opOr
	path  int   // index into the pattern's paths
	sel   string
	str   string // string operand, without its leading/trailing '*'
	pre   bool   // a leading '*': any text before str
	post  bool   // a trailing '*': any text after str
	num   float64
	isNum bool // operand is a number (numeric comparison)
	any   bool // "= *"
}

func (e *expr) eval(vals []jsonscan.Value) bool {
	switch e.op {
	case opAnd:
		return e.l.eval(vals) && e.r.eval(vals)
	case opOr:
		return e.l.eval(vals) || e.r.eval(vals)
	}
	v := vals[e.path]
	switch e.op {
	case opExists:
		return v.Kind != jsonscan.Missing
	case opNotExists:
		return v.Kind == jsonscan.Missing
	case opIsTrue:
		return v.Kind == jsonscan.True
	case opIsFalse:
		return v.Kind == jsonscan.False
	case opIsNull:
		return v.Kind == jsonscan.Null
	}
	// Comparisons apply to value nodes only: a missing member, an object
	// or an array never matches (neither = nor !=).
	if !v.Scalar() {
		return false
	}
	if e.any {
		return e.op == opEq
	}
	if e.isNum {
		f, ok := v.Float()
		if !ok {
			if e.op == opEq || e.op == opNe {
				// A number compared with a string value: textual.
				s, sok := v.StringBytes()
				if !sok {
					return e.op == opNe // true, false, null
				}
				eq := string(s) == e.str
				return eq == (e.op == opEq)
			}
			return false
		}
		switch e.op {
		case opEq:
			return f == e.num
		case opNe:
			return f != e.num
		case opLt:
			return f < e.num
		case opGt:
			return f > e.num
		case opLe:
			return f <= e.num
		case opGe:
			return f >= e.num
		}
		return false
	}
	var text []byte
	switch v.Kind {
	case jsonscan.String:
		text, _ = v.StringBytes()
	case jsonscan.Number, jsonscan.True, jsonscan.False:
		text = v.Raw
	default: // null
		return e.op == opNe
	}
	var eq bool
	switch {
	case e.pre && e.post:
		eq = bytes.Contains(text, []byte(e.str))
	case e.pre:
		eq = bytes.HasSuffix(text, []byte(e.str))
	case e.post:
		eq = bytes.HasPrefix(text, []byte(e.str))
	default:
		eq = string(text) == e.str
	}
	return eq == (e.op == opEq)
}

type jsonParser struct {
	src   string
	pos   int
	paths []jsonscan.Path
	index map[string]int
}

func (p *Pattern) parseJSON(src string) error {
	jp := &jsonParser{src: src, index: map[string]int{}}
	jp.ws()
	jp.pos++ // {
	e, err := jp.or()
	if err != nil {
		return err
	}
	jp.ws()
	if jp.pos >= len(src) || src[jp.pos] != '}' {
		return jp.errorf("Invalid JSON filter pattern: expected '}'.")
	}
	jp.pos++
	jp.ws()
	if jp.pos != len(src) {
		return jp.errorf("Invalid JSON filter pattern: unexpected text after '}'.")
	}
	p.expr = e
	p.paths = jsonscan.NewSet(jp.paths)
	p.hint = e.hint()
	return nil
}

func (jp *jsonParser) errorf(format string, args ...any) error {
	return &SyntaxError{jp.pos, fmt.Sprintf(format, args...)}
}

func (jp *jsonParser) ws() {
	for jp.pos < len(jp.src) && isSpace(jp.src[jp.pos]) {
		jp.pos++
	}
}

func (jp *jsonParser) peek(s string) bool {
	jp.ws()
	return strings.HasPrefix(jp.src[jp.pos:], s)
}

func (jp *jsonParser) or() (*expr, error) {
	l, err := jp.and()
	if err != nil {
		return nil, err
	}
	for jp.peek("||") {
		jp.pos += 2
		r, err := jp.and()
		if err != nil {
			return nil, err
		}
		l = &expr{op: opOr, l: l, r: r}
	}
	return l, nil
}

func (jp *jsonParser) and() (*expr, error) {
	l, err := jp.unary()
	if err != nil {
		return nil, err
	}
	for jp.peek("&&") {
		jp.pos += 2
		r, err := jp.unary()
		if err != nil {
			return nil, err
		}
		l = &expr{op: opAnd, l: l, r: r}
	}
	return l, nil
}

func (jp *jsonParser) unary() (*expr, error) {
	if jp.peek("(") {
		jp.pos++
		e, err := jp.or()
		if err != nil {
			return nil, err
		}
		if !jp.peek(")") {
			return nil, jp.errorf("Invalid JSON filter pattern: expected ')'.")
		}
		jp.pos++
		return e, nil
	}
	return jp.cond()
}

// selector parses $.a.b[0] and returns its path index.
func (jp *jsonParser) selector() (int, string, error) {
	jp.ws()
	start := jp.pos
	if jp.pos >= len(jp.src) || jp.src[jp.pos] != '$' {
		return 0, "", jp.errorf("Invalid JSON filter pattern: expected a selector starting with '$.' at offset %d.", jp.pos)
	}
	jp.pos++
	var path jsonscan.Path
	for jp.pos < len(jp.src) {
		c := jp.src[jp.pos]
		if c == '.' {
			jp.pos++
			j := jp.pos
			for jp.pos < len(jp.src) && (isWordByte(jp.src[jp.pos]) || jp.src[jp.pos] == '-') {
				jp.pos++
			}
			if j == jp.pos {
				return 0, "", jp.errorf("Invalid JSON filter pattern: expected a property name after '.' at offset %d.", j)
			}
			path = append(path, jsonscan.Step{Name: jp.src[j:jp.pos]})
			continue
		}
		if c == '[' {
			if len(path) == 0 {
				return 0, "", jp.errorf("Invalid JSON filter pattern: an array index must follow a property.")
			}
			jp.pos++
			j := jp.pos
			for jp.pos < len(jp.src) && jp.src[jp.pos] >= '0' && jp.src[jp.pos] <= '9' {
				jp.pos++
			}
			if j == jp.pos || jp.pos >= len(jp.src) || jp.src[jp.pos] != ']' || jp.pos-j > 9 {
				return 0, "", jp.errorf("Invalid JSON filter pattern: expected [NUMBER] at offset %d.", j-1)
			}
			n, _ := strconv.Atoi(jp.src[j:jp.pos])
			jp.pos++
			path = append(path, jsonscan.Step{Index: n, Select: jsonscan.Index})
			continue
		}
		break
	}
	if len(path) == 0 {
		return 0, "", jp.errorf("Invalid JSON filter pattern: a selector must name a property ($.name).")
	}
	sel := jp.src[start:jp.pos]
	if i, ok := jp.index[sel]; ok {
		return i, sel, nil
	}
	jp.index[sel] = len(jp.paths)
	jp.paths = append(jp.paths, path)
	return len(jp.paths) - 1, sel, nil
}

func (jp *jsonParser) keyword(words ...string) bool {
	jp.ws()
	save := jp.pos
	for _, w := range words {
		jp.ws()
		if len(jp.src)-jp.pos < len(w) || !strings.EqualFold(jp.src[jp.pos:jp.pos+len(w)], w) {
			jp.pos = save
			return false
		}
		end := jp.pos + len(w)
		if end < len(jp.src) && isWordByte(jp.src[end]) {
			jp.pos = save
			return false
		}
		jp.pos = end
	}
	return true
}

func (jp *jsonParser) cond() (*expr, error) {
	path, sel, err := jp.selector()
	if err != nil {
		return nil, err
	}
	e := &expr{path: path, sel: sel}
	switch {
	case jp.keyword("IS", "TRUE"):
		e.op = opIsTrue
		return e, nil
	case jp.keyword("IS", "FALSE"):
		e.op = opIsFalse
		return e, nil
	case jp.keyword("IS", "NULL"):
		e.op = opIsNull
		return e, nil
	case jp.keyword("NOT", "EXISTS"):
		e.op = opNotExists
		return e, nil
	case jp.keyword("EXISTS"):
		e.op = opExists
		return e, nil
	}
	jp.ws()
	rest := jp.src[jp.pos:]
	switch {
	case strings.HasPrefix(rest, "!="):
		e.op, jp.pos = opNe, jp.pos+2
	case strings.HasPrefix(rest, "<="):
		e.op, jp.pos = opLe, jp.pos+2
	case strings.HasPrefix(rest, ">="):
		e.op, jp.pos = opGe, jp.pos+2
	case strings.HasPrefix(rest, "="):
		e.op, jp.pos = opEq, jp.pos+1
	case strings.HasPrefix(rest, "<"):
		e.op, jp.pos = opLt, jp.pos+1
	case strings.HasPrefix(rest, ">"):
		e.op, jp.pos = opGt, jp.pos+1
	default:
		return nil, jp.errorf("Invalid JSON filter pattern: expected an operator (=, !=, <, >, <=, >=, IS, EXISTS, NOT EXISTS) after %s.", sel)
	}
	jp.ws()
	if jp.pos >= len(jp.src) {
		return nil, jp.errorf("Invalid JSON filter pattern: expected a value after the operator.")
	}
	valStart := jp.pos
	var text string
	quotedVal := false
	if jp.src[jp.pos] == '"' {
		t, n, err := quoted(jp.src, jp.pos)
		if err != nil {
			return nil, err
		}
		text, jp.pos, quotedVal = t, n, true
	} else {
		j := jp.pos
		for jp.pos < len(jp.src) {
			c := jp.src[jp.pos]
			if isSpace(c) || c == ')' || c == '}' || c == '&' || c == '|' {
				break
			}
			jp.pos++
		}
		text = jp.src[j:jp.pos]
		if text == "" {
			return nil, jp.errorf("Invalid JSON filter pattern: expected a value after the operator.")
		}
	}
	if !quotedVal {
		if f, err := strconv.ParseFloat(strings.TrimPrefix(text, "+"), 64); err == nil && isNumberText(text) {
			e.num, e.isNum, e.str = f, true, text
			return e, nil
		}
	}
	if e.op != opEq && e.op != opNe {
		return nil, &SyntaxError{valStart, fmt.Sprintf("Invalid JSON filter pattern: %s needs a number, not %q.", opName(e.op), text)}
	}
	if text == "*" && !quotedVal {
		e.any = true
		return e, nil
	}
	// A '*' at either end is a wildcard; inside, it is itself (AWS:
	// "Ev*ent will only match the actual string Ev*ent").
	e.str = text
	if strings.HasPrefix(e.str, "*") {
		e.pre, e.str = true, e.str[1:]
	}
	if strings.HasSuffix(e.str, "*") {
		e.post, e.str = true, e.str[:len(e.str)-1]
	}
	return e, nil
}

func isNumberText(s string) bool {
	s = strings.TrimLeft(s, "+-")
	if s == "" || !(s[0] >= '0' && s[0] <= '9' || s[0] == '.') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return false
		}
	}
	return true
}

func opName(o op) string {
	return [...]string{"=", "!=", "<", ">", "<=", ">="}[o]
}

// hint returns what a matching message must contain.
func (e *expr) hint() *Hint {
	switch e.op {
	case opAnd, opOr:
		l, r := e.l.hint(), e.r.hint()
		if e.op == opOr && (l == nil || r == nil) {
			return nil
		}
		var kids []*Hint
		for _, k := range []*Hint{l, r} {
			if k != nil {
				kids = append(kids, k)
			}
		}
		if len(kids) == 0 {
			return nil
		}
		return &Hint{And: e.op == opAnd, Kids: kids}
	case opNotExists:
		return nil
	}
	// Literal values occur in the document, and so does the member's
	// name. Values come first: they are what usually rules a message out.
	h := &Hint{And: true}
	switch e.op {
	case opIsTrue:
		h.Kids = append(h.Kids, &Hint{Lit: []byte("true"), JSON: true, Whole: true})
	case opIsFalse:
		h.Kids = append(h.Kids, &Hint{Lit: []byte("false"), JSON: true, Whole: true})
	case opIsNull:
		h.Kids = append(h.Kids, &Hint{Lit: []byte("null"), JSON: true, Whole: true})
	case opEq:
		if !e.isNum && !e.any {
			for _, r := range wordRunSpans(e.str) {
				// A run is a whole token of the message when what bounds
				// it in the value is not a word byte, or is the quote
				// around the value (no wildcard on that side).
				a, b := r[0], r[1]
				whole := (a == 0 && !e.pre || a > 0 && !isWordByte(e.str[a-1])) && (b == len(e.str) && !e.post || b < len(e.str) && !isWordByte(e.str[b]))
				h.Kids = append(h.Kids, &Hint{Lit: []byte(e.str[a:b]), JSON: true, Whole: whole})
			}
		}
	}
	names := selectorNames(e.sel)
	last := lastMemberName(e.sel)
	for _, n := range names {
		k := &Hint{Lit: []byte(`"` + n + `"`), JSON: true, Whole: true}
		if n == last {
			// The member is the selector's last step: in a message
			// that matches, its name is followed by a colon and a value
			// the comparison holds for (see valueCheck).
			k.value = e.valueCheck()
		}
		h.Kids = append(h.Kids, k)
	}
	return h
}

// lastMemberName is the selector's last step when it is a plain member
// name ($.a.b → b; $.a[0] → "").
func lastMemberName(sel string) string {
	parts := strings.Split(strings.TrimPrefix(sel, "$."), ".")
	n := parts[len(parts)-1]
	if n == "" || strings.IndexByte(n, '[') >= 0 {
		return ""
	}
	for i := 0; i < len(n); i++ {
		if !isWordByte(n[i]) || n[i] >= 0x80 {
			return ""
		}
	}
	return n
}

// selectorNames are the plain property names of a selector ($.a.b[0] →
// a, b): they occur quoted in any document where the selector resolves.
func selectorNames(sel string) []string {
	var out []string
	for _, part := range strings.Split(strings.TrimPrefix(sel, "$."), ".") {
		if i := strings.IndexByte(part, '['); i >= 0 {
			part = part[:i]
		}
		ok := part != ""
		for i := 0; i < len(part); i++ {
			if !isWordByte(part[i]) || part[i] >= 0x80 {
				ok = false // '-' or non-ASCII: may be escaped in the document
			}
		}
		if ok {
			out = append(out, part)
		}
	}
	return out
}

// wordRunSpans returns the [start, end) of the maximal runs of ASCII
// letters, digits and underscores in s: they occur verbatim in a JSON
// string whose decoded value contains s (only \u escapes could hide them).
func wordRunSpans(s string) [][2]int {
	var out [][2]int
	j := -1
	for i := 0; i <= len(s); i++ {
		w := i < len(s) && isWordByte(s[i]) && s[i] < 0x80
		if w && j < 0 {
			j = i
		}
		if !w && j >= 0 {
			out = append(out, [2]int{j, i})
			j = -1
		}
	}
	return out
}
