package jsonenc

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// stdString is encoding/json's encoding of s without HTML escaping.
func stdString(t testing.TB, s string) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// TestAppendStringEqualsEncodingJSON puts every byte value that needs
// attention (and a few that do not) at every offset of strings longer
// than the eight-byte fast path, so that both paths and their hand-over
// are compared with encoding/json.
func TestAppendStringEqualsEncodingJSON(t *testing.T) {
	specials := []string{"\"", "\\", "\x00", "\x01", "\x1f", "\n", "\t", "\x7f", " ", "~", "<", "é", "\u2028", "\u2029",
		"\xff", "\xc3", "€", "𝄞", "\xe2\x80"}
	for _, sp := range specials {
		for n := 0; n < 26; n++ {
			for at := 0; at <= n; at++ {
				s := strings.Repeat("a", at) + sp + strings.Repeat("b", n-at)
				if got, want := AppendString(nil, s), stdString(t, s); !bytes.Equal(got, want) {
					t.Fatalf("%q: got %s want %s", s, got, want)
				}
			}
		}
	}
	for _, s := range []string{"", strings.Repeat("x", 1000), strings.Repeat("\"", 17), strings.Repeat("é", 9)} {
		if got, want := AppendString(nil, s), stdString(t, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s want %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain ascii text of some length", "quote\" back\\ nl\n", "é\u2028\xff", "aaaaaaa\x01bbbbbbbb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := AppendString(nil, s), stdString(t, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s want %s", s, got, want)
		}
	})
}

func TestAppendMapEqualsEncodingJSON(t *testing.T) {
	for _, m := range []map[string]string{nil, {}, {"b": "2", "a": "1", "é": "\u2028", "A": "<&>"}} {
		got := AppendMap(nil, m, AppendString)
		var want bytes.Buffer
		e := json.NewEncoder(&want)
		e.SetEscapeHTML(false)
		if m == nil {
			m = map[string]string{} // AppendMap writes {} for nil, as a document member would be
		}
		if err := e.Encode(m); err != nil {
			t.Fatal(err)
		}
		if string(got) != strings.TrimSuffix(want.String(), "\n") {
			t.Fatalf("AppendMap %v = %s, want %s", m, got, want.String())
		}
	}
}
