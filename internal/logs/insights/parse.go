// Package insights is a subset of the CloudWatch Logs Insights query
// language, the way a team asks "which utterances were missed this week?":
//
//	fields @timestamp, inputTranscript, botName
//	| filter missedUtterance = 1 and botName like /Order/
//	| sort @timestamp desc
//	| limit 20
//
//	stats count(*) as turns, avg(nluIntentConfidence) by intent | sort turns desc
//
// Commands: fields (with `expr as name`), display, filter, parse (glob
// patterns with `*` or regular expressions with named groups), stats
// (count(*), count, count_distinct, sum, avg, min, max; `by` fields and
// bin(period)), sort (asc/desc, AWS's natural order), limit. Expressions:
// comparisons, and/or/not, arithmetic, like and =~ with /regex/ or a
// substring, in [...], and functions (ispresent, isempty, isblank, strlen,
// tolower, toupper, trim, concat, substr, replace, strcontains, coalesce,
// abs, ceil, floor, bin, datefloor, dateceil, fromMillis, toMillis).
//
// Fields are the system fields @timestamp, @message, @logStream, @log and
// @ingestionTime, fields a command defines, and fields discovered in JSON
// messages under their flattened names ("slots.FlowerType",
// "alternativeIntents.0.name"); JSON booleans read as 1 and 0.
//
// Semantics fixed here (the parts of AWS's behaviour this subset pins
// down): per-event commands (fields, parse, filter) run in order; at most
// one stats command, after which filter, fields and display act on its
// rows; sort and limit apply to the final rows (the last sort, the
// smallest limit). Without sort, event rows come newest first. The package
// parses and evaluates; it knows nothing about storage or the API.
package insights

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxLength is the longest query StartQuery accepts.
const MaxLength = 10000

// CompileError is a query that cannot be compiled, with the character
// offsets of the offending text (MalformedQueryException's
// queryCompileError).
type CompileError struct {
	Start, End int
	Msg        string
}

func (e *CompileError) Error() string { return e.Msg }

// Query is a compiled query. It is immutable; Run it any number of times.
type Query struct {
	src    string
	syms   *symbols
	events []command // per-event commands before stats
	stats  *statsCmd
	post   []command // after stats: filter, fields, display
	sort   []sortKey
	limit  int // 0: none given

	// output columns of event rows (nil: @timestamp, @message)
	out []outCol
	// display overrides the output columns when set
	display []outCol
}

// command is a per-row command.
type command interface{ isCommand() }

type fieldsCmd struct{ cols []outCol }
type filterCmd struct{ cond node }
type parseCmd struct {
	src   node
	re    *regexp.Regexp
	slots []int // output slot per capture group (1-based groups)
}

func (fieldsCmd) isCommand() {}
func (filterCmd) isCommand() {}
func (parseCmd) isCommand()  {}

type outCol struct {
	name string
	slot int
	expr node // nil: the field itself
}

type sortKey struct {
	name string
	slot int // event phase: slot; stats phase: column index
	desc bool
}

type statsCmd struct {
	aggs []aggSpec
	by   []outCol
	// column names in output order: by fields, then aggregates
	cols []string
}

type aggSpec struct {
	name string
	fn   string // count, count_star, count_distinct, sum, avg, min, max
	arg  node
}

// ---- lexer ----

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tNumber
	tDuration
	tString
	tRegex
	tPunct
)

type token struct {
	kind       tokKind
	text       string // identifier name, string value, regex source, punctuation
	num        float64
	dur        time.Duration
	start, end int
}

type parser struct {
	src  string
	pos  int
	tok  token
	syms *symbols
	// inStats makes aggregate calls legal.
	inStats bool
}

func (p *parser) errAt(start, end int, format string, args ...any) error {
	if end <= start {
		end = start + 1
	}
	return &CompileError{Start: start, End: end, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			p.pos++
			continue
		}
		if c == '#' { // comment to end of line
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
			continue
		}
		return
	}
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '@' || c >= 0x80
}

func isIdentPart(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '.'
}

// next reads the next token. regexOK says a '/' starts a regex literal.
func (p *parser) next(regexOK bool) error {
	p.skipSpace()
	start := p.pos
	if p.pos >= len(p.src) {
		p.tok = token{kind: tEOF, start: start, end: start}
		return nil
	}
	c := p.src[p.pos]
	switch {
	case isIdentStart(c):
		for p.pos < len(p.src) && isIdentPart(p.src[p.pos]) {
			p.pos++
		}
		name := strings.TrimRight(p.src[start:p.pos], ".")
		p.pos = start + len(name)
		p.tok = token{kind: tIdent, text: name, start: start, end: p.pos}
	case c == '`':
		j := strings.IndexByte(p.src[p.pos+1:], '`')
		if j < 0 {
			return p.errAt(start, len(p.src), "Unterminated backquoted field name.")
		}
		p.pos += j + 2
		p.tok = token{kind: tIdent, text: p.src[start+1 : p.pos-1], start: start, end: p.pos}
	case c >= '0' && c <= '9' || c == '.' && p.pos+1 < len(p.src) && p.src[p.pos+1] >= '0' && p.src[p.pos+1] <= '9':
		for p.pos < len(p.src) && (p.src[p.pos] >= '0' && p.src[p.pos] <= '9' || p.src[p.pos] == '.') {
			p.pos++
		}
		if p.pos < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
			j := p.pos + 1
			if j < len(p.src) && (p.src[j] == '+' || p.src[j] == '-') {
				j++
			}
			if j < len(p.src) && p.src[j] >= '0' && p.src[j] <= '9' {
				p.pos = j
				for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
					p.pos++
				}
			}
		}
		numText := p.src[start:p.pos]
		f, err := strconv.ParseFloat(numText, 64)
		if err != nil {
			return p.errAt(start, p.pos, "Invalid number %q.", numText)
		}
		// A unit right after a number makes a duration: 5m, 1h, 30s.
		u := p.pos
		for u < len(p.src) && (p.src[u] >= 'a' && p.src[u] <= 'z') {
			u++
		}
		if u > p.pos {
			unit := p.src[p.pos:u]
			d, ok := durationUnit(unit)
			if !ok {
				return p.errAt(start, u, "Invalid time unit %q in %q: use ms, s, m, h, d or w.", unit, p.src[start:u])
			}
			p.pos = u
			p.tok = token{kind: tDuration, dur: time.Duration(f * float64(d)), text: p.src[start:u], start: start, end: u}
			return nil
		}
		p.tok = token{kind: tNumber, num: f, text: numText, start: start, end: p.pos}
	case c == '"' || c == '\'':
		var b strings.Builder
		j := p.pos + 1
		for ; j < len(p.src); j++ {
			ch := p.src[j]
			if ch == '\\' && j+1 < len(p.src) {
				j++
				switch p.src[j] {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				default:
					b.WriteByte(p.src[j])
				}
				continue
			}
			if ch == c {
				break
			}
			b.WriteByte(ch)
		}
		if j >= len(p.src) {
			return p.errAt(start, len(p.src), "Unterminated string literal.")
		}
		p.pos = j + 1
		p.tok = token{kind: tString, text: b.String(), start: start, end: p.pos}
	case c == '/' && regexOK:
		var b strings.Builder
		j := p.pos + 1
		for ; j < len(p.src); j++ {
			ch := p.src[j]
			if ch == '\\' && j+1 < len(p.src) && p.src[j+1] == '/' {
				b.WriteByte('/')
				j++
				continue
			}
			if ch == '/' {
				break
			}
			b.WriteByte(ch)
		}
		if j >= len(p.src) {
			return p.errAt(start, len(p.src), "Unterminated regular expression.")
		}
		p.pos = j + 1
		p.tok = token{kind: tRegex, text: b.String(), start: start, end: p.pos}
	default:
		for _, op := range []string{"!=", "<=", ">=", "=~", "==", "|", ",", "(", ")", "[", "]", "*", "+", "-", "/", "%", "=", "<", ">", "^"} {
			if strings.HasPrefix(p.src[p.pos:], op) {
				p.pos += len(op)
				if op == "==" {
					op = "="
				}
				p.tok = token{kind: tPunct, text: op, start: start, end: p.pos}
				return nil
			}
		}
		return p.errAt(start, start+1, "Unexpected character %q.", string(c))
	}
	return nil
}

func durationUnit(u string) (time.Duration, bool) {
	switch u {
	case "ms":
		return time.Millisecond, true
	case "s", "sec", "second", "seconds":
		return time.Second, true
	case "m", "min", "minute", "minutes":
		return time.Minute, true
	case "h", "hr", "hour", "hours":
		return time.Hour, true
	case "d", "day", "days":
		return 24 * time.Hour, true
	case "w", "week", "weeks":
		return 7 * 24 * time.Hour, true
	}
	return 0, false
}

func (p *parser) isPunct(s string) bool { return p.tok.kind == tPunct && p.tok.text == s }

func (p *parser) isKeyword(w string) bool {
	return p.tok.kind == tIdent && strings.EqualFold(p.tok.text, w)
}

func (p *parser) expect(s string, regexNext bool) error {
	if !p.isPunct(s) {
		return p.errAt(p.tok.start, p.tok.end, "Expected %q but found %s.", s, p.describe())
	}
	return p.next(regexNext)
}

func (p *parser) describe() string {
	if p.tok.kind == tEOF {
		return "the end of the query"
	}
	return fmt.Sprintf("%q", p.src[p.tok.start:p.tok.end])
}

// Parse compiles a query.
func Parse(src string) (*Query, error) {
	if len(src) > MaxLength {
		return nil, &CompileError{0, len(src), fmt.Sprintf("The query is longer than %d characters.", MaxLength)}
	}
	if strings.TrimSpace(src) == "" {
		return nil, &CompileError{0, 1, "The query is empty."}
	}
	if !utf8.ValidString(src) {
		return nil, &CompileError{0, len(src), "The query is not valid UTF-8."}
	}
	q := &Query{src: src, syms: newSymbols()}
	p := &parser{src: src, syms: q.syms}
	if err := p.next(false); err != nil {
		return nil, err
	}
	for {
		if p.tok.kind != tIdent {
			return nil, p.errAt(p.tok.start, p.tok.end, "Expected a command (fields, filter, stats, sort, limit, parse, display) but found %s.", p.describe())
		}
		cmd := strings.ToLower(p.tok.text)
		cmdTok := p.tok
		if err := p.next(true); err != nil {
			return nil, err
		}
		var err error
		switch cmd {
		case "fields":
			var cols []outCol
			cols, err = p.columns(true)
			if err == nil {
				if q.stats != nil {
					q.post = append(q.post, fieldsCmd{cols})
				} else {
					q.events = append(q.events, fieldsCmd{cols})
				}
				q.out = append(q.out, cols...)
			}
		case "display":
			var cols []outCol
			cols, err = p.columns(false)
			q.display = cols
		case "filter":
			var cond node
			cond, err = p.expr()
			if err == nil {
				if q.stats != nil {
					q.post = append(q.post, filterCmd{cond})
				} else {
					q.events = append(q.events, filterCmd{cond})
				}
			}
		case "parse":
			if q.stats != nil {
				return nil, p.errAt(cmdTok.start, cmdTok.end, "parse must come before stats.")
			}
			var pc *parseCmd
			pc, err = p.parseCommand()
			if err == nil {
				q.events = append(q.events, *pc)
			}
		case "stats":
			if q.stats != nil {
				return nil, p.errAt(cmdTok.start, cmdTok.end, "lextrail supports one stats command per query.")
			}
			q.stats, err = p.statsCommand()
		case "sort":
			q.sort, err = p.sortKeys()
		case "limit":
			if p.tok.kind != tNumber || p.tok.num < 1 || p.tok.num != float64(int(p.tok.num)) {
				return nil, p.errAt(p.tok.start, p.tok.end, "limit needs a positive whole number, not %s.", p.describe())
			}
			if n := int(p.tok.num); q.limit == 0 || n < q.limit {
				q.limit = n
			}
			if q.limit > 10000 {
				return nil, p.errAt(p.tok.start, p.tok.end, "limit must be at most 10000.")
			}
			err = p.next(false)
		default:
			return nil, p.errAt(cmdTok.start, cmdTok.end, "Unknown or unsupported command %q; lextrail supports fields, display, filter, parse, stats, sort and limit.", cmdTok.text)
		}
		if err != nil {
			return nil, err
		}
		if p.tok.kind == tEOF {
			break
		}
		if !p.isPunct("|") {
			return nil, p.errAt(p.tok.start, p.tok.end, "Expected '|' or the end of the query but found %s.", p.describe())
		}
		if err := p.next(false); err != nil {
			return nil, err
		}
	}
	if err := q.resolveSort(); err != nil {
		return nil, err
	}
	return q, nil
}

// columns parses `expr [as name], ...` (fields) or `name, ...` (display).
func (p *parser) columns(exprs bool) ([]outCol, error) {
	var cols []outCol
	for {
		start := p.tok.start
		if exprs {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			name := strings.TrimSpace(p.src[start:p.lastEnd()])
			if p.isKeyword("as") {
				if err := p.next(false); err != nil {
					return nil, err
				}
				if p.tok.kind != tIdent {
					return nil, p.errAt(p.tok.start, p.tok.end, "Expected a field name after 'as' but found %s.", p.describe())
				}
				name = p.tok.text
				if err := p.next(false); err != nil {
					return nil, err
				}
				cols = append(cols, outCol{name: name, slot: p.syms.slot(name), expr: e})
			} else if f, ok := e.(*fieldRef); ok {
				cols = append(cols, outCol{name: f.name, slot: f.slot})
			} else {
				cols = append(cols, outCol{name: name, slot: p.syms.slot(name), expr: e})
			}
		} else {
			if p.tok.kind != tIdent {
				return nil, p.errAt(p.tok.start, p.tok.end, "Expected a field name but found %s.", p.describe())
			}
			cols = append(cols, outCol{name: p.tok.text, slot: p.syms.slot(p.tok.text)})
			if err := p.next(false); err != nil {
				return nil, err
			}
		}
		if !p.isPunct(",") {
			return cols, nil
		}
		if err := p.next(true); err != nil {
			return nil, err
		}
	}
}

// lastEnd is the end offset of the previous token (the text of an
// expression just parsed ends there).
func (p *parser) lastEnd() int {
	end := p.tok.start
	for end > 0 && strings.ContainsRune(" \t\r\n", rune(p.src[end-1])) {
		end--
	}
	return end
}

func (p *parser) parseCommand() (*parseCmd, error) {
	pc := &parseCmd{}
	// The field is optional: `parse "pattern" as a` reads @message.
	if p.tok.kind == tString || p.tok.kind == tRegex {
		pc.src = &fieldRef{name: "@message", slot: p.syms.slot("@message")}
	} else {
		src, err := p.primary()
		if err != nil {
			return nil, err
		}
		pc.src = src
		if p.tok.kind == tPunct && p.tok.text == "/" {
			// primary() read the field with regexOK false; re-read.
			p.pos = p.tok.start
			if err := p.next(true); err != nil {
				return nil, err
			}
		}
	}
	switch p.tok.kind {
	case tRegex:
		re, err := regexp.Compile(p.tok.text)
		if err != nil {
			return nil, p.errAt(p.tok.start, p.tok.end, "Invalid regular expression: %v", err)
		}
		names := re.SubexpNames()
		pc.slots = make([]int, len(names))
		named := 0
		for i, n := range names {
			pc.slots[i] = -1
			if i > 0 && n != "" {
				pc.slots[i] = p.syms.slot(n)
				named++
			}
		}
		if named == 0 {
			return nil, p.errAt(p.tok.start, p.tok.end, "A parse regular expression needs named groups: (?<name>...).")
		}
		pc.re = re
		return pc, p.next(false)
	case tString:
		glob := p.tok.text
		globTok := p.tok
		stars := strings.Count(glob, "*")
		if stars == 0 {
			return nil, p.errAt(globTok.start, globTok.end, "A parse pattern needs at least one '*'.")
		}
		if err := p.next(false); err != nil {
			return nil, err
		}
		if !p.isKeyword("as") {
			return nil, p.errAt(p.tok.start, p.tok.end, "Expected 'as' and %d field names after the parse pattern.", stars)
		}
		if err := p.next(false); err != nil {
			return nil, err
		}
		var names []string
		for {
			if p.tok.kind != tIdent {
				return nil, p.errAt(p.tok.start, p.tok.end, "Expected a field name but found %s.", p.describe())
			}
			names = append(names, p.tok.text)
			if err := p.next(false); err != nil {
				return nil, err
			}
			if !p.isPunct(",") {
				break
			}
			if err := p.next(false); err != nil {
				return nil, err
			}
		}
		if len(names) != stars {
			return nil, p.errAt(globTok.start, p.lastEnd(), "The parse pattern has %d '*' but %d field names follow 'as'.", stars, len(names))
		}
		parts := strings.Split(glob, "*")
		var b strings.Builder
		b.WriteString("(?s)")
		for i, part := range parts {
			b.WriteString(regexp.QuoteMeta(part))
			if i < len(parts)-1 {
				if i == len(parts)-2 && parts[len(parts)-1] == "" {
					b.WriteString("(.*)") // a trailing '*' takes the rest
				} else {
					b.WriteString("(.*?)")
				}
			}
		}
		re, err := regexp.Compile(b.String())
		if err != nil {
			return nil, p.errAt(globTok.start, globTok.end, "Invalid parse pattern: %v", err)
		}
		pc.re = re
		pc.slots = make([]int, stars+1)
		pc.slots[0] = -1
		for i, n := range names {
			pc.slots[i+1] = p.syms.slot(n)
		}
		return pc, nil
	}
	return nil, p.errAt(p.tok.start, p.tok.end, "Expected a quoted pattern with '*' or a /regular expression/ after parse, found %s.", p.describe())
}

func (p *parser) statsCommand() (*statsCmd, error) {
	st := &statsCmd{}
	p.inStats = true
	defer func() { p.inStats = false }()
	for {
		start := p.tok.start
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		a, ok := e.(*aggCall)
		if !ok {
			return nil, p.errAt(start, p.lastEnd(), "stats needs aggregate functions (count, count_distinct, sum, avg, min, max), not %q.", strings.TrimSpace(p.src[start:p.lastEnd()]))
		}
		name := strings.TrimSpace(p.src[start:p.lastEnd()])
		if p.isKeyword("as") {
			if err := p.next(false); err != nil {
				return nil, err
			}
			if p.tok.kind != tIdent {
				return nil, p.errAt(p.tok.start, p.tok.end, "Expected a name after 'as' but found %s.", p.describe())
			}
			name = p.tok.text
			if err := p.next(false); err != nil {
				return nil, err
			}
		}
		st.aggs = append(st.aggs, aggSpec{name: name, fn: a.fn, arg: a.arg})
		if !p.isPunct(",") {
			break
		}
		if err := p.next(true); err != nil {
			return nil, err
		}
	}
	p.inStats = false
	if p.isKeyword("by") {
		if err := p.next(true); err != nil {
			return nil, err
		}
		cols, err := p.columns(true)
		if err != nil {
			return nil, err
		}
		st.by = cols
	}
	for _, b := range st.by {
		st.cols = append(st.cols, b.name)
	}
	for _, a := range st.aggs {
		st.cols = append(st.cols, a.name)
	}
	return st, nil
}

func (p *parser) sortKeys() ([]sortKey, error) {
	var keys []sortKey
	for {
		if p.tok.kind != tIdent {
			return nil, p.errAt(p.tok.start, p.tok.end, "Expected a field to sort by but found %s.", p.describe())
		}
		k := sortKey{name: p.tok.text}
		// A sort field may be an aggregate's source text: sort count(*) desc.
		start := p.tok.start
		if err := p.next(false); err != nil {
			return nil, err
		}
		if p.isPunct("(") {
			depth := 0
			for p.tok.kind != tEOF {
				if p.isPunct("(") {
					depth++
				}
				if p.isPunct(")") {
					depth--
					if depth == 0 {
						k.name = p.src[start:p.tok.end]
						if err := p.next(false); err != nil {
							return nil, err
						}
						break
					}
				}
				if err := p.next(false); err != nil {
					return nil, err
				}
			}
		}
		if p.isKeyword("desc") {
			k.desc = true
			if err := p.next(false); err != nil {
				return nil, err
			}
		} else if p.isKeyword("asc") {
			if err := p.next(false); err != nil {
				return nil, err
			}
		}
		keys = append(keys, k)
		if !p.isPunct(",") {
			return keys, nil
		}
		if err := p.next(false); err != nil {
			return nil, err
		}
	}
}

func (q *Query) resolveSort() error {
	for i := range q.sort {
		k := &q.sort[i]
		if q.stats != nil {
			k.slot = -1
			for j, c := range q.stats.cols {
				if c == k.name {
					k.slot = j
				}
			}
			if k.slot < 0 {
				return &CompileError{0, len(q.src), fmt.Sprintf("sort field %q is not a column of the stats result (%s).", k.name, strings.Join(q.stats.cols, ", "))}
			}
			continue
		}
		k.slot = q.syms.slot(k.name)
	}
	return nil
}

// ---- expressions ----

// expr := or
func (p *parser) expr() (node, error) { return p.or() }

func (p *parser) or() (node, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("or") {
		if err := p.next(true); err != nil {
			return nil, err
		}
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &logic{or: true, l: l, r: r}
	}
	return l, nil
}

func (p *parser) and() (node, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("and") {
		if err := p.next(true); err != nil {
			return nil, err
		}
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = &logic{l: l, r: r}
	}
	return l, nil
}

func (p *parser) not() (node, error) {
	if p.isKeyword("not") {
		if err := p.next(true); err != nil {
			return nil, err
		}
		e, err := p.not()
		if err != nil {
			return nil, err
		}
		return &notNode{e: e}, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (node, error) {
	l, err := p.additive()
	if err != nil {
		return nil, err
	}
	negate := false
	if p.isKeyword("not") {
		// `not like`, `not in`
		save, saveTok := p.pos, p.tok
		if err := p.next(true); err != nil {
			return nil, err
		}
		if !p.isKeyword("like") && !p.isKeyword("in") {
			p.pos, p.tok = save, saveTok
			return l, nil
		}
		negate = true
	}
	var n node
	switch {
	case p.isKeyword("like") || p.isPunct("=~"):
		regexOp := p.isPunct("=~")
		opTok := p.tok
		if err := p.next(true); err != nil {
			return nil, err
		}
		switch p.tok.kind {
		case tRegex:
			re, err := regexp.Compile(p.tok.text)
			if err != nil {
				return nil, p.errAt(p.tok.start, p.tok.end, "Invalid regular expression: %v", err)
			}
			n = &likeNode{e: l, re: re}
		case tString:
			if regexOp {
				re, err := regexp.Compile(p.tok.text)
				if err != nil {
					return nil, p.errAt(p.tok.start, p.tok.end, "Invalid regular expression: %v", err)
				}
				n = &likeNode{e: l, re: re}
			} else {
				n = &likeNode{e: l, sub: p.tok.text}
			}
		default:
			return nil, p.errAt(opTok.start, p.tok.end, "Expected a /regular expression/ or a string after %s.", opTok.text)
		}
		if err := p.next(false); err != nil {
			return nil, err
		}
	case p.isKeyword("in"):
		if err := p.next(false); err != nil {
			return nil, err
		}
		if err := p.expect("[", true); err != nil {
			return nil, err
		}
		in := &inNode{e: l}
		for !p.isPunct("]") {
			v, err := p.additive()
			if err != nil {
				return nil, err
			}
			in.list = append(in.list, v)
			if p.isPunct(",") {
				if err := p.next(true); err != nil {
					return nil, err
				}
			} else if !p.isPunct("]") {
				return nil, p.errAt(p.tok.start, p.tok.end, "Expected ',' or ']' but found %s.", p.describe())
			}
		}
		if err := p.next(false); err != nil {
			return nil, err
		}
		n = in
	case p.tok.kind == tPunct && (p.tok.text == "=" || p.tok.text == "!=" || p.tok.text == "<" || p.tok.text == "<=" || p.tok.text == ">" || p.tok.text == ">="):
		op := p.tok.text
		if err := p.next(true); err != nil {
			return nil, err
		}
		r, err := p.additive()
		if err != nil {
			return nil, err
		}
		return &compare{op: op, l: l, r: r}, nil
	default:
		if negate {
			return nil, p.errAt(p.tok.start, p.tok.end, "Expected like or in after not.")
		}
		return l, nil
	}
	if negate {
		return &notNode{e: n}, nil
	}
	return n, nil
}

func (p *parser) additive() (node, error) {
	l, err := p.multiplicative()
	if err != nil {
		return nil, err
	}
	for p.isPunct("+") || p.isPunct("-") {
		op := p.tok.text
		if err := p.next(true); err != nil {
			return nil, err
		}
		r, err := p.multiplicative()
		if err != nil {
			return nil, err
		}
		l = &arith{op: op[0], l: l, r: r}
	}
	return l, nil
}

func (p *parser) multiplicative() (node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.isPunct("*") || p.isPunct("/") || p.isPunct("%") {
		op := p.tok.text
		if err := p.next(true); err != nil {
			return nil, err
		}
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &arith{op: op[0], l: l, r: r}
	}
	return l, nil
}

func (p *parser) unary() (node, error) {
	if p.isPunct("-") {
		if err := p.next(true); err != nil {
			return nil, err
		}
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &arith{op: '-', l: &literal{v: num(0)}, r: e}, nil
	}
	return p.primary()
}

func (p *parser) primary() (node, error) {
	t := p.tok
	switch t.kind {
	case tNumber:
		return &literal{v: num(t.num)}, p.next(false)
	case tString:
		return &literal{v: str(t.text)}, p.next(false)
	case tDuration:
		return &literal{v: durationVal(t.dur)}, p.next(false)
	case tRegex:
		return nil, p.errAt(t.start, t.end, "A regular expression can only follow like or =~.")
	case tPunct:
		if t.text == "(" {
			if err := p.next(true); err != nil {
				return nil, err
			}
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			return e, p.expect(")", false)
		}
		return nil, p.errAt(t.start, t.end, "Expected a field, value or function but found %s.", p.describe())
	case tIdent:
		if err := p.next(false); err != nil {
			return nil, err
		}
		if p.isPunct("(") {
			return p.call(t)
		}
		switch strings.ToLower(t.text) {
		case "true":
			return &literal{v: num(1)}, nil
		case "false":
			return &literal{v: num(0)}, nil
		}
		return &fieldRef{name: t.text, slot: p.syms.slot(t.text)}, nil
	}
	return nil, p.errAt(t.start, t.end, "Expected a field, value or function but found %s.", p.describe())
}

var aggregates = map[string]bool{"count": true, "count_distinct": true, "sum": true, "avg": true, "min": true, "max": true}

func (p *parser) call(name token) (node, error) {
	fn := strings.ToLower(name.text)
	if err := p.next(true); err != nil { // past '('
		return nil, err
	}
	if aggregates[fn] {
		if !p.inStats {
			return nil, p.errAt(name.start, name.end, "%s() is an aggregate function: use it in stats.", name.text)
		}
		p.inStats = false // no nested aggregates
		defer func() { p.inStats = true }()
		if fn == "count" && p.isPunct("*") {
			if err := p.next(false); err != nil {
				return nil, err
			}
			if err := p.expect(")", false); err != nil {
				return nil, err
			}
			return &aggCall{fn: "count_star"}, nil
		}
		arg, err := p.expr()
		if err != nil {
			return nil, err
		}
		if err := p.expect(")", false); err != nil {
			return nil, err
		}
		return &aggCall{fn: fn, arg: arg}, nil
	}
	def, ok := functions[fn]
	if !ok {
		return nil, p.errAt(name.start, name.end, "Unknown or unsupported function %s().", name.text)
	}
	var args []node
	for !p.isPunct(")") {
		a, err := p.expr()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		if p.isPunct(",") {
			if err := p.next(true); err != nil {
				return nil, err
			}
		} else if !p.isPunct(")") {
			return nil, p.errAt(p.tok.start, p.tok.end, "Expected ',' or ')' but found %s.", p.describe())
		}
	}
	end := p.tok.end
	if err := p.next(false); err != nil {
		return nil, err
	}
	if len(args) < def.min || (def.max >= 0 && len(args) > def.max) {
		return nil, p.errAt(name.start, end, "%s() takes %s, not %d.", name.text, def.arity(), len(args))
	}
	if fn == "bin" {
		if l, ok := args[0].(*literal); !ok || l.v.k != kDur {
			return nil, p.errAt(name.start, end, "bin() takes a time period such as 5m or 1h.")
		}
	}
	return &call{fn: fn, def: def, args: args}, nil
}

// symbols assigns a slot to every field name a query uses.
type symbols struct {
	index map[string]int
	names []string
}

func newSymbols() *symbols { return &symbols{index: map[string]int{}} }

func (s *symbols) slot(name string) int {
	if i, ok := s.index[name]; ok {
		return i
	}
	s.index[name] = len(s.names)
	s.names = append(s.names, name)
	return len(s.names) - 1
}
