package builtin

import (
	"strconv"
	"strings"
	"unicode"
)

// parseDuration renders ISO 8601 durations: "two hours" → PT2H, "3 days"
// → P3D, "two weeks" → P2W, "an hour and a half" → PT1H30M, "half an
// hour" → PT30M, "90 minutes" → PT90M, "media hora" → PT30M, "dos horas
// y media" → PT2H30M.
func parseDuration(in *Input, i int) (int, string) {
	var amt [7]float64
	any := false
	e := i
	for {
		w := in.at(e)
		switch {
		case w == "half" && (in.at(e+1) == "an" || in.at(e+1) == "a") && units[in.at(e+2)] >= 0 && in.at(e+2) != "":
			if u, ok := units[in.at(e+2)]; ok {
				amt[u] += 0.5
				e, any = e+3, true
				continue
			}
		case w == "media" || w == "medio":
			if u, ok := units[in.at(e+1)]; ok {
				amt[u] += 0.5
				e, any = e+2, true
				continue
			}
		}
		e2, n, u := in.count(e)
		if e2 == e {
			// "one and a half hours"
			if e3, v, isI := in.number(e); e3 > e && isI && in.at(e3) == "and" && in.at(e3+1) == "a" && in.at(e3+2) == "half" {
				if u, ok := units[in.at(e3+3)]; ok {
					amt[u] += v + 0.5
					e, any = e3+4, true
					continue
				}
			}
			break
		}
		amt[u] += float64(n)
		e, any = e2, true
		// "and a half", "y media"
		if (in.at(e) == "and" && in.at(e+1) == "a" && in.at(e+2) == "half") || (in.at(e) == "y" && (in.at(e+1) == "media" || in.at(e+1) == "medio")) {
			amt[u] += 0.5
			if in.at(e) == "and" {
				e += 3
			} else {
				e += 2
			}
		}
		if (in.at(e) == "and" || in.at(e) == "y") && in.at(e+1) != "" {
			if e3, _, _ := in.count(e + 1); e3 > e+1 {
				e++
			}
		}
	}
	if !any {
		return i, ""
	}
	return e, isoDuration(amt)
}

func isoDuration(a [7]float64) string {
	// carry halves down: 0.5 h → 30 min, 0.5 d → 12 h, 0.5 week → 3.5 d → 84 h
	carry := []struct {
		from, to unit
		f        float64
	}{{uYear, uMonth, 12}, {uMonth, uDay, 30}, {uWeek, uDay, 7}, {uDay, uHour, 24}, {uHour, uMinute, 60}, {uMinute, uSecond, 60}}
	for _, c := range carry {
		if frac := a[c.from] - float64(int64(a[c.from])); frac != 0 {
			a[c.from] -= frac
			a[c.to] += frac * c.f
		}
	}
	if a[uWeek] != 0 && (a[uYear] != 0 || a[uMonth] != 0 || a[uDay] != 0 || a[uHour] != 0 || a[uMinute] != 0 || a[uSecond] != 0) {
		a[uDay] += 7 * a[uWeek]
		a[uWeek] = 0
	}
	var b strings.Builder
	b.WriteByte('P')
	put := func(v float64, s string) {
		if v != 0 {
			b.WriteString(strconv.FormatFloat(v, 'f', -1, 64))
			b.WriteString(s)
		}
	}
	put(a[uYear], "Y")
	put(a[uMonth], "M")
	put(a[uWeek], "W")
	put(a[uDay], "D")
	if a[uHour] != 0 || a[uMinute] != 0 || a[uSecond] != 0 {
		b.WriteByte('T')
		put(a[uHour], "H")
		put(a[uMinute], "M")
		put(a[uSecond], "S")
	}
	if b.Len() == 1 {
		return "PT0S"
	}
	return b.String()
}

// parsePercent: "50%", "50 percent", "fifty per cent", "cincuenta por ciento" → "50%".
func parsePercent(in *Input, i int) (int, string) {
	e, v, isI := in.number(i)
	if e == i {
		return i, ""
	}
	s := fmtNum(v, isI) + "%"
	switch {
	case in.at(e) == "%" || in.at(e) == "percent" || in.at(e) == "porciento" || in.at(e) == "pct":
		return e + 1, s
	case (in.at(e) == "per" && in.at(e+1) == "cent") || (in.at(e) == "por" && in.at(e+1) == "ciento"):
		return e + 2, s
	}
	return i, ""
}

// parsePhone: 7–15 digits given as digit groups ("(555) 123-4567", "+1 555
// 123 4567") or digit words ("five five five one two three four") →
// the digits without punctuation ("5551234567").
func parsePhone(in *Input, i int) (int, string) {
	var b strings.Builder
	e := i
	if in.at(e) == "+" {
		e++
	}
	for e < len(in.W) {
		w := in.W[e]
		if isDigitTok(w) && !strings.ContainsAny(w, ":/,") {
			for _, r := range w {
				if unicode.IsDigit(r) {
					b.WriteRune(r)
				}
			}
			e++
			continue
		}
		if d, ok := digitWord(w, in.c.Lang); ok && (w != "oh" || b.Len() > 0) {
			b.WriteByte(byte('0' + d))
			e++
			continue
		}
		if (w == "double" || w == "doble") && e+1 < len(in.W) {
			if d, ok := digitWord(in.W[e+1], in.c.Lang); ok {
				b.WriteByte(byte('0' + d))
				b.WriteByte(byte('0' + d))
				e += 2
				continue
			}
		}
		break
	}
	if n := b.Len(); n < 7 || n > 15 {
		return i, ""
	}
	return e, b.String()
}

// parseEmail: "ana@example.com", or spoken "ana dot lopez at example dot com" / "ana arroba example punto com".
func parseEmail(in *Input, i int) (int, string) {
	w := in.at(i)
	if strings.Contains(w, "@") {
		at := strings.IndexByte(w, '@')
		if at > 0 && strings.Contains(w[at:], ".") && !strings.HasSuffix(w, ".") {
			return i + 1, strings.ToLower(in.Raw[i])
		}
		return i, ""
	}
	if !isPlainWord(w) {
		return i, ""
	}
	var b strings.Builder
	b.WriteString(w)
	e := i + 1
	seenAt, dotsAfter := false, 0
	for e+1 < len(in.W) {
		sep := in.W[e]
		nx := in.W[e+1]
		if !isPlainWord(nx) {
			break
		}
		switch {
		case (sep == "at" || sep == "arroba") && !seenAt:
			b.WriteByte('@')
			seenAt = true
		case sep == "dot" || sep == "punto":
			b.WriteByte('.')
			if seenAt {
				dotsAfter++
			}
		case sep == "underscore" || sep == "guion":
			b.WriteByte('_')
		default:
			goto done
		}
		b.WriteString(nx)
		e += 2
	}
done:
	if !seenAt || dotsAfter == 0 {
		return i, ""
	}
	return e, b.String()
}

func isPlainWord(w string) bool {
	if w == "" {
		return false
	}
	for _, r := range w {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '.' {
			return false
		}
	}
	return true
}

// parseAlnum finds codes mixing letters and digits ("ABC123", "a1b2"), or
// pure digit strings of 4+ digits; the value is the text as typed,
// upper-cased, without spaces.
func parseAlnum(in *Input, i int) (int, string) {
	raw := in.Raw[i]
	hasL, hasD := false, false
	for _, r := range raw {
		switch {
		case unicode.IsLetter(r):
			hasL = true
		case unicode.IsDigit(r):
			hasD = true
		case r == '-':
		default:
			return i, ""
		}
	}
	if (hasL && hasD) || (hasD && len(raw) >= 4) {
		return i + 1, strings.ToUpper(raw)
	}
	return i, ""
}

var streetWords = toSet("street st avenue ave road rd boulevard blvd lane ln drive dr way court ct place pl terrace highway calle avenida av paseo plaza camino carrera ronda")

// parseStreet: "main street", "5th avenue", "calle mayor", "avenida de america".
func parseStreet(in *Input, i int) (int, string) {
	w := in.at(i)
	if w == "calle" || w == "avenida" || w == "paseo" || w == "plaza" || w == "camino" || w == "ronda" || w == "carrera" {
		e := i + 1
		for e < len(in.W) && e < i+4 && isPlainWord(in.W[e]) && !isDigitTok(in.W[e]) {
			e++
			if in.at(e-1) != "de" && in.at(e-1) != "del" && in.at(e-1) != "la" {
				break
			}
		}
		if e > i+1 {
			return e, title(in.Raw[i:e])
		}
		return i, ""
	}
	for k := 1; k <= 3 && i+k < len(in.W); k++ {
		if streetWords[in.W[i+k]] && in.W[i+k] != "calle" {
			ok := true
			for j := i; j < i+k; j++ {
				if !isPlainWord(in.W[j]) || stopLike[in.W[j]] {
					ok = false
				}
			}
			if ok {
				return i + k + 1, title(in.Raw[i : i+k+1])
			}
		}
	}
	return i, ""
}

var stopLike = toSet("a an the on in at to of for from my is and or i")

func title(ws []string) string {
	out := make([]string, len(ws))
	for k, w := range ws {
		r := []rune(w)
		if len(r) > 0 {
			r[0] = unicode.ToUpper(r[0])
		}
		out[k] = string(r)
	}
	return strings.Join(out, " ")
}
