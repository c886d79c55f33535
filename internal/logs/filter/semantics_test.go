package filter

import (
	"strings"
	"testing"
)

// TestJSONMatchEdges: JSON patterns answer on what the document says, not
// on where a compared member's name happens to occur in its bytes (the
// hint's member-value checks only rule out; the scan decides), through a
// fresh Matcher, a long-lived one, and MatchUnescaped where it applies.
// The answers are the same as before the hint checks existed.
func TestJSONMatchEdges(t *testing.T) {
	cases := []struct {
		pattern, msg string
		want         bool
	}{
		{`{ $.n > 0.985 }`, `{"s":"\"n\":0.1","n":0.99}`, true},
		{`{ $.n > 0.985 }`, `{"s":"\"n\":0.99","n":0.1}`, false},
		{`{ $.n > 0.985 }`, `{"s":"\"n\":0.99"}`, false},
		{`{ $.n > 0.985 }`, `{"\u006e":0.99}`, true},
		{`{ $.n > 0.985 }`, `{"n" :  1E0}`, true},
		{`{ $.n > 0.985 }`, `{"n":0.985}`, false},
		{`{ $.n >= 0.985 }`, `{"n":0.985}`, true},
		{`{ $.n > 0.985 }`, `{"m":{"n":0.99}}`, false},
		{`{ $.n > 0.985 }`, `{"m":{"n":0.1},"n":2}`, true},
		{`{ $.n < 0 }`, `{"n":-0.0}`, false},
		{`{ $.n < 0 }`, `{"n":-1e-9}`, true},
		{`{ $.n = 5 }`, `{"n":5.0}`, true},
		{`{ $.n != 5 }`, `{"n":6}`, true},
		{`{ $.flag IS TRUE }`, `{"x":{"flag":true},"flag":false}`, false},
		{`{ $.flag IS TRUE }`, `{"flag":false,"x":{"flag":true}}`, false},
		{`{ $.flag IS TRUE }`, `{"flag" : true }`, true},
		{`{ $.flag IS FALSE }`, `{"flag":true}`, false},
		{`{ $.v IS NULL }`, `{"v":0}`, false},
		{`{ $.bot = "X" }`, `{"bot" : "X"}`, true},
		{`{ $.bot = "X" }`, `{"bot":"X\""}`, false},
		{`{ $.bot = "X" }`, `{"bot":"\u0058"}`, true},
		{`{ $.bot = "X" }`, `{"other":"X","bot":"Y"}`, false},
		{`{ $.bot = "Order*" }`, `{"bot":"OrderFlowers"}`, true},
		{`{ $.bot = "Order*" }`, `{"bot":"BookOrder"}`, false},
		{`{ $.a.b = "c" }`, `{"a":{"b":"c"}}`, true},
		{`{ $.a.b = "c" }`, `{"b":"c","a":{"b":"d"}}`, false},
		{`{ $.botName = "OrderFlowers" && $.missedUtterance IS TRUE }`, `{"botName":"OrderFlowers","missedUtterance":true}`, true},
		{`{ $.botName = "OrderFlowers" && $.missedUtterance IS TRUE }`, `{"botName":"OrderFlowers","missedUtterance":false,"x":{"missedUtterance":true}}`, false},
		{`{ $.botName = "OrderFlowers" && $.missedUtterance IS TRUE }`, `{"x":"\"botName\":\"OrderFlowers\"","botName":"BookTrip","missedUtterance":true}`, false},
		{`{ $.botName = "OrderFlowers" || $.n > 1 }`, `{"botName":"BookTrip","n":2}`, true},
		{`{ $.botName = "OrderFlowers" || $.n > 1 }`, `{"botName":"BookTrip","n":1}`, false},
		{`{ $.n > 0.985 }`, `not json "n":0.99`, false},
	}
	long := map[string]*Matcher{}
	for _, c := range cases {
		p, err := Parse(c.pattern)
		if err != nil {
			t.Fatalf("%s: %v", c.pattern, err)
		}
		if long[c.pattern] == nil {
			long[c.pattern] = p.NewMatcher()
		}
		msg := []byte(c.msg)
		if got := p.Match(msg); got != c.want {
			t.Errorf("%s on %s: Match %v, want %v", c.pattern, c.msg, got, c.want)
		}
		if got := long[c.pattern].Match(msg); got != c.want {
			t.Errorf("%s on %s: long-lived Match %v, want %v", c.pattern, c.msg, got, c.want)
		}
		if !strings.Contains(c.msg, `\u`) {
			if got := p.NewMatcher().MatchUnescaped(msg); got != c.want {
				t.Errorf("%s on %s: MatchUnescaped %v, want %v", c.pattern, c.msg, got, c.want)
			}
		}
	}
}
