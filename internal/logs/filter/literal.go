package filter

import (
	"bytes"
	"math"
	"strconv"
)

// Finding a hint's literal in a message is most of the cost of ruling
// messages out. bytes.Index looks for the literal's first byte, which in
// JSON text is often as common as it gets (the quote of a member name,
// the 't' of true); containsAt looks for the literal's rarest byte
// instead (by a fixed ranking of how common bytes are in JSON and English
// text, as memchr-style searches do) and compares the literal around each
// hit.

// byteRank is how common a byte is in log text: higher is more common.
var byteRank = func() (r [256]uint8) {
	for c := range r {
		switch {
		case c >= 0x80:
			r[c] = 40
		case c >= 'A' && c <= 'Z':
			r[c] = 60
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			r[c] = 150
		default:
			r[c] = 100 // punctuation
		}
	}
	for _, c := range []byte(`"e:,taoinsr 0l1.`) {
		r[c] = 250
	}
	for _, c := range []byte(`dchmu-2_{}[]`) {
		r[c] = 200
	}
	return r
}()

// rareIndex is the index in lit of its least common byte (the last of
// equals, which makes the comparison around a hit start further in).
func rareIndex(lit []byte) int {
	k := 0
	for i := range lit {
		if byteRank[lit[i]] <= byteRank[lit[k]] {
			k = i
		}
	}
	return k
}

// containsAt reports whether lit occurs in s, searching for lit[k].
func containsAt(s, lit []byte, k int) bool { return indexAt(s, lit, k) >= 0 }

// indexAt is the index of the first lit in s (-1 if none), searching for
// lit[k].
func indexAt(s, lit []byte, k int) int {
	n := len(lit)
	switch {
	case n == 0:
		return 0
	case n > len(s):
		return -1
	case n == 1:
		return bytes.IndexByte(s, lit[0])
	}
	c := lit[k]
	// Anchor positions: lit[k] at s[i] means lit starts at i-k.
	i, last := k, len(s)-n+k
	for fails := 0; i <= last; fails++ {
		j := bytes.IndexByte(s[i:last+1], c)
		if j < 0 {
			return -1
		}
		i += j
		if bytes.Equal(s[i-k:i-k+n], lit) {
			return i - k
		}
		i++
		if fails > 8 {
			// The anchor byte is common here after all.
			if j := bytes.Index(s[i-k:], lit); j >= 0 {
				return i - k + j
			}
			return -1
		}
	}
	return -1
}

// setAnchors records each literal's rarest byte in the hint tree.
func (h *Hint) setAnchors() {
	if h == nil {
		return
	}
	h.anchor = rareIndex(h.Lit)
	for _, k := range h.Kids {
		k.setAnchors()
	}
}

// valueCheck is a condition on the raw JSON value that follows a member
// name: in a message a comparison matches, the compared member's name
// (a plain word, as checked on messages without \u-escaped word
// characters) appears quoted, then optional space, a colon, optional
// space and a value the comparison holds for. Looking for that is a
// substring search and a few byte comparisons, while the JSON scan that
// decides for certain walks every member before the one compared; an
// event whose every occurrence of the name is followed by something else
// is ruled out without it. Occurrences at any depth or inside strings
// only make the check pass more often, never less.
type valueCheck struct {
	// raw: the value's text must start with one of these, followed by a
	// byte that ends a JSON literal (for a string, its closing quote does).
	raw [][]byte
	// num: the value must be a number literal n with "n op num" true.
	num   bool
	op    op
	value float64
}

// valueCheck returns what must follow e's member name, or nil.
func (e *expr) valueCheck() *valueCheck {
	switch e.op {
	case opIsTrue:
		return &valueCheck{raw: [][]byte{[]byte("true")}}
	case opIsFalse:
		return &valueCheck{raw: [][]byte{[]byte("false")}}
	case opIsNull:
		return &valueCheck{raw: [][]byte{[]byte("null")}}
	case opLt, opGt, opLe, opGe:
		// Only numbers compare in order (strings, booleans and null
		// never match).
		if e.isNum {
			return &valueCheck{num: true, op: e.op, value: e.num}
		}
	case opEq:
		// A string compared whole: the message has it quoted (a value
		// of word characters cannot hide behind other escapes), or bare
		// when the member holds a number or boolean with that text.
		if !e.isNum && !e.any && !e.pre && !e.post && e.str != "" {
			for i := 0; i < len(e.str); i++ {
				if !isWordByte(e.str[i]) || e.str[i] >= 0x80 {
					return nil
				}
			}
			return &valueCheck{raw: [][]byte{[]byte(`"` + e.str + `"`), []byte(e.str)}}
		}
	}
	return nil
}

// followedBy reports whether some occurrence of the quoted member name
// lit in s (found by its byte k) is followed by a value chk accepts.
func followedBy(s, lit []byte, k int, chk *valueCheck) bool {
	for from := 0; ; {
		i := indexAt(s[from:], lit, k)
		if i < 0 {
			return false
		}
		i += from
		if chk.accepts(s, i+len(lit)) {
			return true
		}
		from = i + 1
	}
}

// accepts checks the bytes after a member name at s[j:].
func (chk *valueCheck) accepts(s []byte, j int) bool {
	for j < len(s) && isJSONSpace(s[j]) {
		j++
	}
	if j >= len(s) || s[j] != ':' {
		return false
	}
	j++
	for j < len(s) && isJSONSpace(s[j]) {
		j++
	}
	v := s[j:]
	if chk.num {
		n := numberLen(v)
		if n == 0 || (n < len(v) && !endsLiteral(v[n])) {
			return false
		}
		f, err := strconv.ParseFloat(string(v[:n]), 64)
		if err != nil || math.IsInf(f, 0) {
			return false
		}
		switch chk.op {
		case opLt:
			return f < chk.value
		case opGt:
			return f > chk.value
		case opLe:
			return f <= chk.value
		case opGe:
			return f >= chk.value
		}
		return false
	}
	for _, r := range chk.raw {
		if bytes.HasPrefix(v, r) && (r[0] == '"' || len(v) == len(r) || endsLiteral(v[len(r)])) {
			return true
		}
	}
	return false
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// endsLiteral reports whether c may follow a number or literal in JSON.
func endsLiteral(c byte) bool { return c == ',' || c == '}' || c == ']' || isJSONSpace(c) }

// numberLen is the length of the JSON number at the start of b (0 if
// there is none).
func numberLen(b []byte) int {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i - j
	}
	if digits() == 0 {
		return 0
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return 0
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return 0
		}
	}
	return i
}
