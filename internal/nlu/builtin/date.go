package builtin

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
	"domingo": time.Sunday, "lunes": time.Monday, "martes": time.Tuesday, "miercoles": time.Wednesday,
	"jueves": time.Thursday, "viernes": time.Friday, "sabado": time.Saturday,
}

var months = map[string]time.Month{
	"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
	"june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
	"october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
	"enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7, "agosto": 8,
	"septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
}

// day returns the calendar day of t at noon in t's location; all date
// arithmetic goes through time.Date on noons, so DST never moves a day.
func day(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 12, 0, 0, 0, t.Location())
}

func addDays(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d+n, 12, 0, 0, 0, t.Location())
}

// addMonths adds n months, clamping the day to the target month's length
// (January 31 + 1 month = February 28/29).
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, 12, 0, 0, 0, t.Location())
	last := time.Date(first.Year(), first.Month()+1, 0, 12, 0, 0, 0, t.Location()).Day()
	return time.Date(first.Year(), first.Month(), min(d, last), 12, 0, 0, 0, t.Location())
}

func fmtDay(t time.Time) string { return t.Format("2006-01-02") }

func fmtWeek(t time.Time) string {
	y, w := t.ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

func validDate(y int, m time.Month, d int, loc *time.Location) (time.Time, bool) {
	if d < 1 || d > 31 || m < 1 || m > 12 {
		return time.Time{}, false
	}
	t := time.Date(y, m, d, 12, 0, 0, 0, loc)
	return t, t.Day() == d && t.Month() == m
}

// nextMonthDay is the first date on or after today with month m, day d.
func nextMonthDay(today time.Time, m time.Month, d int) (time.Time, bool) {
	for y := today.Year(); y <= today.Year()+4; y++ {
		if t, ok := validDate(y, m, d, today.Location()); ok && !t.Before(today) {
			return t, true
		}
	}
	return time.Time{}, false
}

// nextDay is the first date on or after today with day of month d.
func nextDay(today time.Time, d int) (time.Time, bool) {
	for k := 0; k < 13; k++ {
		f := time.Date(today.Year(), today.Month()+time.Month(k), 1, 12, 0, 0, 0, today.Location())
		if t, ok := validDate(f.Year(), f.Month(), d, today.Location()); ok && !t.Before(today) {
			return t, true
		}
	}
	return time.Time{}, false
}

// weekday resolves a weekday relative to today: mode 0 = the first one on
// or after today (bare "friday", "this friday", "este viernes"), 1 = the
// first one strictly after today ("next friday", "el próximo viernes"),
// -1 = the last one strictly before today ("last friday", "el viernes
// pasado").
func weekday(today time.Time, wd time.Weekday, mode int) time.Time {
	diff := (int(wd) - int(today.Weekday()) + 7) % 7
	switch mode {
	case 1:
		if diff == 0 {
			diff = 7
		}
	case -1:
		diff = -((int(today.Weekday()) - int(wd) + 7) % 7)
		if diff == 0 {
			diff = -7
		}
	}
	return addDays(today, diff)
}

func (in *Input) year(i int) (int, int) {
	if y, err := strconv.Atoi(in.at(i)); err == nil && len(in.at(i)) == 4 && y >= 1900 && y <= 2199 {
		return i + 1, y
	}
	if in.c.Lang == "es" {
		if e, v, ok := in.number(i); ok && e > i && v >= 1900 && v <= 2199 {
			return e, int(v)
		}
	}
	return i, 0
}

// dayNum parses a day of month: "3", "3rd", "third", "tres", "primero".
func (in *Input) dayNum(i int) (int, int) {
	if e, n := in.ordinal(i); e > i && n >= 1 && n <= 31 {
		return e, n
	}
	w := in.at(i)
	if n, err := strconv.Atoi(w); err == nil && len(w) <= 2 {
		if n >= 1 && n <= 31 {
			return i + 1, n
		}
		return i, 0
	}
	if e, v, isI := in.number(i); e > i && isI && v >= 1 && v <= 31 && !isDigitTok(w) {
		return e, int(v)
	}
	return i, 0
}

var relMode = map[string]int{"next": 1, "following": 1, "this": 0, "coming": 0, "last": -1, "past": -1, "previous": -1,
	"proximo": 1, "proxima": 1, "siguiente": 1, "este": 0, "esta": 0, "pasado": -1, "pasada": -1, "anterior": -1}

func parseDate(in *Input, i int) (int, string) {
	today := day(in.c.Now)
	if in.c.Lang == "es" {
		return parseDateES(in, i, today)
	}
	w := in.at(i)
	switch w {
	case "today", "tonight":
		return i + 1, fmtDay(today)
	case "tomorrow":
		return i + 1, fmtDay(addDays(today, 1))
	case "yesterday":
		return i + 1, fmtDay(addDays(today, -1))
	}
	p := i
	if w == "the" {
		p++
	}
	if in.at(p) == "day" && (in.at(p+1) == "after" || in.at(p+1) == "before") {
		switch in.at(p+1) + " " + in.at(p+2) {
		case "after tomorrow":
			return p + 3, fmtDay(addDays(today, 2))
		case "before yesterday":
			return p + 3, fmtDay(addDays(today, -2))
		}
	}
	// [next|this|last] weekday [after next | next week]
	mode, q := 0, i
	if m, ok := relMode[w]; ok {
		mode, q = m, i+1
	}
	if wd, ok := weekdays[in.at(q)]; ok {
		t := weekday(today, wd, mode)
		e := q + 1
		if in.at(e) == "after" && in.at(e+1) == "next" {
			t, e = weekday(today, wd, 1), e+2
			t = addDays(t, 7)
		} else if mode == 0 && in.at(e) == "next" && in.at(e+1) == "week" {
			// friday next week: that weekday in next ISO week
			mon := addDays(today, 7-((int(today.Weekday())+6)%7))
			t, e = addDays(mon, (int(wd)+6)%7), e+2
		}
		return e, fmtDay(t)
	}
	if _, ok := relMode[w]; ok {
		if e, v := relPeriod(in, i+1, relMode[w], today); e > i+1 {
			return e, v
		}
	}
	// in N days | N days from now | N days ago | a week from today
	if w == "in" || w == "within" {
		if e, n, unit := in.count(i + 1); e > i+1 {
			return e, fmtDay(shift(today, n, unit))
		}
	}
	if e, n, unit := in.count(i); e > i {
		switch in.at(e) + " " + in.at(e+1) {
		case "from now", "from today":
			return e + 2, fmtDay(shift(today, n, unit))
		case "from tomorrow":
			return e + 2, fmtDay(shift(addDays(today, 1), n, unit))
		}
		if in.at(e) == "ago" {
			return e + 1, fmtDay(shift(today, -n, unit))
		}
		if in.at(e) == "later" {
			return e + 1, fmtDay(shift(today, n, unit))
		}
	}
	if e, v := in.absDate(i, today); e > i {
		return e, v
	}
	return i, ""
}

// relPeriod: week, weekend, month, year after next/this/last.
func relPeriod(in *Input, i, mode int, today time.Time) (int, string) {
	switch in.at(i) {
	case "week", "semana":
		return i + 1, fmtWeek(addDays(today, 7*mode))
	case "weekend":
		return i + 1, fmtWeek(addDays(today, 7*mode)) + "-WE"
	case "fin":
		if in.at(i+1) == "de" && in.at(i+2) == "semana" {
			return i + 3, fmtWeek(addDays(today, 7*mode)) + "-WE"
		}
	case "month", "mes":
		return i + 1, addMonths(time.Date(today.Year(), today.Month(), 1, 12, 0, 0, 0, today.Location()), mode).Format("2006-01")
	case "year", "año", "ano":
		return i + 1, strconv.Itoa(today.Year() + mode)
	}
	return i, ""
}

type unit int

const (
	uSecond unit = iota
	uMinute
	uHour
	uDay
	uWeek
	uMonth
	uYear
)

var units = map[string]unit{
	"second": uSecond, "seconds": uSecond, "minute": uMinute, "minutes": uMinute, "hour": uHour, "hours": uHour,
	"day": uDay, "days": uDay, "week": uWeek, "weeks": uWeek, "month": uMonth, "months": uMonth,
	"year": uYear, "years": uYear, "night": uDay, "nights": uDay,
	"segundo": uSecond, "segundos": uSecond, "minuto": uMinute, "minutos": uMinute, "hora": uHour, "horas": uHour,
	"dia": uDay, "dias": uDay, "semana": uWeek, "semanas": uWeek, "mes": uMonth, "meses": uMonth,
	"año": uYear, "años": uYear, "noche": uDay, "noches": uDay,
}

// count parses "<number> <unit>", "a/an <unit>", "a couple of <unit>",
// "un par de <unit>".
func (in *Input) count(i int) (int, int, unit) {
	w := in.at(i)
	n, e := 0, i
	switch {
	case w == "a" || w == "an" || w == "one" || w == "un" || w == "una" || w == "uno":
		n, e = 1, i+1
	case w == "a" && in.at(i+1) == "couple" || w == "couple":
	default:
		if e2, v, isI := in.number(i); e2 > i && isI && v >= 0 && v < 10000 {
			n, e = int(v), e2
		}
	}
	if (w == "a" && in.at(i+1) == "couple" && in.at(i+2) == "of") || (w == "un" && in.at(i+1) == "par" && in.at(i+2) == "de") {
		n, e = 2, i+3
	}
	if e == i {
		return i, 0, 0
	}
	u, ok := units[in.at(e)]
	if !ok {
		return i, 0, 0
	}
	return e + 1, n, u
}

func shift(t time.Time, n int, u unit) time.Time {
	switch u {
	case uWeek:
		return addDays(t, 7*n)
	case uMonth:
		return addMonths(t, n)
	case uYear:
		return addMonths(t, 12*n)
	case uDay:
		return addDays(t, n)
	}
	return t
}

// absDate parses month/day forms and numeric dates.
func (in *Input) absDate(i int, today time.Time) (int, string) {
	w := in.at(i)
	loc := today.Location()
	// numeric: 2026-12-03, 12/03/2026, 03/12, 3.12.2026
	if isDigitTok(w) && strings.ContainsAny(w, "/-.") {
		if v, ok := numericDate(w, in.c.Locale, today); ok {
			return i + 1, v
		}
		return i, ""
	}
	p := i
	if w == "the" || w == "el" {
		p++
	}
	if in.at(p) == "dia" {
		p++
	}
	// month first: december 3rd [2026], december the 3rd, diciembre 3
	if m, ok := months[in.at(p)]; ok && p == i {
		e := p + 1
		if in.at(e) == "the" {
			e++
		}
		if e2, d := in.dayNum(e); e2 > e {
			e = e2
			if in.at(e) == "de" || in.at(e) == "del" {
				if e3, y := in.year(e + 1); e3 > e+1 {
					if t, ok := validDate(y, m, d, loc); ok {
						return e3, fmtDay(t)
					}
				}
			}
			if e3, y := in.year(e); e3 > e {
				if t, ok := validDate(y, m, d, loc); ok {
					return e3, fmtDay(t)
				}
				return i, ""
			}
			if t, ok := nextMonthDay(today, m, d); ok {
				return e, fmtDay(t)
			}
			return i, ""
		}
		// month alone or with year: december, december 2027, diciembre de 2027
		e = p + 1
		ye := e
		if in.at(ye) == "de" || in.at(ye) == "del" {
			ye++
		}
		if e3, y := in.year(ye); e3 > ye {
			return e3, fmt.Sprintf("%04d-%02d", y, m)
		}
		if in.at(p) == "may" || in.at(p) == "mar" || in.at(p) == "jan" || in.at(p) == "sep" {
			if in.at(i-1) != "in" {
				return i, ""
			}
		}
		y := today.Year()
		if m < today.Month() {
			y++
		}
		return e, fmt.Sprintf("%04d-%02d", y, m)
	}
	// day first: 3rd of december, the third of december, 3 december, 3 de diciembre
	if e, d := in.dayNum(p); e > p {
		bareNumber := isDigitTok(in.at(p)) || in.c.Lang == "es"
		q := e
		if in.at(q) == "of" || in.at(q) == "de" {
			q++
		}
		if m, ok := months[in.at(q)]; ok {
			q++
			ye := q
			if in.at(ye) == "de" || in.at(ye) == "del" {
				ye++
			}
			if e3, y := in.year(ye); e3 > ye {
				if t, ok := validDate(y, m, d, loc); ok {
					return e3, fmtDay(t)
				}
				return i, ""
			}
			if t, ok := nextMonthDay(today, m, d); ok {
				return q, fmtDay(t)
			}
			return i, ""
		}
		// "the 3rd", "el día 3": next occurrence of that day of the month
		if (w == "the" && !bareNumber) || (in.at(i+1) == "dia" && w == "el") {
			if t, ok := nextDay(today, d); ok {
				return e, fmtDay(t)
			}
		}
		if in.c.Lang == "en" && !bareNumber && p == i && len(in.at(p)) <= 4 && in.at(p) != "second" && in.at(p) != "first" {
			// "3rd" on its own
			if t, ok := nextDay(today, d); ok && in.at(p)[0] >= '0' && in.at(p)[0] <= '9' {
				return e, fmtDay(t)
			}
		}
	}
	return i, ""
}

func numericDate(w, locale string, today time.Time) (string, bool) {
	loc := today.Location()
	sep := "/"
	switch {
	case strings.Contains(w, "/"):
	case strings.Contains(w, "-"):
		sep = "-"
	case strings.Contains(w, "."):
		sep = "."
	}
	parts := strings.Split(w, sep)
	nums := make([]int, len(parts))
	for k, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return "", false
		}
		nums[k] = n
	}
	var y, d int
	var m time.Month
	switch {
	case len(parts) == 3 && len(parts[0]) == 4:
		y, m, d = nums[0], time.Month(nums[1]), nums[2]
	case len(parts) == 3 || len(parts) == 2:
		if locale == "en-US" || locale == "" {
			m, d = time.Month(nums[0]), nums[1]
		} else {
			d, m = nums[0], time.Month(nums[1])
		}
		if len(parts) == 3 {
			y = nums[2]
			if len(parts[2]) == 2 {
				y += 2000
			} else if len(parts[2]) != 4 {
				return "", false
			}
		}
	default:
		return "", false
	}
	if y == 0 {
		t, ok := nextMonthDay(today, m, d)
		if !ok {
			return "", false
		}
		return fmtDay(t), true
	}
	t, ok := validDate(y, m, d, loc)
	if !ok {
		return "", false
	}
	return fmtDay(t), true
}

func parseDateES(in *Input, i int, today time.Time) (int, string) {
	w := in.at(i)
	switch w {
	case "hoy":
		return i + 1, fmtDay(today)
	case "mañana":
		if p := in.at(i - 1); p == "la" || p == "las" || (p == "en" && in.at(i-2) == "por") {
			return i, "" // "por la mañana" is a time of day
		}
		return i + 1, fmtDay(addDays(today, 1))
	case "ayer":
		return i + 1, fmtDay(addDays(today, -1))
	case "anteayer", "antier":
		return i + 1, fmtDay(addDays(today, -2))
	case "pasado":
		if in.at(i+1) == "mañana" {
			return i + 2, fmtDay(addDays(today, 2))
		}
	case "antes":
		if in.at(i+1) == "de" && in.at(i+2) == "ayer" {
			return i + 3, fmtDay(addDays(today, -2))
		}
	case "dentro", "en", "hace":
		p := i + 1
		if w == "dentro" {
			if in.at(p) != "de" {
				break
			}
			p++
		}
		if e, n, u := in.count(p); e > p && u >= uDay {
			if w == "hace" {
				n = -n
			}
			return e, fmtDay(shift(today, n, u))
		}
	}
	// [el|la] [próximo|este] weekday|semana|mes|año|fin de semana [que viene|próximo|pasado]
	p := i
	if w == "el" || w == "la" {
		p++
	}
	mode, explicit := 0, false
	if m, ok := relMode[in.at(p)]; ok && in.at(p) != "pasado" {
		mode, explicit = m, true
		p++
	}
	post := func(e int) (int, int, bool) {
		switch {
		case in.at(e) == "que" && in.at(e+1) == "viene":
			return e + 2, 1, true
		case in.at(e) == "proximo" || in.at(e) == "proxima" || in.at(e) == "siguiente" || in.at(e) == "entrante":
			return e + 1, 1, true
		case in.at(e) == "pasado" || in.at(e) == "pasada" || in.at(e) == "anterior":
			return e + 1, -1, true
		}
		return e, 0, false
	}
	if wd, ok := weekdays[in.at(p)]; ok {
		e := p + 1
		if e2, m, ok := post(e); ok && !explicit {
			mode, e = m, e2
		}
		// "el viernes de la semana que viene"
		if in.at(e) == "de" && in.at(e+1) == "la" && in.at(e+2) == "semana" {
			if e2, m, ok := post(e + 3); ok && m == 1 {
				mon := addDays(today, 7-((int(today.Weekday())+6)%7))
				return e2, fmtDay(addDays(mon, (int(wd)+6)%7))
			}
		}
		return e, fmtDay(weekday(today, wd, mode))
	}
	switch in.at(p) {
	case "semana", "mes", "año", "ano", "fin":
		if !explicit {
			if e, m, ok := post(p + 1); ok && in.at(p) != "fin" {
				if _, v := relPeriod(in, p, m, today); v != "" {
					return e, v
				}
			} else if in.at(p) == "fin" && in.at(p+1) == "de" && in.at(p+2) == "semana" {
				if e2, m, ok := post(p + 3); ok {
					_, v := relPeriod(in, p, m, today)
					return e2, v
				}
				if w == "el" {
					_, v := relPeriod(in, p, 0, today)
					return p + 3, v
				}
			} else {
				_ = e
			}
			break
		}
		if e, v := relPeriod(in, p, mode, today); e > p {
			return e, v
		}
	}
	if e, v := in.absDate(i, today); e > i {
		return e, v
	}
	return i, ""
}

// parseDayOfWeek resolves AMAZON.DayOfWeek to the English weekday name.
func parseDayOfWeek(in *Input, i int) (int, string) {
	if wd, ok := weekdays[in.at(i)]; ok {
		return i + 1, strings.ToLower(wd.String())
	}
	return i, ""
}
