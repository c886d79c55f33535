package builtin

import (
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Number words. Kinds: 1 unit (0–9), 2 teen (10–19), 3 ten (20–90),
// 4 hundred-word (es: ciento…novecientos), 5 compound (es: veintidós).
type numWord struct {
	v    int64
	kind int
}

var enNum = map[string]numWord{
	"zero": {0, 1}, "oh": {0, 1}, "one": {1, 1}, "two": {2, 1}, "three": {3, 1}, "four": {4, 1}, "five": {5, 1},
	"six": {6, 1}, "seven": {7, 1}, "eight": {8, 1}, "nine": {9, 1}, "ten": {10, 2}, "eleven": {11, 2},
	"twelve": {12, 2}, "thirteen": {13, 2}, "fourteen": {14, 2}, "fifteen": {15, 2}, "sixteen": {16, 2},
	"seventeen": {17, 2}, "eighteen": {18, 2}, "nineteen": {19, 2}, "twenty": {20, 3}, "thirty": {30, 3},
	"forty": {40, 3}, "fifty": {50, 3}, "sixty": {60, 3}, "seventy": {70, 3}, "eighty": {80, 3}, "ninety": {90, 3},
}

var esNum = map[string]numWord{
	"cero": {0, 1}, "uno": {1, 1}, "un": {1, 1}, "una": {1, 1}, "dos": {2, 1}, "tres": {3, 1}, "cuatro": {4, 1},
	"cinco": {5, 1}, "seis": {6, 1}, "siete": {7, 1}, "ocho": {8, 1}, "nueve": {9, 1}, "diez": {10, 2},
	"once": {11, 2}, "doce": {12, 2}, "trece": {13, 2}, "catorce": {14, 2}, "quince": {15, 2},
	"dieciseis": {16, 2}, "diecisiete": {17, 2}, "dieciocho": {18, 2}, "diecinueve": {19, 2},
	"veinte": {20, 3}, "veintiuno": {21, 5}, "veintiun": {21, 5}, "veintiuna": {21, 5}, "veintidos": {22, 5},
	"veintitres": {23, 5}, "veinticuatro": {24, 5}, "veinticinco": {25, 5}, "veintiseis": {26, 5},
	"veintisiete": {27, 5}, "veintiocho": {28, 5}, "veintinueve": {29, 5}, "treinta": {30, 3},
	"cuarenta": {40, 3}, "cincuenta": {50, 3}, "sesenta": {60, 3}, "setenta": {70, 3}, "ochenta": {80, 3},
	"noventa": {90, 3}, "cien": {100, 4}, "ciento": {100, 4}, "doscientos": {200, 4}, "doscientas": {200, 4},
	"trescientos": {300, 4}, "trescientas": {300, 4}, "cuatrocientos": {400, 4}, "cuatrocientas": {400, 4},
	"quinientos": {500, 4}, "quinientas": {500, 4}, "seiscientos": {600, 4}, "seiscientas": {600, 4},
	"setecientos": {700, 4}, "setecientas": {700, 4}, "ochocientos": {800, 4}, "ochocientas": {800, 4},
	"novecientos": {900, 4}, "novecientas": {900, 4},
}

var scales = map[string]int64{
	"thousand": 1000, "million": 1000000, "billion": 1000000000,
	"mil": 1000, "millon": 1000000, "millones": 1000000,
}

var enOrd = map[string]int{
	"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
	"ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
	"sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}

var esOrd = map[string]int{
	"primero": 1, "primer": 1, "primera": 1, "segundo": 2, "segunda": 2, "tercero": 3, "tercer": 3, "tercera": 3,
	"cuarto": 4, "cuarta": 4, "quinto": 5, "quinta": 5, "sexto": 6, "sexta": 6, "septimo": 7, "septima": 7,
	"octavo": 8, "octava": 8, "noveno": 9, "novena": 9, "decimo": 10, "decima": 10,
}

// number parses a cardinal number starting at i: digits ("22", "1,000",
// "3.5", "-4") or words ("twenty two", "twenty-two", "one hundred and
// three", "a dozen", "veintidós", "ciento tres", "treinta y dos", "dos mil
// veintiséis", "una docena"). It returns the end index, the value and
// whether the value is an integer.
func (in *Input) number(i int) (end int, val float64, isInt bool) {
	w := in.at(i)
	if w == "" {
		return i, 0, false
	}
	neg := false
	start := i
	if w == "minus" || w == "negative" || w == "menos" {
		if _, _, ok := in.wordsNumber(i + 1); !ok {
			if e, v, isI := in.digits(i + 1); e > i+1 {
				return e, -v, isI
			}
			return i, 0, false
		}
		neg = true
		i++
	}
	if e, v, isI := in.digits(i); e > i {
		// "2 million", "3 dozen", "2 mil"
		if s, ok := scales[in.at(e)]; ok && isI {
			return e + 1, v * float64(s), true
		}
		if d := in.at(e); (d == "dozen" || d == "docena" || d == "docenas") && isI {
			return e + 1, v * 12, true
		}
		return e, v, isI
	}
	e, n, ok := in.wordsNumber(i)
	if !ok {
		return start, 0, false
	}
	v := float64(n)
	// "three point five", "tres coma cinco"
	if p := in.at(e); (p == "point" || p == "coma" || p == "punto") && e+1 < len(in.W) {
		frac := ""
		j := e + 1
		for ; j < len(in.W); j++ {
			d, ok := digitWord(in.W[j], in.c.Lang)
			if !ok {
				break
			}
			frac += strconv.Itoa(d)
		}
		if frac != "" {
			f, _ := strconv.ParseFloat(strconv.FormatInt(n, 10)+"."+frac, 64)
			if neg {
				f = -f
			}
			return j, f, false
		}
	}
	if neg {
		v = -v
	}
	return e, v, true
}

func digitWord(w, lang string) (int, bool) {
	t := enNum
	if lang == "es" {
		t = esNum
	}
	nw, ok := t[w]
	if !ok || nw.kind != 1 {
		if len(w) == 1 && w[0] >= '0' && w[0] <= '9' {
			return int(w[0] - '0'), true
		}
		return 0, false
	}
	return int(nw.v), true
}

// digits parses a numeric token: "22", "1,000", "3.5", "2,5" (es), "22nd" is not a cardinal.
func (in *Input) digits(i int) (int, float64, bool) {
	w := in.at(i)
	if w == "" || !isDigitTok(w) {
		return i, 0, false
	}
	s := w
	if in.c.Lang == "es" && strings.Count(s, ",") == 1 && !strings.Contains(s, ".") && len(s)-strings.IndexByte(s, ',') != 4 {
		s = strings.Replace(s, ",", ".", 1) // 2,5 → 2.5
	} else if in.c.Lang == "es" && strings.Contains(s, ".") && !strings.Contains(s, ",") && len(s)-strings.LastIndexByte(s, '.') == 4 {
		s = strings.ReplaceAll(s, ".", "") // 1.000 → 1000
	} else {
		s = strings.ReplaceAll(s, ",", "")
	}
	if strings.ContainsAny(s, ":/-") {
		return i, 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return i, 0, false
	}
	return i + 1, f, !strings.Contains(s, ".")
}

func isDigitTok(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	if !unicode.IsDigit(r) {
		return false
	}
	for _, r := range w {
		if !unicode.IsDigit(r) && !strings.ContainsRune(".,:/-", r) {
			return false
		}
	}
	return true
}

// wordsNumber parses number words.
func (in *Input) wordsNumber(i int) (end int, n int64, ok bool) {
	table := enNum
	if in.c.Lang == "es" {
		table = esNum
	}
	var total, cur int64
	last := 0 // kind of the last element; 6 = scale, 7 = hundred
	j := i
	any := false
	for j < len(in.W) {
		w := in.W[j]
		// hyphenated compounds: twenty-two
		if strings.Contains(w, "-") && in.c.Lang == "en" {
			parts := strings.Split(w, "-")
			if len(parts) == 2 {
				a, okA := table[parts[0]]
				b, okB := table[parts[1]]
				if okA && okB && a.kind == 3 && b.kind == 1 && b.v > 0 && (last == 0 || last == 6 || last == 7) {
					cur += a.v + b.v
					last, any, j = 1, true, j+1
					continue
				}
			}
			break
		}
		if nw, okW := table[w]; okW {
			okNext := false
			switch nw.kind {
			case 1:
				okNext = last == 0 || last == 3 || last == 4 || last == 6 || last == 7
				if last == 3 && in.c.Lang == "es" && in.at(j-1) != "y" {
					okNext = false // "treinta dos" is not a number; "treinta y dos" is
				}
			case 2, 5:
				okNext = last == 0 || last == 4 || last == 6 || last == 7
			case 3:
				okNext = last == 0 || last == 4 || last == 6 || last == 7
			case 4:
				okNext = last == 0 || last == 6
			}
			// "un", "una" alone are articles, not numbers
			if in.c.Lang == "es" && (w == "un" || w == "una") {
				nx := in.at(j + 1)
				if _, sc := scales[nx]; !sc && nx != "docena" {
					okNext = false
				}
			}
			if w == "oh" && last == 0 {
				okNext = false
			}
			if !okNext {
				break
			}
			cur += nw.v
			last, any, j = nw.kind, true, j+1
			continue
		}
		if w == "hundred" && (last == 1 || last == 2 || (last == 0 && (in.at(j-1) == "a" || in.at(j-1) == "one"))) {
			if cur == 0 {
				cur = 1
			}
			cur *= 100
			last, any, j = 7, true, j+1
			continue
		}
		if s, okS := scales[w]; okS {
			if cur == 0 {
				if last != 0 && last != 6 {
					break
				}
				if !(w == "mil" || in.at(j-1) == "a" || in.at(j-1) == "un") {
					break
				}
				cur = 1
			}
			if last == 6 && cur == 0 {
				break
			}
			total += cur * s
			cur = 0
			last, any, j = 6, true, j+1
			continue
		}
		if (w == "dozen" || w == "docena" || w == "docenas") && (any || in.at(j-1) == "a" || in.at(j-1) == "una") {
			if cur == 0 && total == 0 {
				cur = 1
			}
			cur *= 12
			last, any, j = 6, true, j+1
			break
		}
		if (w == "and" && (last == 7 || last == 6)) || (w == "y" && last == 3) {
			if nx := in.at(j + 1); nx != "" {
				if nw, okN := table[nx]; okN && (nw.kind == 1 || (w == "and" && nw.kind <= 3)) {
					j++
					continue
				}
			}
			break
		}
		if w == "a" || w == "an" || (in.c.Lang == "es" && (w == "un" || w == "una")) {
			nx := in.at(j + 1)
			if last == 0 && !any && (nx == "hundred" || nx == "thousand" || nx == "million" || nx == "dozen" || nx == "docena" || nx == "millon") {
				j++
				continue
			}
		}
		break
	}
	if !any {
		return i, 0, false
	}
	return j, total + cur, true
}

func fmtNum(v float64, isInt bool) string {
	if isInt {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func parseNumberSlot(in *Input, i int) (int, string) {
	e, v, isI := in.number(i)
	if e == i {
		return i, ""
	}
	return e, fmtNum(v, isI)
}

func parseFourDigit(in *Input, i int) (int, string) {
	e, v, isI := in.number(i)
	if e == i || !isI || v < 0 || v > 9999 {
		return i, ""
	}
	s := strconv.Itoa(int(v))
	for len(s) < 4 {
		s = "0" + s
	}
	return e, s
}

// ordinal parses "first", "3rd", "twenty first", "primero", "3º".
func (in *Input) ordinal(i int) (int, int) {
	w := in.at(i)
	if w == "" {
		return i, 0
	}
	if in.c.Lang == "es" {
		if n, ok := esOrd[w]; ok {
			return i + 1, n
		}
		if strings.HasSuffix(w, "º") || strings.HasSuffix(w, "ª") || strings.HasSuffix(w, "o") && len(w) <= 3 {
			if n, err := strconv.Atoi(strings.TrimRight(w, "ºªo")); err == nil {
				return i + 1, n
			}
		}
		return i, 0
	}
	if n, ok := enOrd[w]; ok {
		return i + 1, n
	}
	for _, suf := range []string{"st", "nd", "rd", "th"} {
		if strings.HasSuffix(w, suf) {
			if n, err := strconv.Atoi(strings.TrimSuffix(w, suf)); err == nil {
				return i + 1, n
			}
		}
	}
	// twenty first / twenty-first
	if parts := strings.Split(w, "-"); len(parts) == 2 {
		if t, ok := enNum[parts[0]]; ok && t.kind == 3 {
			if o, ok := enOrd[parts[1]]; ok && o < 10 {
				return i + 1, int(t.v) + o
			}
		}
	}
	if t, ok := enNum[w]; ok && t.kind == 3 {
		if o, ok := enOrd[in.at(i+1)]; ok && o < 10 {
			return i + 2, int(t.v) + o
		}
	}
	return i, 0
}

func parseOrdinalSlot(in *Input, i int) (int, string) {
	e, n := in.ordinal(i)
	if e == i {
		return i, ""
	}
	return e, strconv.Itoa(n)
}

// Distance is the optimal-string-alignment edit distance (Levenshtein
// plus adjacent transpositions) between a and b, giving up early and
// returning max+1 once the distance must exceed max.
func Distance(a, b string, max int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > max || -d > max {
		return max + 1
	}
	n, m := len(ra), len(rb)
	prev2 := make([]int, m+1)
	prev := make([]int, m+1)
	cur := make([]int, m+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= n; i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= m; j++ {
			c := 1
			if ra[i-1] == rb[j-1] {
				c = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			best = min(best, v)
		}
		if best > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[m]
}

// keywords are the words the resolvers key on; canon corrects a typo in
// one of them (one edit, words of five letters or more).
var keywords = map[string][]string{}

var aliases = map[string]map[string]string{
	"en": {"tmrw": "tomorrow", "tmr": "tomorrow", "tomorow": "tomorrow", "tommorow": "tomorrow", "tommorrow": "tomorrow",
		"tonite": "tonight", "2morrow": "tomorrow", "thurs": "thursday", "thur": "thursday", "tues": "tuesday",
		"weds": "wednesday", "noon": "noon", "mins": "minutes", "min": "minute", "hrs": "hours", "hr": "hour",
		"secs": "seconds", "sec": "second", "wks": "weeks", "wk": "week", "yrs": "years", "yr": "year",
		"pct": "percent", "fourty": "forty", "ninty": "ninety", "oclock": "oclock", "o'clock": "oclock", "sept": "september"},
	"es": {"manana": "mañana", "mananas": "mañanas", "anos": "años", "proxima": "proxima", "sig": "siguiente",
		"mediodia": "mediodia", "porciento": "porciento", "min": "minuto", "mins": "minutos", "hs": "horas", "hrs": "horas",
		"setiembre": "septiembre", "miercoles": "miercoles", "sabado": "sabado"},
}

func init() {
	add := func(lang string, ws ...string) {
		keywords[lang] = append(keywords[lang], ws...)
	}
	for w := range enNum {
		if len(w) >= 5 {
			add("en", w)
		}
	}
	for w := range esNum {
		if len(w) >= 5 {
			add("es", w)
		}
	}
	for w := range enOrd {
		if len(w) >= 5 {
			add("en", w)
		}
	}
	add("en", "hundred", "thousand", "million", "tomorrow", "yesterday", "today", "tonight", "monday", "tuesday",
		"wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march", "april", "june",
		"july", "august", "september", "october", "november", "december", "morning", "afternoon", "evening",
		"midnight", "percent", "minutes", "minute", "hours", "seconds", "second", "weeks", "months", "month",
		"years", "weekend", "quarter", "after", "before", "coming", "following")
	add("es", "mañana", "pasado", "anteayer", "domingo", "lunes", "martes", "miercoles", "jueves", "viernes", "sabado",
		"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
		"noviembre", "diciembre", "proximo", "proxima", "semana", "semanas", "dentro", "tarde", "noche",
		"madrugada", "mediodia", "medianoche", "minutos", "minuto", "horas", "segundos", "meses", "cuarto",
		"media", "siguiente", "docena", "millon", "millones")
}

var canonCache = map[string]map[string]string{"en": {}, "es": {}}

func init() {
	for lang, ws := range keywords {
		for _, w := range ws {
			canonCache[lang][w] = w
		}
		for a, w := range aliases[lang] {
			canonCache[lang][a] = w
		}
	}
}

// canonMemo remembers canon's answers for words outside canonCache (a
// pure function of word and language), bounded so that arbitrary input
// cannot grow it without limit.
// (A map per language under a read lock: a lookup allocates nothing.)
var canonMemo struct {
	mu sync.RWMutex
	m  map[string]map[string]string
}

const maxCanonMemo = 50000

func canon(w, lang string) string {
	if c, ok := canonCache[lang][w]; ok {
		return c
	}
	canonMemo.mu.RLock()
	c, ok := canonMemo.m[lang][w]
	canonMemo.mu.RUnlock()
	if ok {
		return c
	}
	c = canonSlow(w, lang)
	canonMemo.mu.Lock()
	if m := canonMemo.m[lang]; len(m) < maxCanonMemo {
		if m == nil {
			if canonMemo.m == nil {
				canonMemo.m = map[string]map[string]string{}
			}
			m = map[string]string{}
			canonMemo.m[lang] = m
		}
		m[w] = c
	}
	canonMemo.mu.Unlock()
	return c
}

func canonSlow(w, lang string) string {
	n := utf8.RuneCountInString(w)
	if n < 5 {
		return w
	}
	for _, r := range w {
		if !unicode.IsLetter(r) {
			return w
		}
	}
	best, bestD, ties := "", 2, 0
	for _, k := range keywords[lang] {
		if len(k) < 6 {
			continue
		}
		d := Distance(w, k, 1)
		if d < bestD {
			best, bestD, ties = k, d, 0
		} else if d == bestD {
			ties++
		}
	}
	if best != "" && ties == 0 && bestD == 1 {
		return best
	}
	return w
}
