package asr

import (
	"strings"
	"unicode"
)

// tokenize turns written text into the spoken words a grammar holds:
// lower case, punctuation dropped (apostrophes inside English words
// kept: "i'd", "o'clock"), digits spelled out as number words, a few
// symbols read aloud. {Slot} placeholders stay as single tokens.
func tokenize(text, lang string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) == 0 {
			return
		}
		w := strings.Trim(string(cur), "'")
		cur = cur[:0]
		if w == "" || !pronounceable(w) {
			return // no letter the phone rules can read (another script)
		}
		if isDigits(w) {
			out = append(out, numberWords(w, lang)...)
			return
		}
		// letters glued to digits ("3pm", "a1"): split them
		if hasDigit(w) {
			var run []rune
			digit := false
			for _, r := range w {
				if len(run) > 0 && unicode.IsDigit(r) != digit {
					out = append(out, tokenize(string(run), lang)...)
					run = run[:0]
				}
				digit = unicode.IsDigit(r)
				run = append(run, r)
			}
			out = append(out, tokenize(string(run), lang)...)
			return
		}
		out = append(out, w)
	}
	rs := []rune(strings.ToLower(text))
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '{':
			flush()
			j := i + 1
			for j < len(rs) && rs[j] != '}' {
				j++
			}
			if j < len(rs) {
				out = append(out, "{"+string(rs[i+1:j])+"}")
				i = j
			}
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			cur = append(cur, r)
		case r == '\'' || r == '’':
			if lang == "en" && len(cur) > 0 && i+1 < len(rs) && unicode.IsLetter(rs[i+1]) {
				cur = append(cur, '\'')
			} else {
				flush()
			}
		case r == '%':
			flush()
			if lang == "es" {
				out = append(out, "por", "ciento")
			} else {
				out = append(out, "percent")
			}
		case r == '&':
			flush()
			if lang == "es" {
				out = append(out, "y")
			} else {
				out = append(out, "and")
			}
		case r == '@':
			flush()
			if lang == "es" {
				out = append(out, "arroba")
			} else {
				out = append(out, "at")
			}
		default:
			flush()
		}
	}
	flush()
	return out
}

// pronounceable: the word has a Latin letter or a digit.
func pronounceable(w string) bool {
	for _, r := range strings.ToLower(w) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || strings.ContainsRune("áéíóúüñàèìòùâêîôûäëïöç", r) {
			return true
		}
	}
	return false
}

func isDigits(w string) bool {
	for _, r := range w {
		if r < '0' || r > '9' {
			return false
		}
	}
	return w != ""
}

func hasDigit(w string) bool {
	for _, r := range w {
		if unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

var (
	enUnits = strings.Fields("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen")
	enTens  = strings.Fields("_ _ twenty thirty forty fifty sixty seventy eighty ninety")
	esUnits = strings.Fields("cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince dieciséis diecisiete dieciocho diecinueve veinte veintiuno veintidós veintitrés veinticuatro veinticinco veintiséis veintisiete veintiocho veintinueve")
	esTens  = strings.Fields("_ _ veinte treinta cuarenta cincuenta sesenta setenta ochenta noventa")
	esHund  = strings.Fields("_ ciento doscientos trescientos cuatrocientos quinientos seiscientos setecientos ochocientos novecientos")
)

// numberWords reads a digit string: as a number up to 999,999, digit by
// digit beyond that (codes, phone numbers) or with a leading zero.
func numberWords(d string, lang string) []string {
	if len(d) > 6 || (len(d) > 1 && d[0] == '0') {
		var out []string
		for _, r := range d {
			out = append(out, numberWords(string(r), lang)...)
		}
		return out
	}
	n := 0
	for _, r := range d {
		n = n*10 + int(r-'0')
	}
	if lang == "es" {
		return strings.Fields(spanishNumber(n))
	}
	return strings.Fields(englishNumber(n))
}

func englishNumber(n int) string {
	switch {
	case n < 20:
		return enUnits[n]
	case n < 100:
		if n%10 == 0 {
			return enTens[n/10]
		}
		return enTens[n/10] + " " + enUnits[n%10]
	case n < 1000:
		s := enUnits[n/100] + " hundred"
		if n%100 != 0 {
			s += " " + englishNumber(n%100)
		}
		return s
	default:
		s := englishNumber(n/1000) + " thousand"
		if n%1000 != 0 {
			s += " " + englishNumber(n%1000)
		}
		return s
	}
}

func spanishNumber(n int) string {
	switch {
	case n < 30:
		return esUnits[n]
	case n < 100:
		if n%10 == 0 {
			return esTens[n/10]
		}
		return esTens[n/10] + " y " + esUnits[n%10]
	case n == 100:
		return "cien"
	case n < 1000:
		s := esHund[n/100]
		if n%100 != 0 {
			s += " " + spanishNumber(n%100)
		}
		return s
	default:
		s := "mil"
		if n/1000 > 1 {
			s = spanishNumber(n/1000) + " mil"
		}
		if n%1000 != 0 {
			s += " " + spanishNumber(n%1000)
		}
		return s
	}
}
