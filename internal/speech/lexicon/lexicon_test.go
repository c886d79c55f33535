package lexicon_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"lextrail/internal/speech/lexicon"
	"lextrail/internal/speech/speechtest"
)

func TestSpanish(t *testing.T) {
	for _, c := range []struct {
		word string
		want []string // every one must be among the pronunciations
	}{
		{"barcelona", []string{"B AA R S EH L OW N AA", "B AA R TH EH L OW N AA"}},
		{"ciudad", []string{"S Y UW D AA D", "TH Y UW D AA D"}},
		{"habitación", []string{"AA B IY T AA S Y OW N", "AA B IY T AA TH Y OW N"}},
		{"mañana", []string{"M AA N Y AA N AA"}},
		{"quiero", []string{"K Y EH R OW", "K Y EH D OW", "K Y EY R AO", "K Y EY D AO"}},
		{"reservar", []string{"R EH S EH R B AA R", "R EH S EH D B AA D"}},
		{"perro", []string{"P EH R OW"}},
		{"honra", []string{"OW N R AA"}},
		{"guerra", []string{"G EH R AA"}},
		{"gente", []string{"HH EH N T EH"}},
		{"pingüino", []string{"P IY NG G W IY N OW"}},
		{"calle", []string{"K AA Y EH"}},
		{"hotel", []string{"OW T EH L"}},
		{"hoy", []string{"OY"}},
		{"muy", []string{"M W IY"}},
		{"y", []string{"IY"}},
		{"veinte", []string{"B EY N T EH"}},
		{"cuatro", []string{"K W AA T R OW"}},
		{"méxico", []string{"M EH HH IY K OW"}},
		{"excelente", []string{"EH K S EH L EH N T EH", "EH K S TH EH L EH N T EH"}},
		{"nada", []string{"N AA D AA"}},
	} {
		got := lexicon.Spanish(c.word)
		if len(got) > 8 {
			t.Errorf("%s: %d pronunciations", c.word, len(got))
		}
		for _, w := range c.want {
			found := false
			for _, g := range got {
				found = found || g == w
			}
			if !found {
				t.Errorf("%s: %q not among %q", c.word, w, got)
			}
		}
		for _, g := range got {
			if !lexicon.Valid(g) {
				t.Errorf("%s: invalid %q", c.word, g)
			}
		}
	}
}

func TestEnglishRules(t *testing.T) {
	for _, c := range []struct{ word, want string }{
		{"lextrail", "L EH K S T R EY L"},
		{"bake", "B EY K"},
		{"bat", "B AE T"},
		{"sheep", "SH IY P"},
		{"night", "N AY T"},
		{"station", "S T EY SH AH N"},
		{"phone", "F OW N"},
		{"quick", "K W IH K"},
		{"city", "S IH T IY"},
		{"my", "M AY"},
		{"zorbix", "Z AO R B IH K S"},
		{"knot", "N AA T"},
	} {
		if got := lexicon.English(c.word); got != c.want {
			t.Errorf("English(%q) = %q, want %q", c.word, got, c.want)
		}
	}
	if lexicon.English("123") != "" {
		t.Error("digits have no letter-to-sound pronunciation")
	}
}

// TestEnglishRulesAgainstCMU scores the rules against the dictionary on
// a sample of common words: it must never emit an invalid phone and must
// get most phones right (phone error rate below 25% on common words; the
// rules are a fallback for names and brands).
func TestEnglishRulesAgainstCMU(t *testing.T) {
	path := filepath.Join(speechtest.ModelDir, "cmudict-en-us.dict")
	if _, err := os.Stat(path); err != nil {
		speechtest.Require(t, "model")
	}
	cmu, err := lexicon.Shared(path)
	if err != nil {
		t.Fatal(err)
	}
	if cmu.Len() < 100000 {
		t.Fatalf("dictionary has %d words", cmu.Len())
	}
	if p := cmu.Lookup("tomorrow"); len(p) == 0 || p[0] != "T AH M AA R OW" {
		t.Errorf("tomorrow: %q", p)
	}
	words := strings.Fields("order flowers roses tulips lilies pickup date time hotel book city night reservation cancel status track shipped arrive open close hours today tomorrow friday monday morning evening weather rain help stop repeat account balance transfer money checking savings card pay bill send bouquet bunch would like want need please thanks great fine sunday store shop")
	errs, total := 0, 0
	for _, w := range words {
		refs := cmu.Lookup(w)
		if len(refs) == 0 {
			t.Fatalf("%s not in the dictionary", w)
		}
		got := lexicon.English(w)
		if !lexicon.Valid(got) {
			t.Errorf("%s: invalid %q", w, got)
			continue
		}
		best := 1 << 30
		for _, r := range refs {
			if d := editDistance(strings.Fields(got), strings.Fields(r)); d < best {
				best = d
			}
		}
		errs += best
		total += len(strings.Fields(refs[0]))
	}
	per := float64(errs) / float64(total)
	t.Logf("English rules: phone error rate %.1f%% over %d dictionary words", 100*per, len(words))
	if per > 0.25 {
		t.Errorf("phone error rate %.1f%%", 100*per)
	}
}

func editDistance(a, b []string) int {
	d := make([]int, len(b)+1)
	for j := range d {
		d[j] = j
	}
	for i := 1; i <= len(a); i++ {
		prev := d[0]
		d[0] = i
		for j := 1; j <= len(b); j++ {
			cur := d[j]
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[j] = min(d[j]+1, d[j-1]+1, prev+cost)
			prev = cur
		}
	}
	return d[len(b)]
}

func TestReadCMU(t *testing.T) {
	c, err := lexicon.ReadCMU(strings.NewReader("hello HH AH L OW\nhello(2) HH EH L OW # alt\n\nworld W ER L D\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := c.Lookup("hello")
	sort.Strings(got)
	if len(got) != 2 || c.Len() != 2 {
		t.Errorf("%q %d", got, c.Len())
	}
	if _, err := lexicon.ReadCMU(strings.NewReader("bad XX YY\n")); err == nil {
		t.Error("invalid phones accepted")
	}
	if p, byRule := lexicon.Pronounce("zorbix", "en", c); !byRule || len(p) != 1 {
		t.Errorf("oov: %q %v", p, byRule)
	}
	c2, _ := lexicon.ReadCMU(strings.NewReader("tulips T UW L AH P S\nnew N UW\nnew(2) N Y UW\nboot B UW T\n"))
	if p, _ := lexicon.Pronounce("tulips", "en", c2); len(p) != 2 || p[1] != "T Y UW L AH P S" {
		t.Errorf("yod: %q", p)
	}
	if p, _ := lexicon.Pronounce("new", "en", c2); len(p) != 2 {
		t.Errorf("yod already there: %q", p)
	}
	if p, _ := lexicon.Pronounce("boot", "en", c2); len(p) != 1 {
		t.Errorf("no yod after B: %q", p)
	}
	if p, byRule := lexicon.Pronounce("world", "en", c); byRule || p[0] != "W ER L D" {
		t.Errorf("in vocabulary: %q %v", p, byRule)
	}
	if p, byRule := lexicon.Pronounce("mundo", "es", c); !byRule || p[0] != "M UW N D OW" || len(p) != 2 {
		t.Errorf("spanish: %q %v", p, byRule)
	}
}
