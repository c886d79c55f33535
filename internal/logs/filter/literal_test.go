package filter

import (
	"bytes"
	"strings"
	"testing"
)

func TestContainsAt(t *testing.T) {
	long := strings.Repeat(`{"a":"true","b":"tru"}`, 20)
	for _, c := range []struct{ s, lit string }{
		{"", ""}, {"", "a"}, {"a", ""}, {"a", "a"}, {"ab", "b"}, {"abc", "abcd"},
		{`{"botName":"OrderFlowers"}`, `"botName"`},
		{`{"botName":"OrderFlowers"}`, "OrderFlowers"},
		{`{"botName":"OrderFlower"}`, "OrderFlowers"},
		{`OrderFlowersOrderFlowers`, "OrderFlowers"},
		{long, "true"}, {long, `"b":"tru"}`}, {long, "trux"}, {long + "trux", "trux"},
		{strings.Repeat("u", 100) + "true", "true"},
		{strings.Repeat("tru", 100), "true"},
	} {
		want := strings.Contains(c.s, c.lit)
		for k := 0; k < max(1, len(c.lit)); k++ {
			if got := containsAt([]byte(c.s), []byte(c.lit), k); got != want {
				t.Errorf("containsAt(%q, %q, %d) = %v, want %v", c.s, c.lit, k, got, want)
			}
		}
	}
	if k := rareIndex([]byte(`"botName"`)); k != 4 {
		t.Errorf(`rareIndex("botName") = %d, want 4 (the N)`, k)
	}
}

// FuzzContainsAt: containsAt agrees with bytes.Contains for every anchor.
func FuzzContainsAt(f *testing.F) {
	f.Add([]byte(`{"missedUtterance":true,"x":"tru true"}`), []byte("true"))
	f.Add([]byte(`aaaaaaaaaaaaaaaaaaaaab`), []byte("aab"))
	f.Add([]byte(`"a""a""a""b"`), []byte(`"b"`))
	f.Fuzz(func(t *testing.T, s, lit []byte) {
		want := bytes.Contains(s, lit)
		for k := 0; k < max(1, len(lit)); k++ {
			if got := containsAt(s, lit, k); got != want {
				t.Fatalf("containsAt(%q, %q, %d) = %v, want %v", s, lit, k, got, want)
			}
		}
	})
}

// TestHintValueChecks: the member-value checks rule out messages whose
// compared member is followed by something else, and keep every message
// the pattern matches (spaces around the colon, nested and duplicate
// members, numbers in every JSON form).
func TestHintValueChecks(t *testing.T) {
	for _, c := range []struct {
		pattern, msg string
		mayMatch     bool
	}{
		{`{ $.n > 0.985 }`, `{"n":0.99}`, true},
		{`{ $.n > 0.985 }`, `{"n" : 9.9e-1 }`, true},
		{`{ $.n > 0.985 }`, `{"n":0.5}`, false},
		{`{ $.n > 0.985 }`, `{"a":[{"n":0.0}],"n":0.99}`, true},
		{`{ $.n > 0.985 }`, `{"a":[{"n":0.99}],"n":0.1}`, true}, // nested occurrence: passes, the scan decides
		{`{ $.n > 0.985 }`, `{"n":"0.99"}`, false},              // strings never compare in order
		{`{ $.n > 0.985 }`, `{"n":1e999}`, false},
		{`{ $.n <= -1 }`, `{"n":-1}`, true},
		{`{ $.n >= 2 }`, `{"n":2,"m":3}`, true},
		{`{ $.n < 2 }`, `{"n":2}`, false},
		{`{ $.a.n > 1 }`, `{"a":{"n":5}}`, true},
		{`{ $.flag IS TRUE }`, `{"flag":true}`, true},
		{`{ $.flag IS TRUE }`, `{"flag":false,"x":true}`, false},
		{`{ $.flag IS TRUE }`, `{"flag":trueish}`, false},
		{`{ $.flag IS FALSE }`, "{\"flag\"\t:\nfalse}", true},
		{`{ $.v IS NULL }`, `{"v":null}`, true},
		{`{ $.bot = "Order" }`, `{"bot":"Order"}`, true},
		{`{ $.bot = "Order" }`, `{"bot":"OrderFlowers"}`, false},
		{`{ $.bot = "Order" }`, `{"bot":"Orde"}`, false},
		{`{ $.bot = "200" }`, `{"bot":200}`, true}, // text comparison with a number
		{`{ $.bot = "200" }`, `{"bot":200.5}`, false},
		{`{ $.bot = "true" }`, `{"bot":true}`, true},
		{`{ $.bot = "Ord*" }`, `{"bot":"OrderFlowers"}`, true}, // wildcard: name only
		{`{ $.bot = "a b" }`, `{"bot":"a b"}`, true},
		{`{ $.bot != "x" }`, `{"bot":"y"}`, true},
		{`{ $.a[0] > 1 }`, `{"a":[5]}`, true},
		{`{ $.n > 1 && $.bot = "X" }`, `{"n":2,"bot":"X"}`, true},
		{`{ $.n > 1 || $.bot = "X" }`, `{"n":0,"bot":"X"}`, true},
		{`{ $.n > 1 || $.bot = "X" }`, `{"n":0,"bot":"Y"}`, false},
	} {
		p, err := Parse(c.pattern)
		if err != nil {
			t.Fatal(err)
		}
		m := p.NewMatcher()
		got := p.Hint().MayMatchHint(m.contains([]byte(c.msg)), true)
		if got != c.mayMatch {
			t.Errorf("%s on %s: hint %v, want %v", c.pattern, c.msg, got, c.mayMatch)
		}
		if p.Match([]byte(c.msg)) && !got {
			t.Errorf("%s on %s: matches but the hint rules it out", c.pattern, c.msg)
		}
	}
}

// FuzzHintValue: a message a pattern matches is never ruled out by the
// matcher's own literal and member-value checks (on messages without
// \u-escaped word characters, where they apply).
func FuzzHintValue(f *testing.F) {
	for _, c := range [][2]string{
		{`{ $.nluIntentConfidence > 0.985 }`, `{"alternativeIntents":[{"nluIntentConfidence":0}],"nluIntentConfidence":0.99}`},
		{`{ $.botName = "OrderFlowers" && $.missedUtterance IS TRUE }`, `{"botName" : "OrderFlowers", "missedUtterance":true}`},
		{`{ $.a.b <= -2.5e1 || $.c IS NULL }`, `{"a":{"b":-25},"c":1}`},
		{`{ $.x = "200" }`, `{"x":200}`},
		{`{ $.x = "y" }`, `{"x":"\u0079"}`},
	} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, pattern, msg string) {
		p, err := Parse(pattern)
		if err != nil || p.Hint() == nil {
			return
		}
		b := []byte(msg)
		if hasAlnumEscape(b) || !p.Match(b) {
			return
		}
		if !p.Hint().MayMatchHint(p.NewMatcher().contains(b), true) {
			t.Fatalf("%s matches %s, its hint rules it out", pattern, msg)
		}
	})
}
