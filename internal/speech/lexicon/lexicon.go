// Package lexicon owns pronunciations: words spelled in the phone set of
// the pocketsphinx en-us acoustic model (the 39 CMU phones, no stress
// marks). English words come from the CMU dictionary that
// pocketsphinx-en-us installs (cmudict-en-us.dict), with letter-to-sound
// rules for words it lacks; Spanish words are always spelled by rules
// (Spanish orthography is close to phonemic) and mapped onto the English
// phones, since Debian ships no Spanish acoustic model — see Spanish.
package lexicon

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"unicode"
)

// Phones is the en-us model's phone set (without SIL and the fillers).
var Phones = strings.Fields("AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH")

var phoneSet = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range Phones {
		m[p] = true
	}
	return m
}()

// Valid reports whether every phone of a pronunciation is in Phones.
func Valid(pron string) bool {
	f := strings.Fields(pron)
	if len(f) == 0 {
		return false
	}
	for _, p := range f {
		if !phoneSet[p] {
			return false
		}
	}
	return true
}

// CMU is a loaded pronunciation dictionary (word → pronunciations, first
// the primary one). Safe for concurrent use.
type CMU struct {
	m map[string][]string
}

// LoadCMU reads a dictionary in the CMU/pocketsphinx format: "word PH PH
// …" per line, alternates as "word(2) …", comments after "#".
func LoadCMU(path string) (*CMU, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadCMU(f)
}

// ReadCMU parses a dictionary from r.
func ReadCMU(r io.Reader) (*CMU, error) {
	c := &CMU{m: make(map[string][]string, 140000)}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		w := f[0]
		if i := strings.IndexByte(w, '('); i > 0 && strings.HasSuffix(w, ")") {
			w = w[:i]
		}
		pron := strings.Join(f[1:], " ")
		if !Valid(pron) {
			return nil, fmt.Errorf("dictionary line %d: phones %q outside the en-us phone set", n, pron)
		}
		w = strings.ToLower(w)
		c.m[w] = append(c.m[w], pron)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// Lookup returns the dictionary's pronunciations of word (lower case).
func (c *CMU) Lookup(word string) []string {
	if c == nil {
		return nil
	}
	return c.m[word]
}

// Len is the number of words.
func (c *CMU) Len() int {
	if c == nil {
		return 0
	}
	return len(c.m)
}

var (
	sharedMu sync.Mutex
	shared   = map[string]*cmuEntry{}
)

type cmuEntry struct {
	once sync.Once
	c    *CMU
	err  error
}

// Shared loads the dictionary at path once per process (it is 3.5 MB and
// takes a few tens of milliseconds) and returns the same *CMU afterwards.
func Shared(path string) (*CMU, error) {
	sharedMu.Lock()
	e := shared[path]
	if e == nil {
		e = &cmuEntry{}
		shared[path] = e
	}
	sharedMu.Unlock()
	e.once.Do(func() { e.c, e.err = LoadCMU(path) })
	return e.c, e.err
}

// Pronounce returns the pronunciations of a lower-case word for a
// language ("en" or "es"). byRule is true when they come from
// letter-to-sound rules rather than the dictionary.
func Pronounce(word, lang string, cmu *CMU) (prons []string, byRule bool) {
	if lang == "es" {
		return Spanish(word), true
	}
	if p := cmu.Lookup(word); len(p) > 0 {
		return withYod(word, p), false
	}
	if p := English(word); p != "" {
		return []string{p}, true
	}
	return nil, true
}

// withYod adds the "yod" variant of an American pronunciation: tulip,
// tune, new, duty with T/D/N/S/L + Y UW besides T/D/N/S/L + UW (CMU
// drops the yod after these consonants; British English and espeak-ng's
// en-us voice keep it — "tulips" was heard as "lilies" without it). Only
// for words spelled with u, eu or ew after the consonant.
func withYod(word string, prons []string) []string {
	spelled := false
	for _, c := range []string{"tu", "du", "nu", "su", "lu", "thu", "tew", "dew", "new", "neu", "deu", "teu"} {
		if strings.Contains(word, c) {
			spelled = true
			break
		}
	}
	if !spelled {
		return prons
	}
	out := prons
	seen := map[string]bool{}
	for _, p := range prons {
		seen[p] = true
	}
	for _, p := range prons {
		f := strings.Fields(p)
		for i := 1; i < len(f); i++ {
			if f[i] != "UW" {
				continue
			}
			switch f[i-1] {
			case "T", "D", "N", "S", "L", "TH":
				v := strings.Join(append(append(append([]string{}, f[:i]...), "Y"), f[i:]...), " ")
				if !seen[v] {
					seen[v] = true
					out = append(out, v)
				}
			}
			break
		}
	}
	return out
}

// letters keeps the lower-case letters of w (accents folded except ñ for
// Spanish) and drops everything else.
func letters(w string, keepEnye bool) []rune {
	var out []rune
	for _, r := range strings.ToLower(w) {
		switch r {
		case 'á', 'à', 'â', 'ä':
			r = 'a'
		case 'é', 'è', 'ê', 'ë':
			r = 'e'
		case 'í', 'ì', 'î', 'ï':
			r = 'i'
		case 'ó', 'ò', 'ô', 'ö':
			r = 'o'
		case 'ú', 'ù', 'û':
			r = 'u'
		case 'ü':
			if !keepEnye {
				r = 'u'
			}
		case 'ñ':
			if !keepEnye {
				r = 'n'
			}
		case 'ç':
			r = 'c'
		}
		if (r >= 'a' && r <= 'z') || r == 'ñ' || r == 'ü' {
			out = append(out, r)
		} else if unicode.IsLetter(r) {
			continue
		}
	}
	return out
}
