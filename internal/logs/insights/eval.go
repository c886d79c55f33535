package insights

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// TimeLayout is how Logs Insights prints timestamps in results.
const TimeLayout = "2006-01-02 15:04:05.000"

type kind uint8

const (
	kNull kind = iota
	kNum
	kStr
	kTime // epoch milliseconds in n
	kDur  // a period (bin(5m)); n is milliseconds
)

type value struct {
	k kind
	n float64
	s string
}

func num(f float64) value               { return value{k: kNum, n: f} }
func str(s string) value                { return value{k: kStr, s: s} }
func timeVal(ms float64) value          { return value{k: kTime, n: ms} }
func durationVal(d time.Duration) value { return value{k: kDur, n: float64(d / time.Millisecond)} }
func boolVal(b bool) value {
	if b {
		return num(1)
	}
	return num(0)
}

// number returns v as a number: numbers and times as they are, strings
// when they spell a number.
func (v value) number() (float64, bool) {
	switch v.k {
	case kNum, kTime, kDur:
		return v.n, true
	case kStr:
		s := strings.TrimSpace(v.s)
		if s == "" {
			return 0, false
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0, false
		}
		return f, true
	}
	return 0, false
}

// text is how a value prints in results.
func (v value) text() string {
	switch v.k {
	case kNum:
		return formatNumber(v.n)
	case kStr:
		return v.s
	case kTime:
		return time.UnixMilli(int64(v.n)).UTC().Format(TimeLayout)
	case kDur:
		return formatNumber(v.n)
	}
	return ""
}

// formatNumber prints whole numbers as integers and others with 15
// significant digits, so float noise (0.7250000000000001) does not show.
func formatNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 15, 64)
}

func (v value) truthy() bool {
	switch v.k {
	case kNum:
		return v.n != 0
	case kStr:
		return v.s != ""
	case kTime, kDur:
		return true
	}
	return false
}

// node is an expression.
type node interface {
	eval(r *row) value
}

type literal struct{ v value }

func (l *literal) eval(*row) value { return l.v }

type fieldRef struct {
	name string
	slot int
}

func (f *fieldRef) eval(r *row) value { return r.field(f.slot) }

type logic struct {
	or   bool
	l, r node
}

func (n *logic) eval(r *row) value {
	if n.or {
		return boolVal(n.l.eval(r).truthy() || n.r.eval(r).truthy())
	}
	return boolVal(n.l.eval(r).truthy() && n.r.eval(r).truthy())
}

type notNode struct{ e node }

func (n *notNode) eval(r *row) value { return boolVal(!n.e.eval(r).truthy()) }

type compare struct {
	op   string
	l, r node
}

func (c *compare) eval(r *row) value {
	a, b := c.l.eval(r), c.r.eval(r)
	if a.k == kNull || b.k == kNull {
		return num(0)
	}
	var cmp int
	if x, ok := a.number(); ok {
		if y, ok := b.number(); ok {
			switch {
			case x < y:
				cmp = -1
			case x > y:
				cmp = 1
			}
			return boolVal(opResult(c.op, cmp))
		}
	}
	cmp = strings.Compare(a.text(), b.text())
	return boolVal(opResult(c.op, cmp))
}

func opResult(op string, cmp int) bool {
	switch op {
	case "=":
		return cmp == 0
	case "!=":
		return cmp != 0
	case "<":
		return cmp < 0
	case "<=":
		return cmp <= 0
	case ">":
		return cmp > 0
	case ">=":
		return cmp >= 0
	}
	return false
}

type likeNode struct {
	e   node
	re  *regexp.Regexp
	sub string
}

func (l *likeNode) eval(r *row) value {
	v := l.e.eval(r)
	if v.k == kNull {
		return num(0)
	}
	s := v.text()
	if l.re != nil {
		return boolVal(l.re.MatchString(s))
	}
	return boolVal(strings.Contains(s, l.sub))
}

type inNode struct {
	e    node
	list []node
}

func (n *inNode) eval(r *row) value {
	v := n.e.eval(r)
	if v.k == kNull {
		return num(0)
	}
	for _, e := range n.list {
		w := e.eval(r)
		if w.k == kNull {
			continue
		}
		if x, ok := v.number(); ok {
			if y, ok := w.number(); ok && x == y {
				return num(1)
			}
		}
		if v.text() == w.text() {
			return num(1)
		}
	}
	return num(0)
}

type arith struct {
	op   byte
	l, r node
}

func (a *arith) eval(r *row) value {
	x, y := a.l.eval(r), a.r.eval(r)
	xf, ok1 := x.number()
	yf, ok2 := y.number()
	if !ok1 || !ok2 {
		return value{}
	}
	var f float64
	switch a.op {
	case '+':
		f = xf + yf
	case '-':
		f = xf - yf
	case '*':
		f = xf * yf
	case '/':
		if yf == 0 {
			return value{}
		}
		f = xf / yf
	case '%':
		if yf == 0 {
			return value{}
		}
		f = math.Mod(xf, yf)
	}
	// Time plus or minus a number or period stays a time.
	if (x.k == kTime) != (y.k == kTime) && (a.op == '+' || a.op == '-') {
		return timeVal(f)
	}
	return num(f)
}

// aggCall appears only while parsing stats.
type aggCall struct {
	fn  string
	arg node
}

func (a *aggCall) eval(*row) value { return value{} }

type funcDef struct {
	min, max int // max -1: variadic
	fn       func(r *row, args []node) value
}

func (d funcDef) arity() string {
	switch {
	case d.max < 0:
		return "at least " + strconv.Itoa(d.min) + " arguments"
	case d.min == d.max && d.min == 1:
		return "1 argument"
	case d.min == d.max:
		return strconv.Itoa(d.min) + " arguments"
	}
	return strconv.Itoa(d.min) + " to " + strconv.Itoa(d.max) + " arguments"
}

type call struct {
	fn   string
	def  funcDef
	args []node
}

func (c *call) eval(r *row) value { return c.def.fn(r, c.args) }

func strArg(r *row, n node) (string, bool) {
	v := n.eval(r)
	if v.k == kNull {
		return "", false
	}
	return v.text(), true
}

func numArg(r *row, n node) (float64, bool) { return n.eval(r).number() }

func strFn(f func(string) string) funcDef {
	return funcDef{1, 1, func(r *row, a []node) value {
		s, ok := strArg(r, a[0])
		if !ok {
			return value{}
		}
		return str(f(s))
	}}
}

func numFn(f func(float64) float64) funcDef {
	return funcDef{1, 1, func(r *row, a []node) value {
		x, ok := numArg(r, a[0])
		if !ok {
			return value{}
		}
		return num(f(x))
	}}
}

func floorTime(ms, period float64) float64 {
	if period <= 0 {
		return ms
	}
	return math.Floor(ms/period) * period
}

var functions map[string]funcDef

func init() {
	functions = map[string]funcDef{
		"ispresent": {1, 1, func(r *row, a []node) value { return boolVal(a[0].eval(r).k != kNull) }},
		"isempty": {1, 1, func(r *row, a []node) value {
			v := a[0].eval(r)
			return boolVal(v.k == kNull || v.k == kStr && v.s == "")
		}},
		"isblank": {1, 1, func(r *row, a []node) value {
			v := a[0].eval(r)
			return boolVal(v.k == kNull || v.k == kStr && strings.TrimSpace(v.s) == "")
		}},
		"strlen": {1, 1, func(r *row, a []node) value {
			s, ok := strArg(r, a[0])
			if !ok {
				return value{}
			}
			return num(float64(len([]rune(s))))
		}},
		"tolower": strFn(strings.ToLower),
		"toupper": strFn(strings.ToUpper),
		"trim":    strFn(func(s string) string { return strings.TrimFunc(s, unicode.IsSpace) }),
		"ltrim":   strFn(func(s string) string { return strings.TrimLeftFunc(s, unicode.IsSpace) }),
		"rtrim":   strFn(func(s string) string { return strings.TrimRightFunc(s, unicode.IsSpace) }),
		"concat": {1, -1, func(r *row, a []node) value {
			var b strings.Builder
			for _, n := range a {
				if s, ok := strArg(r, n); ok {
					b.WriteString(s)
				}
			}
			return str(b.String())
		}},
		"substr": {2, 3, func(r *row, a []node) value {
			s, ok := strArg(r, a[0])
			start, ok2 := numArg(r, a[1])
			if !ok || !ok2 {
				return value{}
			}
			rs := []rune(s)
			i := max(0, min(len(rs), int(start)))
			j := len(rs)
			if len(a) == 3 {
				n, ok := numArg(r, a[2])
				if !ok {
					return value{}
				}
				j = max(i, min(len(rs), i+int(n)))
			}
			return str(string(rs[i:j]))
		}},
		"replace": {3, 3, func(r *row, a []node) value {
			s, ok := strArg(r, a[0])
			old, ok2 := strArg(r, a[1])
			nw, ok3 := strArg(r, a[2])
			if !ok || !ok2 || !ok3 || old == "" {
				return value{}
			}
			return str(strings.ReplaceAll(s, old, nw))
		}},
		"strcontains": {2, 2, func(r *row, a []node) value {
			s, ok := strArg(r, a[0])
			sub, ok2 := strArg(r, a[1])
			if !ok || !ok2 {
				return value{}
			}
			return boolVal(strings.Contains(s, sub))
		}},
		"coalesce": {1, -1, func(r *row, a []node) value {
			for _, n := range a {
				if v := n.eval(r); v.k != kNull {
					return v
				}
			}
			return value{}
		}},
		"abs":   numFn(math.Abs),
		"ceil":  numFn(math.Ceil),
		"floor": numFn(math.Floor),
		"bin": {1, 1, func(r *row, a []node) value {
			return timeVal(floorTime(float64(r.timestamp()), a[0].eval(r).n))
		}},
		"datefloor": {2, 2, func(r *row, a []node) value {
			t, ok := numArg(r, a[0])
			p := a[1].eval(r)
			if !ok || p.k != kDur {
				return value{}
			}
			return timeVal(floorTime(t, p.n))
		}},
		"dateceil": {2, 2, func(r *row, a []node) value {
			t, ok := numArg(r, a[0])
			p := a[1].eval(r)
			if !ok || p.k != kDur || p.n <= 0 {
				return value{}
			}
			return timeVal(math.Ceil(t/p.n) * p.n)
		}},
		"frommillis": {1, 1, func(r *row, a []node) value {
			t, ok := numArg(r, a[0])
			if !ok {
				return value{}
			}
			return timeVal(t)
		}},
		"tomillis": {1, 1, func(r *row, a []node) value {
			t, ok := numArg(r, a[0])
			if !ok {
				return value{}
			}
			return num(t)
		}},
	}
}

// naturalCompare orders values the way Logs Insights' sort does (its
// "natural sort"): non-number values before number values; numbers by
// value; other strings chunk by chunk, runs of digits by length and then
// value, everything else by Unicode order. Missing values sort last
// (callers handle that).
func naturalCompare(a, b value) int {
	x, aNum := a.number()
	y, bNum := b.number()
	switch {
	case aNum && bNum:
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case aNum:
		return 1
	case bNum:
		return -1
	}
	return naturalStrings(a.text(), b.text())
}

func naturalStrings(a, b string) int {
	for a != "" && b != "" {
		ca, ra := chunk(a)
		cb, rb := chunk(b)
		da, db := isDigit(ca[0]), isDigit(cb[0])
		var c int
		if da && db {
			ta, tb := strings.TrimLeft(ca, "0"), strings.TrimLeft(cb, "0")
			switch {
			case len(ta) != len(tb):
				c = cmpInt(len(ta), len(tb))
			default:
				c = strings.Compare(ta, tb)
			}
		} else {
			c = strings.Compare(ca, cb)
		}
		if c != 0 {
			return c
		}
		a, b = ra, rb
	}
	return cmpInt(len(a), len(b))
}

func chunk(s string) (string, string) {
	d := isDigit(s[0])
	i := 1
	for i < len(s) && isDigit(s[i]) == d {
		i++
	}
	return s[:i], s[i:]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
