package builtin

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

var reClock = regexp.MustCompile(`^(\d{1,2})(?:[:.h](\d{2}))?(am|pm|a|p|h|hs)?$`)

func fmtClock(h, m int) string { return fmt.Sprintf("%02d:%02d", h, m) }

// hourWord parses an hour 0–24 given as digits or words.
func (in *Input) hour(i int) (int, int) {
	w := in.at(i)
	if in.c.Lang == "es" && (w == "una" || w == "un") {
		return i + 1, 1
	}
	if e, v, isI := in.number(i); e == i+1 && isI && v >= 0 && v <= 24 {
		return e, int(v)
	}
	return i, 0
}

func (in *Input) minute(i int) (int, int) {
	w := in.at(i)
	if (w == "oh" || w == "o") && in.c.Lang == "en" {
		if e, d := in.minute(i + 1); e > i+1 && d < 10 {
			return e, d
		}
		return i, 0
	}
	if len(w) == 2 && isDigitTok(w) {
		if n, err := strconv.Atoi(w); err == nil && n < 60 {
			return i + 1, n
		}
	}
	if !isDigitTok(w) {
		if e, v, isI := in.number(i); e > i && isI && v >= 1 && v < 60 {
			return e, int(v)
		}
	}
	return i, 0
}

// meridiem applies am/pm and "in the afternoon", "de la tarde" after an
// hour; it returns the end and the 24 h hour.
func (in *Input) meridiem(i, h int) (int, int, bool) {
	pm := func(h int) int {
		if h < 12 {
			return h + 12
		}
		return h
	}
	am := func(h int) int {
		if h == 12 {
			return 0
		}
		return h
	}
	w, w1, w2 := in.at(i), in.at(i+1), in.at(i+2)
	switch {
	case w == "pm" || w == "p" && w1 == "m":
		if w == "p" {
			i++
		}
		return i + 1, pm(h), true
	case w == "am" || w == "a" && w1 == "m":
		if w == "a" {
			i++
		}
		return i + 1, am(h), true
	case w == "in" && w1 == "the" && w2 == "morning", w == "de" && w1 == "la" && (w2 == "mañana" || w2 == "madrugada"):
		return i + 3, am(h), true
	case w == "in" && w1 == "the" && (w2 == "afternoon" || w2 == "evening"), w == "de" && w1 == "la" && w2 == "tarde":
		return i + 3, pm(h), true
	case w == "at" && w1 == "night", w == "tonight":
		if h == 12 {
			return i + 2, 0, true
		}
		if h >= 5 {
			h = pm(h)
		}
		if w == "tonight" {
			return i + 1, h, true
		}
		return i + 2, h, true
	case w == "de" && w1 == "la" && w2 == "noche":
		if h == 12 {
			return i + 3, 0, true
		}
		if h >= 6 {
			h = pm(h)
		}
		return i + 3, h, true
	case w == "del" && w1 == "mediodia":
		return i + 2, pm(h), true
	}
	return i, h, false
}

var periods = map[string]string{
	"morning": "MO", "afternoon": "AF", "evening": "EV", "night": "NI", "tonight": "NI",
	"mañana": "MO", "tarde": "AF", "noche": "NI", "madrugada": "NI",
}

func parseTime(in *Input, i int) (int, string) {
	w := in.at(i)
	switch w {
	case "noon", "midday", "mediodia":
		return i + 1, "12:00"
	case "midnight", "medianoche":
		return i + 1, "00:00"
	case "medio":
		if in.at(i+1) == "dia" {
			return i + 2, "12:00"
		}
	}
	// relative: in 2 hours, dentro de 30 minutos
	if w == "in" || w == "en" || (w == "dentro" && in.at(i+1) == "de") {
		p := i + 1
		if w == "dentro" {
			p++
		}
		if e, n, u := in.count(p); e > p && (u == uHour || u == uMinute) {
			d := time.Duration(n) * time.Minute
			if u == uHour {
				d = time.Duration(n) * time.Hour
			}
			t := in.c.Now.Add(d) // absolute time: crosses DST changes correctly
			if u == uHour && in.at(e) == "and" && in.at(e+1) == "a" && in.at(e+2) == "half" {
				t, e = t.Add(30*time.Minute), e+3
			}
			return e, t.Format("15:04")
		}
	}
	if in.c.Lang == "es" {
		return parseTimeES(in, i)
	}
	// parts of the day: "morning", "this evening", "in the afternoon", "tonight"
	if p, ok := periods[w]; ok && in.c.Lang == "en" {
		return i + 1, p
	}
	if (w == "this" || w == "the") && periods[in.at(i+1)] != "" {
		return i + 2, periods[in.at(i+1)]
	}
	// quarter past three, half past 3, ten to five, 20 minutes past 4
	if e, v := in.pastTo(i); e > i {
		return e, v
	}
	// 3pm, 3:30pm, 15:30, 3 pm, three thirty pm, 3 o'clock
	if m := reClock.FindStringSubmatch(w); m != nil {
		h, _ := strconv.Atoi(m[1])
		mi := 0
		if m[2] != "" {
			mi, _ = strconv.Atoi(m[2])
		}
		e := i + 1
		if m[3] == "pm" || m[3] == "p" {
			if h < 12 {
				h += 12
			}
		} else if m[3] == "am" || m[3] == "a" {
			if h == 12 {
				h = 0
			}
		} else if m[2] == "" {
			// a bare number: a time only with "am/pm", "o'clock" or after "at"/"around"/"by"
			e2, h2, ok := in.meridiem(e, h)
			if ok {
				return e2, fmtClock(h2%24, 0)
			}
			if in.at(e) == "oclock" {
				return e + 1, fmtClock(h%24, 0)
			}
			if e3, mi := in.minute(e); e3 > e && atLike(in.at(i-1)) {
				if e4, h4, ok := in.meridiem(e3, h); ok {
					return e4, fmtClock(h4%24, mi)
				}
				return e3, fmtClock(h%24, mi)
			}
			if atLike(in.at(i-1)) && h <= 24 {
				return e, fmtClock(h%24, 0)
			}
			return i, ""
		}
		if h > 24 || mi > 59 {
			return i, ""
		}
		e, h, _ = in.meridiem(e, h)
		return e, fmtClock(h%24, mi)
	}
	if e, h := in.hour(i); e > i && !isDigitTok(w) {
		mi := 0
		if in.at(e) == "oclock" {
			e++
		} else if e2, m2 := in.minute(e); e2 > e {
			e, mi = e2, m2
		}
		if e2, h2, ok := in.meridiem(e, h); ok {
			return e2, fmtClock(h2%24, mi)
		}
		if e > i+1 || in.at(e-1) == "oclock" || atLike(in.at(i-1)) {
			if h <= 24 {
				return e, fmtClock(h%24, mi)
			}
		}
	}
	return i, ""
}

func atLike(w string) bool {
	return w == "at" || w == "around" || w == "by" || w == "before" || w == "after" || w == "until" || w == "las" || w == "la"
}

func (in *Input) pastTo(i int) (int, string) {
	mi, e := 0, i
	switch in.at(i) {
	case "quarter":
		mi, e = 15, i+1
	case "a":
		if in.at(i+1) == "quarter" {
			mi, e = 15, i+2
		}
	case "half":
		mi, e = 30, i+1
	default:
		if e2, m := in.minute(i); e2 > i {
			mi, e = m, e2
			if in.at(e) == "minutes" || in.at(e) == "minute" {
				e++
			}
		}
	}
	if e == i {
		return i, ""
	}
	dir := in.at(e)
	if dir != "past" && dir != "after" && dir != "to" && dir != "before" && dir != "till" {
		return i, ""
	}
	e2, h := in.hour(e + 1)
	if e2 == e+1 || h > 12 {
		return i, ""
	}
	if dir == "to" || dir == "before" || dir == "till" {
		h, mi = (h+23)%24, 60-mi
	}
	e3, h3, _ := in.meridiem(e2, h)
	return e3, fmtClock(h3%24, mi%60)
}

func parseTimeES(in *Input, i int) (int, string) {
	w := in.at(i)
	// por la mañana, en la tarde, la noche, esta tarde, esta noche
	p := i
	if w == "por" || w == "en" || w == "a" {
		p++
	}
	if (in.at(p) == "la" || in.at(p) == "esta") && periods[in.at(p+1)] != "" && in.at(p+1) != "madrugada" || in.at(p) == "la" && in.at(p+1) == "madrugada" {
		return p + 2, periods[in.at(p+1)]
	}
	if w == "tarde" || w == "noche" {
		if in.at(i-1) == "de" || in.at(i-1) == "por" {
			return i + 1, periods[w]
		}
	}
	// a las tres y media de la tarde, las 15:30, la una menos cuarto
	p = i
	if w == "a" && (in.at(i+1) == "las" || in.at(i+1) == "la") {
		p += 2
	} else if w == "las" || w == "la" {
		p++
	}
	hasArticle := p > i || atLike(in.at(i-1))
	tok := in.at(p)
	h, mi, e := 0, 0, p
	if m := reClock.FindStringSubmatch(tok); m != nil && isDigitTokOrClock(tok) {
		h, _ = strconv.Atoi(m[1])
		if m[2] != "" {
			mi, _ = strconv.Atoi(m[2])
		}
		e = p + 1
		switch m[3] {
		case "pm", "p":
			if h < 12 {
				h += 12
			}
			return e, fmtClock(h%24, mi)
		case "am", "a":
			if h == 12 {
				h = 0
			}
			return e, fmtClock(h, mi)
		case "h", "hs":
			return e, fmtClock(h%24, mi)
		}
		if m[2] != "" && !hasArticle {
			if h > 24 || mi > 59 {
				return i, ""
			}
			e, h, _ = in.meridiem(e, h)
			return e, fmtClock(h%24, mi)
		}
	} else if e2, h2 := in.hour(p); e2 > p {
		h, e = h2, e2
	} else {
		return i, ""
	}
	if h > 24 || mi > 59 {
		return i, ""
	}
	explicit := hasArticle
	switch {
	case in.at(e) == "y" && in.at(e+1) == "media":
		mi, e, explicit = 30, e+2, true
	case in.at(e) == "y" && in.at(e+1) == "cuarto":
		mi, e, explicit = 15, e+2, true
	case in.at(e) == "menos" && in.at(e+1) == "cuarto":
		h, mi, e, explicit = (h+23)%24, 45, e+2, true
	case in.at(e) == "y":
		if e2, m := in.minute(e + 1); e2 > e+1 {
			mi, e, explicit = m, e2, true
		}
	case in.at(e) == "menos":
		if e2, m := in.minute(e + 1); e2 > e+1 {
			h, mi, e, explicit = (h+23)%24, 60-m, e2, true
		}
	case in.at(e) == "en" && in.at(e+1) == "punto":
		e, explicit = e+2, true
	}
	if in.at(e) == "en" && in.at(e+1) == "punto" {
		e += 2
	}
	if e2, h2, ok := in.meridiem(e, h); ok {
		return e2, fmtClock(h2%24, mi)
	}
	if !explicit {
		return i, ""
	}
	return e, fmtClock(h%24, mi)
}

func isDigitTokOrClock(w string) bool { return w != "" && w[0] >= '0' && w[0] <= '9' }

// resolveBare accepts a bare number answering a TIME question ("5" → 05:00).
func resolveBare(typ string, in *Input, i int) (int, string) {
	switch typ {
	case "AMAZON.TIME":
		if e, h := in.hour(i); e > i && h <= 24 {
			mi := 0
			if e2, m := in.minute(e); e2 > e {
				e, mi = e2, m
			}
			if e2, h2, ok := in.meridiem(e, h); ok {
				return e2, fmtClock(h2%24, mi)
			}
			return e, fmtClock(h%24, mi)
		}
	case "AMAZON.DATE":
		if e, d := in.dayNum(i); e > i {
			if t, ok := nextDay(day(in.c.Now), d); ok {
				return e, fmtDay(t)
			}
		}
	}
	return i, ""
}
