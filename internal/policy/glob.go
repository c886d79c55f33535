package policy

import (
	"strings"
	"unicode/utf8"
)

// Token types of a compiled pattern.
const (
	tLit  uint8 = iota // literal text
	tStar              // '*': any run of characters
	tQ                 // '?': exactly one character
	tVar               // policy variable ${key} or ${key, 'default'}
)

type tok struct {
	typ    uint8
	s      string // literal text, or the lower-cased variable key
	def    string // variable default
	hasDef bool
}

// parseTemplate splits s into tokens. With wild, '*' and '?' are wildcards;
// with vars, ${...} are policy variables (and ${*}, ${?}, ${$} escapes).
func parseTemplate(s string, wild, vars bool) []tok {
	var toks []tok
	lit := func(x string) {
		if x == "" {
			return
		}
		if n := len(toks); n > 0 && toks[n-1].typ == tLit {
			toks[n-1].s += x
			return
		}
		toks = append(toks, tok{typ: tLit, s: x})
	}
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case wild && (c == '*' || c == '?'):
			lit(s[start:i])
			t := tStar
			if c == '?' {
				t = tQ
			}
			if !(t == tStar && len(toks) > 0 && toks[len(toks)-1].typ == tStar) {
				toks = append(toks, tok{typ: t})
			}
			i++
			start = i
		case vars && c == '$' && i+1 < len(s) && s[i+1] == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				i = len(s)
				continue
			}
			inner := s[i+2 : i+2+end]
			lit(s[start:i])
			switch inner {
			case "*", "?", "$":
				lit(inner)
			default:
				t, ok := parseVar(inner)
				if ok {
					toks = append(toks, t)
				} else {
					lit(s[i : i+3+end])
				}
			}
			i += 3 + end
			start = i
		default:
			i++
		}
	}
	lit(s[start:])
	return toks
}

// parseVar parses "key" or "key, 'default'" (spaces around the comma allowed).
func parseVar(inner string) (tok, bool) {
	key, def, hasDef := inner, "", false
	if i := strings.IndexByte(inner, ','); i >= 0 {
		key = inner[:i]
		d := strings.TrimSpace(inner[i+1:])
		if len(d) < 2 || d[0] != '\'' || d[len(d)-1] != '\'' {
			return tok{}, false
		}
		def, hasDef = d[1:len(d)-1], true
	}
	key = strings.TrimSpace(key)
	if key == "" || strings.ContainsAny(key, " \t${}") {
		return tok{}, false
	}
	return tok{typ: tVar, s: strings.ToLower(key), def: def, hasDef: hasDef}, true
}

func hasVars(toks []tok) bool {
	for _, t := range toks {
		if t.typ == tVar {
			return true
		}
	}
	return false
}

// lookupVar returns the value of a policy variable for the request.
func lookupVar(t *tok, r *Request) (string, bool) {
	if vs := r.values(t.s); len(vs) > 0 {
		return vs[0], true
	}
	if t.hasDef {
		return t.def, true
	}
	return "", false
}

// resolve replaces variables with literal text; false if one is unresolved.
func resolve(toks []tok, r *Request) ([]tok, bool) {
	out := make([]tok, 0, len(toks))
	for i := range toks {
		t := toks[i]
		if t.typ == tVar {
			v, ok := lookupVar(&t, r)
			if !ok {
				return nil, false
			}
			out = append(out, tok{typ: tLit, s: v})
			continue
		}
		out = append(out, t)
	}
	return out, true
}

// resolveString renders a wildcard-free template as a string.
func resolveString(toks []tok, r *Request) (string, bool) {
	var b strings.Builder
	for i := range toks {
		t := &toks[i]
		switch t.typ {
		case tVar:
			v, ok := lookupVar(t, r)
			if !ok {
				return "", false
			}
			b.WriteString(v)
		case tStar:
			b.WriteByte('*')
		case tQ:
			b.WriteByte('?')
		default:
			b.WriteString(t.s)
		}
	}
	return b.String(), true
}

// Glob modes, picked at compile time so common shapes avoid the general loop.
const (
	gExact uint8 = iota
	gAny
	gPrefix
	gSuffix
	gGeneral
)

// glob is a compiled wildcard pattern without variables.
type glob struct {
	mode uint8
	fold bool // ASCII/Unicode case folding (actions)
	lit  string
	toks []tok
	// first is the pattern's first byte when it starts with an ASCII
	// literal (lower-cased when folding), for a quick rejection of most
	// non-matching strings; 0 otherwise.
	first byte
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func compileGlob(toks []tok, fold bool) glob {
	g := glob{fold: fold, toks: toks}
	if len(toks) > 0 && toks[0].typ == tLit && toks[0].s != "" && toks[0].s[0] < utf8.RuneSelf {
		g.first = toks[0].s[0]
		if fold {
			g.first = lowerASCII(g.first)
		}
	}
	switch {
	case len(toks) == 0:
		g.mode = gExact
	case len(toks) == 1 && toks[0].typ == tStar:
		g.mode = gAny
	case len(toks) == 1 && toks[0].typ == tLit:
		g.mode, g.lit = gExact, toks[0].s
	case len(toks) == 2 && toks[0].typ == tLit && toks[1].typ == tStar:
		g.mode, g.lit = gPrefix, toks[0].s
	case len(toks) == 2 && toks[0].typ == tStar && toks[1].typ == tLit:
		g.mode, g.lit = gSuffix, toks[1].s
	default:
		g.mode = gGeneral
	}
	return g
}

func eq(a, b string, fold bool) bool {
	if fold {
		return strings.EqualFold(a, b)
	}
	return a == b
}

func (g *glob) match(s string) bool {
	if g.first != 0 {
		// A string starting with another ASCII byte cannot match (a
		// non-ASCII first byte may still fold to it: no shortcut).
		if s == "" {
			return false
		}
		c := s[0]
		if c < utf8.RuneSelf {
			if g.fold {
				c = lowerASCII(c)
			}
			if c != g.first {
				return false
			}
		}
	}
	switch g.mode {
	case gAny:
		return true
	case gExact:
		return eq(s, g.lit, g.fold)
	case gPrefix:
		return len(s) >= len(g.lit) && eq(s[:len(g.lit)], g.lit, g.fold)
	case gSuffix:
		return len(s) >= len(g.lit) && eq(s[len(s)-len(g.lit):], g.lit, g.fold)
	}
	return matchToks(g.toks, s, g.fold)
}

// matchToks matches s against literal, '*' and '?' tokens. It backtracks only
// to the most recent '*', which is sufficient because every other token has a
// fixed length: O(len(s)*len(toks)) worst case, no allocation.
func matchToks(toks []tok, s string, fold bool) bool {
	ti, si := 0, 0
	starTi, starSi := -1, 0
	for {
		if ti < len(toks) {
			t := &toks[ti]
			switch t.typ {
			case tStar:
				starTi, starSi = ti, si
				ti++
				continue
			case tQ:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					ti++
					continue
				}
			default:
				if len(s)-si >= len(t.s) && eq(s[si:si+len(t.s)], t.s, fold) {
					si += len(t.s)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starTi < 0 || starSi >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starSi:])
		starSi += n
		ti, si = starTi+1, starSi
	}
}

// pattern is a Resource/NotResource entry: a glob, possibly with variables.
type pattern struct {
	toks []tok
	vars bool
	g    glob
}

func newPattern(s string, vars bool) *pattern {
	toks := parseTemplate(s, true, vars)
	p := &pattern{toks: toks, vars: hasVars(toks)}
	if !p.vars {
		p.g = compileGlob(toks, false)
	}
	return p
}

func (p *pattern) match(s string, r *Request) bool {
	if !p.vars {
		return p.g.match(s)
	}
	toks, ok := resolve(p.toks, r)
	if !ok {
		return false
	}
	return matchToks(toks, s, false)
}

// arnFields splits an ARN into its six colon-separated components (the last
// one keeps any further colons).
func arnFields(s string) (f [6]string, ok bool) {
	for i := 0; i < 5; i++ {
		j := strings.IndexByte(s, ':')
		if j < 0 {
			return f, false
		}
		f[i], s = s[:j], s[j+1:]
	}
	f[5] = s
	return f, true
}

// splitArnToks splits a token list on the first five ':' of its literals.
func splitArnToks(toks []tok) (parts [6][]tok, ok bool) {
	n := 0
	for _, t := range toks {
		if t.typ != tLit || n == 5 {
			parts[n] = append(parts[n], t)
			continue
		}
		s := t.s
		for n < 5 {
			j := strings.IndexByte(s, ':')
			if j < 0 {
				break
			}
			if j > 0 {
				parts[n] = append(parts[n], tok{typ: tLit, s: s[:j]})
			}
			n++
			s = s[j+1:]
		}
		if s != "" {
			parts[n] = append(parts[n], tok{typ: tLit, s: s})
		}
	}
	return parts, n == 5
}
