package policy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Operator families.
const (
	famString uint8 = iota
	famStringIC
	famStringLike
	famNumeric
	famDate
	famBool
	famBinary
	famIP
	famArn
	famNull
)

// Comparisons for numeric and date operators.
const (
	cmpEq uint8 = iota
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

type opDef struct {
	fam     uint8
	cmp     uint8
	negated bool
}

var operators = map[string]opDef{
	"StringEquals":              {fam: famString},
	"StringNotEquals":           {fam: famString, negated: true},
	"StringEqualsIgnoreCase":    {fam: famStringIC},
	"StringNotEqualsIgnoreCase": {fam: famStringIC, negated: true},
	"StringLike":                {fam: famStringLike},
	"StringNotLike":             {fam: famStringLike, negated: true},
	"NumericEquals":             {fam: famNumeric, cmp: cmpEq},
	"NumericNotEquals":          {fam: famNumeric, cmp: cmpEq, negated: true},
	"NumericLessThan":           {fam: famNumeric, cmp: cmpLt},
	"NumericLessThanEquals":     {fam: famNumeric, cmp: cmpLe},
	"NumericGreaterThan":        {fam: famNumeric, cmp: cmpGt},
	"NumericGreaterThanEquals":  {fam: famNumeric, cmp: cmpGe},
	"DateEquals":                {fam: famDate, cmp: cmpEq},
	"DateNotEquals":             {fam: famDate, cmp: cmpEq, negated: true},
	"DateLessThan":              {fam: famDate, cmp: cmpLt},
	"DateLessThanEquals":        {fam: famDate, cmp: cmpLe},
	"DateGreaterThan":           {fam: famDate, cmp: cmpGt},
	"DateGreaterThanEquals":     {fam: famDate, cmp: cmpGe},
	"Bool":                      {fam: famBool},
	"BinaryEquals":              {fam: famBinary},
	"IpAddress":                 {fam: famIP},
	"NotIpAddress":              {fam: famIP, negated: true},
	"ArnEquals":                 {fam: famArn},
	"ArnLike":                   {fam: famArn},
	"ArnNotEquals":              {fam: famArn, negated: true},
	"ArnNotLike":                {fam: famArn, negated: true},
	"Null":                      {fam: famNull},
}

// Set operator prefixes.
const (
	setNone uint8 = iota
	setAny
	setAll
)

// condition is one (operator, key) pair with its policy values.
type condition struct {
	op       opDef
	set      uint8
	ifExists bool
	key      string // lower-cased
	values   []cvalue
	nullWant []bool // Null: true = key must be absent
}

// cvalue is one compiled policy value; which fields are set depends on the
// operator family.
type cvalue struct {
	toks []tok // template when the value contains policy variables
	vars bool
	s    string
	g    glob
	arn  [6]glob
	arn6 bool
	num  float64
	t    time.Time
	pfx  netip.Prefix
	bin  []byte
	ok   bool // num/t/pfx/bin parsed
}

func parseConditions(raw any, vars bool) ([]*condition, *Error) {
	block, ok := raw.(map[string]any)
	if !ok {
		return nil, errorf(msgSyntax)
	}
	var out []*condition
	for _, opName := range sortedKeys(block) {
		def, set, ifExists, err := parseOperator(opName)
		if err != nil {
			return nil, err
		}
		keys, ok := block[opName].(map[string]any)
		if !ok {
			return nil, errorf(msgSyntax)
		}
		for _, key := range sortedKeys(keys) {
			if i := strings.IndexByte(key, ':'); i <= 0 || i == len(key)-1 {
				return nil, errorf(msgVendor)
			}
			vals, ok := conditionValues(keys[key])
			if !ok {
				return nil, errorf(msgSyntax)
			}
			c := &condition{op: def, set: set, ifExists: ifExists, key: strings.ToLower(key)}
			for _, v := range vals {
				if def.fam == famNull {
					switch strings.ToLower(v) {
					case "true":
						c.nullWant = append(c.nullWant, true)
					case "false":
						c.nullWant = append(c.nullWant, false)
					default:
						return nil, errorf("Invalid value %s for condition operator Null: must be true or false", v)
					}
					continue
				}
				c.values = append(c.values, compileValue(def.fam, v, vars))
			}
			out = append(out, c)
		}
	}
	return out, nil
}

func parseOperator(name string) (opDef, uint8, bool, *Error) {
	base, set := name, setNone
	switch {
	case strings.HasPrefix(name, "ForAnyValue:"):
		base, set = name[len("ForAnyValue:"):], setAny
	case strings.HasPrefix(name, "ForAllValues:"):
		base, set = name[len("ForAllValues:"):], setAll
	}
	ifExists := false
	if b, ok := strings.CutSuffix(base, "IfExists"); ok && b != "Null" {
		base, ifExists = b, true
	}
	def, ok := operators[base]
	if !ok || (def.fam == famNull && set != setNone) {
		return opDef{}, 0, false, errorf("Unknown condition operator %s", name)
	}
	return def, set, ifExists, nil
}

// conditionValues accepts a string, number or bool, or an array of them.
func conditionValues(v any) ([]string, bool) {
	one := func(e any) (string, bool) {
		switch t := e.(type) {
		case string:
			return t, true
		case json.Number:
			return t.String(), true
		case bool:
			return strconv.FormatBool(t), true
		}
		return "", false
	}
	if arr, ok := v.([]any); ok {
		out := make([]string, 0, len(arr))
		for _, e := range arr {
			s, ok := one(e)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	s, ok := one(v)
	if !ok {
		return nil, false
	}
	return []string{s}, true
}

func compileValue(fam uint8, v string, vars bool) cvalue {
	cv := cvalue{s: v}
	switch fam {
	case famString, famStringIC, famBool:
		if vars {
			cv.toks = parseTemplate(v, false, true)
			cv.vars = hasVars(cv.toks)
			if !cv.vars {
				cv.s, _ = resolveString(cv.toks, nil) // applies ${*}-style escapes
			}
		}
	case famStringLike:
		cv.toks = parseTemplate(v, true, vars)
		cv.vars = hasVars(cv.toks)
		if !cv.vars {
			cv.g = compileGlob(cv.toks, false)
		}
	case famArn:
		cv.toks = parseTemplate(v, true, vars)
		cv.vars = hasVars(cv.toks)
		if !cv.vars {
			cv.g = compileGlob(cv.toks, false)
			if parts, ok := splitArnToks(cv.toks); ok {
				for i := range parts {
					cv.arn[i] = compileGlob(parts[i], false)
				}
				cv.arn6 = true
			}
		}
	case famNumeric:
		cv.num, cv.ok = parseNumber(v)
	case famDate:
		cv.t, cv.ok = parseDate(v)
	case famBinary:
		b, err := base64.StdEncoding.DecodeString(v)
		cv.bin, cv.ok = b, err == nil
	case famIP:
		cv.pfx, cv.ok = parsePrefix(v)
	}
	return cv
}

func parseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f, err == nil
}

var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04Z0700",
	"2006-01-02T15:04",
	"2006-01-02",
	"20060102T150405Z0700",
	"20060102T150405Z",
	"20060102",
}

// parseDate accepts ISO 8601 date/time forms and epoch seconds.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if c := s[0]; c == '-' || (c >= '0' && c <= '9') {
		if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "eE") {
			sec := int64(f)
			return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), true
		}
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func parsePrefix(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}

// eval evaluates the condition against the request.
func (c *condition) eval(r *Request) bool {
	vals := r.values(c.key)
	present := len(vals) > 0
	if c.op.fam == famNull {
		for _, want := range c.nullWant {
			if want != present {
				return true
			}
		}
		return false
	}
	if !present {
		switch {
		case c.ifExists:
			return true
		case c.set == setAll:
			return true
		case c.set == setAny:
			return false
		}
		return c.op.negated
	}
	switch c.set {
	case setAll:
		for _, v := range vals {
			if c.anyMatch(v, r) == c.op.negated {
				return false
			}
		}
		return true
	case setAny:
		for _, v := range vals {
			if c.anyMatch(v, r) != c.op.negated {
				return true
			}
		}
		return false
	}
	for _, v := range vals {
		if c.anyMatch(v, r) {
			return !c.op.negated
		}
	}
	return c.op.negated
}

// anyMatch reports whether request value v matches any policy value under
// the operator's positive (non-negated) form.
func (c *condition) anyMatch(v string, r *Request) bool {
	switch c.op.fam {
	case famNumeric:
		n, ok := parseNumber(v)
		if !ok {
			return false
		}
		for i := range c.values {
			cv := &c.values[i]
			if cv.ok && cmpFloat(n, cv.num, c.op.cmp) {
				return true
			}
		}
		return false
	case famDate:
		t, ok := parseDate(v)
		if !ok {
			return false
		}
		for i := range c.values {
			cv := &c.values[i]
			if cv.ok && cmpTime(t, cv.t, c.op.cmp) {
				return true
			}
		}
		return false
	case famIP:
		a, err := netip.ParseAddr(strings.TrimSpace(v))
		if err != nil {
			return false
		}
		a = a.Unmap()
		for i := range c.values {
			cv := &c.values[i]
			if cv.ok && cv.pfx.Contains(a) {
				return true
			}
		}
		return false
	case famBinary:
		b, err := base64.StdEncoding.DecodeString(v)
		for i := range c.values {
			cv := &c.values[i]
			if cv.ok && err == nil {
				if bytes.Equal(b, cv.bin) {
					return true
				}
			} else if v == cv.s {
				return true
			}
		}
		return false
	}
	for i := range c.values {
		if c.matchString(v, &c.values[i], r) {
			return true
		}
	}
	return false
}

func (c *condition) matchString(v string, cv *cvalue, r *Request) bool {
	switch c.op.fam {
	case famString, famStringIC, famBool:
		pv := cv.s
		if cv.vars {
			var ok bool
			if pv, ok = resolveString(cv.toks, r); !ok {
				return false
			}
		}
		if c.op.fam == famString {
			return v == pv
		}
		return strings.EqualFold(v, pv)
	case famStringLike:
		if !cv.vars {
			return cv.g.match(v)
		}
		toks, ok := resolve(cv.toks, r)
		return ok && matchToks(toks, v, false)
	case famArn:
		if !cv.vars {
			if cv.arn6 {
				f, ok := arnFields(v)
				if !ok {
					return false
				}
				for i := range f {
					if !cv.arn[i].match(f[i]) {
						return false
					}
				}
				return true
			}
			return cv.g.mode == gAny // only a bare "*" has fewer than six components and matches
		}
		toks, ok := resolve(cv.toks, r)
		if !ok {
			return false
		}
		parts, six := splitArnToks(toks)
		if !six {
			return len(toks) == 1 && toks[0].typ == tStar
		}
		f, ok := arnFields(v)
		if !ok {
			return false
		}
		for i := range f {
			if !matchToks(parts[i], f[i], false) {
				return false
			}
		}
		return true
	}
	return false
}

func cmpFloat(a, b float64, op uint8) bool {
	switch op {
	case cmpEq:
		return a == b
	case cmpLt:
		return a < b
	case cmpLe:
		return a <= b
	case cmpGt:
		return a > b
	case cmpGe:
		return a >= b
	}
	return false
}

func cmpTime(a, b time.Time, op uint8) bool {
	switch op {
	case cmpEq:
		return a.Equal(b)
	case cmpLt:
		return a.Before(b)
	case cmpLe:
		return !a.After(b)
	case cmpGt:
		return a.After(b)
	case cmpGe:
		return !a.Before(b)
	}
	return false
}
