// Package nlu is lextrail's language layer for the Lex V1 runtime:
// normalisation, the intent classifier, slot filling for custom and
// built-in slot types, and a lexicon-based sentiment analyser, for the
// English (en-US, en-GB, en-AU) and Spanish (es-US, es-ES, es-419) locales.
//
// The model build calls Compile with a plain ModelSpec and stores
// Model.Marshal(); the runtime calls Load once per bot version and keeps the
// *Model (it is immutable and safe for concurrent use).
package nlu

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"github.com/kljensen/snowball/spanish"
	"golang.org/x/text/unicode/norm"
)

// Lang is the language of a locale: "en" or "es".
type Lang string

// LangOf maps a Lex locale (en-US, en-GB, en-AU, es-US, es-ES, es-419, …)
// to its language; anything not Spanish is treated as English.
func LangOf(locale string) Lang {
	if strings.HasPrefix(strings.ToLower(locale), "es") {
		return "es"
	}
	return "en"
}

// Token is one word of an utterance.
type Token struct {
	Raw   string // as typed
	Norm  string // lower-cased, accents folded (ñ kept), apostrophes dropped
	Stem  string // snowball stem of Norm (Norm itself for numbers and symbols)
	Start int    // byte offsets of Raw in the utterance
	End   int
}

// Fold lower-cases s and removes diacritics, except that ñ stays ñ (in
// Spanish "año" and "ano" are different words) and ü is folded to u.
// Apostrophes are removed, so "don't" and "dont" fold alike.
func Fold(s string) string {
	if f, ok := foldASCII(s); ok {
		return f
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case r == '\u0303': // combining tilde: keep only on n
			str := b.String()
			if strings.HasSuffix(str, "n") {
				b.Reset()
				b.WriteString(str[:len(str)-1])
				b.WriteRune('ñ')
			}
		case unicode.Is(unicode.Mn, r):
		case r == '\'' || r == '’' || r == '‘':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// foldASCII is Fold for ASCII text, without the Unicode normalisation.
func foldASCII(s string) (string, bool) {
	lower := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return "", false
		}
		if c >= 'A' && c <= 'Z' || c == '\'' {
			lower = false
		}
	}
	if lower {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// Tokenize splits an utterance into tokens. Words are runs of letters and
// digits; apostrophes inside words are dropped ("don't" → "dont"); a run
// of digits joined by ':', '/', '.', ',' or '-' stays one token ("15:30",
// "12/03/2026", "3.5", "1,000", "555-1234"); anything containing '@' up to
// the next space stays one token (e-mail addresses); '%' and '+' are
// tokens of their own; "a.m."/"p.m." become "am"/"pm". Other punctuation
// separates tokens and is dropped.
func Tokenize(s string, lang Lang) []Token {
	var out []Token
	i := 0
	for i < len(s) {
		r, w := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '%' || r == '+':
			out = append(out, Token{Raw: s[i : i+w], Norm: string(r), Stem: string(r), Start: i, End: i + w})
			i += w
			continue
		case !isWordRune(r):
			i += w
			continue
		}
		// e-mail: scan to the next space; if it holds '@', keep it whole.
		j := i
		for j < len(s) {
			r2, w2 := utf8.DecodeRuneInString(s[j:])
			if unicode.IsSpace(r2) {
				break
			}
			j += w2
		}
		if at := strings.IndexByte(s[i:j], '@'); at > 0 {
			e := strings.TrimRight(s[i:j], ".,;:!?)\"'")
			out = append(out, mkToken(s, i, i+len(e), lang))
			i += len(e)
			continue
		}
		j = i
		digits := unicode.IsDigit(r)
		for j < len(s) {
			r2, w2 := utf8.DecodeRuneInString(s[j:])
			if isWordRune(r2) {
				j += w2
				continue
			}
			if j+w2 < len(s) {
				n, _ := utf8.DecodeRuneInString(s[j+w2:])
				if (r2 == '\'' || r2 == '’') && unicode.IsLetter(n) && j > i {
					j += w2
					continue
				}
				if digits && strings.ContainsRune(":/.,-", r2) && unicode.IsDigit(n) {
					j += w2
					continue
				}
				if r2 == '-' && isWordRune(n) {
					// hyphenated words stay joined ("twenty-two", "e-mail")
					j += w2
					continue
				}
				if r2 == '.' && j-i == 1 && unicode.IsLetter(n) { // a.m.
					j += w2
					continue
				}
			}
			break
		}
		t := mkToken(s, i, j, lang)
		if t.Norm == "a.m" || t.Norm == "p.m" {
			t.Norm = strings.ReplaceAll(t.Norm, ".", "")
			t.Stem = t.Norm
			if j < len(s) && s[j] == '.' {
				j++
				t.End = j
				t.Raw = s[t.Start:j]
			}
		}
		out = append(out, t)
		i = j
	}
	return out
}

func mkToken(s string, i, j int, lang Lang) Token {
	raw := s[i:j]
	n := Fold(raw)
	return Token{Raw: raw, Norm: n, Stem: Stem(n, lang), Start: i, End: j}
}

// Stem returns the snowball stem of a folded word; tokens holding digits
// or symbols are returned unchanged. English stems map British spellings
// through the stemmer as is (colour/color stay distinct; the fuzzy matcher
// covers them).
func Stem(w string, lang Lang) string {
	for _, r := range w {
		if !unicode.IsLetter(r) && r != '-' {
			return w
		}
	}
	memo := &stemMemo[0]
	if lang == "es" {
		memo = &stemMemo[1]
	}
	memo.mu.RLock()
	st, ok := memo.m[w]
	memo.mu.RUnlock()
	if ok {
		return st
	}
	if lang == "es" {
		st = spanish.Stem(w, true)
	} else {
		st = english.Stem(w, true)
	}
	memo.mu.Lock()
	if len(memo.m) < maxStemMemo {
		if memo.m == nil {
			memo.m = map[string]string{}
		}
		memo.m[w] = st
	}
	memo.mu.Unlock()
	return st
}

// stemMemo remembers stems (a pure function of word and language: [0]
// English, [1] Spanish), bounded so that arbitrary input cannot grow it
// without limit. A map under a read lock, not a sync.Map: a lookup
// allocates nothing (sync.Map's key is an interface, and the key was the
// language and the word concatenated).
var stemMemo [2]struct {
	mu sync.RWMutex
	m  map[string]string
}

const maxStemMemo = 100000

// stopWords are function words. They are never removed (so "to" in "from
// Boston to Chicago" still anchors slots, and "not" keeps its meaning);
// they only weigh less in classification.
var stopWords = map[Lang]map[string]bool{
	"en": set("a an the i me my we our you your it its is am are be to of in on at for with and or please would like want "+
		"can could will shall should do does did this that these those some any just so i'd im id ive ill "+
		"hi hello hey thanks thank there here get got need", ""),
	"es": set("un una unos unas el la los las lo de del al a en con por para y o que me mi mis te tu tus se su sus "+
		"yo es son ser estar esta este esto eso esa ese quiero quisiera querria gustaria podria puede puedes por favor "+
		"hola gracias necesito le les nos", ""),
}

func set(words, _ string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// negations are never down-weighted and flip sentiment.
var negations = set("not no never dont doesnt didnt cant cannot wont isnt arent wasnt nunca jamas tampoco ni nada nadie", "")
