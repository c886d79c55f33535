package lexicon

import "strings"

// Spanish spells a Spanish word with rules onto the en-us phones. Debian
// has no Spanish acoustic model, so a Spanish bot is recognised with the
// English model and these pronunciations:
//
//	vowels      a AA · e EH · i IY · o OW · u UW; unstressed i/u beside a
//	            vowel glide to Y/W (ciudad S Y UW D AA D, bueno B W EH N OW);
//	            ai/ay AY, ei/ey EY, oi/oy OY, au AW
//	consonants  b v → B · c(e,i) z → S or TH · c qu k → K · ch CH · d D
//	            (DH between vowels and at the end, as an alternate) · g(e,i)
//	            j → HH · gu(e,i) G · gü W · h silent · ll y → Y · ñ N Y ·
//	            r rr R · x K S (HH in méxico) · n before g/k NG
//
// Each word gets up to eight pronunciations, the combinations of three
// alternates (SpanishAlternates): seseo or distinción (c/z as S — Latin
// America, the es-419 voice — or TH — Spain, the es voice), the tapped r
// as R or as D (the English flap is the closest sound the English model
// has: "pero" is nearer "peddo" than "pero" with an American r), and
// the vowels e/o as EH/OW or EY/AO. The alternates matter: "barcelona"
// with TH was the fix the dependencies trial needed for the es voice, and
// on the accuracy benchmark the tap and the vowels took Spanish intent
// accuracy from 79% to 87–89%; the d/ð alternate (Approximant) changed
// nothing and is off.
func Spanish(word string) []string {
	w := letters(word, true)
	if len(w) == 0 {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for v := 0; v < 16; v++ {
		if v&^SpanishAlternates != 0 {
			continue
		}
		p := spanish(w, v&Theta != 0, v&Approximant != 0, v&Tap != 0, v&Vowels != 0)
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// Alternate pronunciations Spanish generates.
const (
	Theta       = 1 << iota // c(e,i)/z as TH besides S
	Approximant             // d between vowels and at the end as DH besides D
	Tap                     // the tapped r after a vowel (pero, parque, mar) as D, the English flap, besides R
	Vowels                  // e as EY and o as AO besides EH and OW
)

// SpanishAlternates selects the alternates.
var SpanishAlternates = Theta | Tap | Vowels

func isVowelRune(r rune) bool {
	switch r {
	case 'a', 'e', 'i', 'o', 'u', 'ü':
		return true
	}
	return false
}

func spanish(w []rune, theta, approx, tap, vowels bool) string {
	at := func(i int) rune {
		if i < 0 || i >= len(w) {
			return 0
		}
		return w[i]
	}
	front := func(r rune) bool { return r == 'e' || r == 'i' }
	var ph []string
	add := func(p ...string) { ph = append(ph, p...) }
	sibilant := "S"
	if theta {
		sibilant = "TH"
	}
	word := string(w)
	for i := 0; i < len(w); i++ {
		c, n := w[i], at(i+1)
		prevV := isVowelRune(at(i - 1))
		switch c {
		case 'a':
			if n == 'i' || (n == 'y' && !isVowelRune(at(i+2))) {
				add("AY")
				i++
			} else if n == 'u' {
				add("AW")
				i++
			} else {
				add("AA")
			}
		case 'e':
			if n == 'i' || (n == 'y' && !isVowelRune(at(i+2))) {
				add("EY")
				i++
			} else if vowels {
				add("EY")
			} else {
				add("EH")
			}
		case 'o':
			if n == 'i' || (n == 'y' && !isVowelRune(at(i+2))) {
				add("OY")
				i++
			} else if vowels {
				add("AO")
			} else {
				add("OW")
			}
		case 'i':
			if isVowelRune(n) && n != 'i' && len(w) > 2 {
				add("Y") // ciudad, tiempo
			} else {
				add("IY")
			}
		case 'u', 'ü':
			if (isVowelRune(n) && n != 'u') || (n == 'y' && i+2 == len(w)) {
				add("W") // bueno, cuatro, muy
			} else {
				add("UW")
			}
		case 'b', 'v':
			add("B")
		case 'c':
			switch {
			case n == 'h':
				add("CH")
				i++
			case front(n):
				add(sibilant)
			case n == 'c': // acción: K then the sibilant
				add("K")
			default:
				add("K")
			}
		case 'd':
			if approx && (prevV || i == len(w)-1) && i > 0 {
				add("DH")
			} else {
				add("D")
			}
		case 'f':
			add("F")
		case 'g':
			switch {
			case front(n):
				add("HH")
			case n == 'u' && front(at(i+2)):
				add("G")
				i++ // the u is silent
			default:
				add("G")
			}
		case 'h':
			// silent
		case 'j':
			add("HH")
		case 'k':
			add("K")
		case 'l':
			if n == 'l' {
				add("Y")
				i++
			} else {
				add("L")
			}
		case 'm':
			add("M")
		case 'n':
			if n == 'g' || n == 'k' || (n == 'c' && !front(at(i+2))) || n == 'q' {
				add("NG")
			} else {
				add("N")
			}
		case 'ñ':
			add("N", "Y")
		case 'p':
			add("P")
		case 'q':
			add("K")
			if n == 'u' {
				i++
			}
		case 'r':
			if tap && n != 'r' && prevV {
				add("D")
			} else {
				add("R")
			}
			if n == 'r' {
				i++
			}
		case 's':
			add("S")
		case 't':
			add("T")
		case 'w':
			add("W")
		case 'x':
			if strings.HasPrefix(word, "mex") || strings.HasPrefix(word, "oax") || strings.HasPrefix(word, "texas") {
				add("HH")
			} else if i == 0 {
				add("S")
			} else {
				add("K", "S")
			}
		case 'y':
			switch {
			case len(w) == 1:
				add("IY") // the conjunction
			case i == len(w)-1 && prevV:
				add("IY") // hoy, muy (after a vowel the diphthong cases above took most)
			default:
				add("Y")
			}
		case 'z':
			add(sibilant)
		}
	}
	// collapse doubled consonants (perro, acción → one K is enough)
	var out []string
	for _, p := range ph {
		if len(out) > 0 && out[len(out)-1] == p && !isVowelPhone(p) {
			continue
		}
		out = append(out, p)
	}
	return strings.Join(out, " ")
}
