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
