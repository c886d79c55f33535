package main

import (
	"regexp"
	"testing"
)

// TestLexName: putLex's names are valid Lex names (letters, single
// underscores) and differ between the -ab rounds' prefixes, connections
// and calls, so no call of a later round finds its name taken.
func TestLexName(t *testing.T) {
	valid := regexp.MustCompile(`^([A-Za-z]_?)+$`)
	seen := map[string]string{}
	for _, prefix := range []string{"", "off0", "on0", "off1", "on1", "off10", "on10", "a-b"} {
		for conn := 0; conn < 30; conn++ {
			for n := 0; n < 30; n++ {
				name := lexName(prefix, conn, n)
				if !valid.MatchString(name) || len(name) > 100 {
					t.Fatalf("lexName(%q, %d, %d) = %q: not a Lex name", prefix, conn, n, name)
				}
				key := prefix + "/" + string(rune(conn)) + "/" + string(rune(n))
				if prev, dup := seen[name]; dup {
					t.Fatalf("lexName %q for both %s and %s", name, prev, key)
				}
				seen[name] = key
			}
		}
	}
}
