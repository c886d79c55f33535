package builtin

import (
	"strings"
	"testing"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

func prep(s, lang, locale string, now time.Time) *Input {
	var ws []Word
	for _, f := range strings.Fields(s) {
		ws = append(ws, Word{Norm: testFold(f), Raw: f})
	}
	return Prepare(ws, Context{Lang: lang, Locale: locale, Now: now})
}

// testFold mirrors nlu.Fold (lower case, accents off, ñ kept,
// apostrophes dropped) for pre-split test input.
func testFold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case r == '\u0303' && strings.HasSuffix(b.String(), "n"):
			str := b.String()
			b.Reset()
			b.WriteString(str[:len(str)-1] + "ñ")
		case unicode.Is(unicode.Mn, r), r == '\'':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func zone(t *testing.T, name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Skip(err)
	}
	return l
}

type rc struct{ typ, text, want string }

func run(t *testing.T, lang, locale string, now time.Time, cases []rc) {
	t.Helper()
	for _, c := range cases {
		got, ok := Resolve(c.typ, prep(c.text, lang, locale, now))
		if c.want == "" {
			if ok {
				t.Errorf("%s %s %q: got %q, want no value", locale, c.typ, c.text, got)
			}
			continue
		}
		if !ok || got != c.want {
			t.Errorf("%s %s %q (now %s): got %q %v, want %q", locale, c.typ, c.text, now.Format(time.RFC3339), got, ok, c.want)
		}
	}
}

// 2026-11-22 is a Sunday.
func TestEnglish(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, zone(t, "America/New_York"))
	run(t, "en", "en-US", now, []rc{
		{"AMAZON.NUMBER", "22", "22"}, {"AMAZON.NUMBER", "twenty two", "22"}, {"AMAZON.NUMBER", "twenty-two", "22"},
		{"AMAZON.NUMBER", "one hundred and three", "103"}, {"AMAZON.NUMBER", "a dozen", "12"}, {"AMAZON.NUMBER", "two dozen", "24"},
		{"AMAZON.NUMBER", "three thousand four hundred", "3400"}, {"AMAZON.NUMBER", "1,000", "1000"}, {"AMAZON.NUMBER", "3.5", "3.5"},
		{"AMAZON.NUMBER", "minus five", "-5"}, {"AMAZON.NUMBER", "a hundred", "100"}, {"AMAZON.NUMBER", "two million", "2000000"},
		{"AMAZON.NUMBER", "three point five", "3.5"}, {"AMAZON.NUMBER", "fourty", "40"}, {"AMAZON.NUMBER", "banana", ""},
		{"AMAZON.DATE", "today", "2026-11-22"}, {"AMAZON.DATE", "tomorrow", "2026-11-23"}, {"AMAZON.DATE", "tomorow", "2026-11-23"},
		{"AMAZON.DATE", "yesterday", "2026-11-21"}, {"AMAZON.DATE", "next friday", "2026-11-27"}, {"AMAZON.DATE", "this friday", "2026-11-27"},
		{"AMAZON.DATE", "friday", "2026-11-27"}, {"AMAZON.DATE", "sunday", "2026-11-22"}, {"AMAZON.DATE", "next sunday", "2026-11-29"},
		{"AMAZON.DATE", "last friday", "2026-11-20"}, {"AMAZON.DATE", "in two weeks", "2026-12-06"}, {"AMAZON.DATE", "in 3 days", "2026-11-25"},
		{"AMAZON.DATE", "december 3rd", "2026-12-03"}, {"AMAZON.DATE", "the 3rd of december", "2026-12-03"}, {"AMAZON.DATE", "dec 3", "2026-12-03"},
		{"AMAZON.DATE", "december third 2027", "2027-12-03"}, {"AMAZON.DATE", "november 1st", "2027-11-01"}, {"AMAZON.DATE", "the 5th", "2026-12-05"},
		{"AMAZON.DATE", "next week", "2026-W48"}, {"AMAZON.DATE", "this week", "2026-W47"}, {"AMAZON.DATE", "this weekend", "2026-W47-WE"},
		{"AMAZON.DATE", "next month", "2026-12"}, {"AMAZON.DATE", "december", "2026-12"}, {"AMAZON.DATE", "next year", "2027"},
		{"AMAZON.DATE", "day after tomorrow", "2026-11-24"}, {"AMAZON.DATE", "a week from today", "2026-11-29"}, {"AMAZON.DATE", "2 days ago", "2026-11-20"},
		{"AMAZON.DATE", "12/24", "2026-12-24"}, {"AMAZON.DATE", "2026-12-03", "2026-12-03"}, {"AMAZON.DATE", "february 30", ""},
		{"AMAZON.DATE", "friday after next", "2026-12-04"}, {"AMAZON.DATE", "on tuesday", "2026-11-24"},
		{"AMAZON.TIME", "3 pm", "15:00"}, {"AMAZON.TIME", "3pm", "15:00"}, {"AMAZON.TIME", "15:30", "15:30"}, {"AMAZON.TIME", "noon", "12:00"},
		{"AMAZON.TIME", "midnight", "00:00"}, {"AMAZON.TIME", "10:00 am", "10:00"}, {"AMAZON.TIME", "12 am", "00:00"}, {"AMAZON.TIME", "12 pm", "12:00"},
		{"AMAZON.TIME", "half past three", "03:30"}, {"AMAZON.TIME", "quarter to five", "04:45"}, {"AMAZON.TIME", "three thirty pm", "15:30"},
		{"AMAZON.TIME", "7 in the evening", "19:00"}, {"AMAZON.TIME", "morning", "MO"}, {"AMAZON.TIME", "this afternoon", "AF"},
		{"AMAZON.TIME", "evening", "EV"}, {"AMAZON.TIME", "tonight", "NI"}, {"AMAZON.TIME", "at 5", "05:00"}, {"AMAZON.TIME", "in 2 hours", "12:00"},
		{"AMAZON.TIME", "five o'clock", "05:00"},
		{"AMAZON.DURATION", "two hours", "PT2H"}, {"AMAZON.DURATION", "3 days", "P3D"}, {"AMAZON.DURATION", "two weeks", "P2W"},
		{"AMAZON.DURATION", "half an hour", "PT30M"}, {"AMAZON.DURATION", "an hour and a half", "PT1H30M"}, {"AMAZON.DURATION", "90 minutes", "PT90M"},
		{"AMAZON.DURATION", "one and a half hours", "PT1H30M"}, {"AMAZON.DURATION", "2 hours and 15 minutes", "PT2H15M"}, {"AMAZON.DURATION", "a year", "P1Y"},
		{"AMAZON.Percentage", "50 %", "50%"}, {"AMAZON.Percentage", "fifty percent", "50%"}, {"AMAZON.Percentage", "12.5 per cent", "12.5%"},
		{"AMAZON.PhoneNumber", "555 123-4567", "5551234567"}, {"AMAZON.PhoneNumber", "+ 1 555 123 4567", "15551234567"},
		{"AMAZON.PhoneNumber", "five five five one two three four", "5551234"}, {"AMAZON.PhoneNumber", "123", ""},
		{"AMAZON.EmailAddress", "Ana.Lopez@Example.com", "ana.lopez@example.com"}, {"AMAZON.EmailAddress", "john dot smith at gmail dot com", "john.smith@gmail.com"},
		{"AMAZON.AlphaNumeric", "abc123", "ABC123"}, {"AMAZON.City", "new york", "New York"}, {"AMAZON.City", "San Francisco", "San Francisco"},
		{"AMAZON.Country", "spain", "Spain"}, {"AMAZON.Country", "the united states", "United States"}, {"AMAZON.FirstName", "mike", "Michael"},
		{"AMAZON.US_STATE", "texas", "Texas"}, {"AMAZON.US_STATE", "OR", "Oregon"}, {"AMAZON.US_STATE", "or", ""}, {"AMAZON.State", "new jersey", "New Jersey"},
		{"AMAZON.Airport", "JFK", "John F. Kennedy International Airport"}, {"AMAZON.WeightUnit", "kilos", "kilograms"}, {"AMAZON.SpeedUnit", "mph", "miles per hour"},
		{"AMAZON.StreetName", "main street", "Main Street"}, {"AMAZON.DayOfWeek", "friday", "friday"}, {"AMAZON.Ordinal", "third", "3"},
		{"AMAZON.FOUR_DIGIT_NUMBER", "42", "0042"}, {"AMAZON.Unknown", "whatever text", "whatever text"},
	})
	// en-GB reads 3/12 as 3 December
	run(t, "en", "en-GB", now, []rc{{"AMAZON.DATE", "3/12", "2026-12-03"}, {"AMAZON.DATE", "24/12/2026", "2026-12-24"}})
}

func TestSpanish(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, zone(t, "Europe/Madrid"))
	for _, loc := range []string{"es-ES", "es-US", "es-419"} {
		run(t, "es", loc, now, []rc{
			{"AMAZON.NUMBER", "veintidós", "22"}, {"AMAZON.NUMBER", "veintidos", "22"}, {"AMAZON.NUMBER", "ciento tres", "103"},
			{"AMAZON.NUMBER", "treinta y dos", "32"}, {"AMAZON.NUMBER", "dos mil veintiséis", "2026"}, {"AMAZON.NUMBER", "mil", "1000"},
			{"AMAZON.NUMBER", "una docena", "12"}, {"AMAZON.NUMBER", "un millón", "1000000"}, {"AMAZON.NUMBER", "quinientos cincuenta", "550"},
			{"AMAZON.NUMBER", "2,5", "2.5"}, {"AMAZON.NUMBER", "cero", "0"},
			{"AMAZON.DATE", "hoy", "2026-11-22"}, {"AMAZON.DATE", "mañana", "2026-11-23"}, {"AMAZON.DATE", "manana", "2026-11-23"},
			{"AMAZON.DATE", "pasado mañana", "2026-11-24"}, {"AMAZON.DATE", "ayer", "2026-11-21"}, {"AMAZON.DATE", "anteayer", "2026-11-20"},
			{"AMAZON.DATE", "el próximo viernes", "2026-11-27"}, {"AMAZON.DATE", "el viernes que viene", "2026-11-27"},
			{"AMAZON.DATE", "este viernes", "2026-11-27"}, {"AMAZON.DATE", "el viernes", "2026-11-27"}, {"AMAZON.DATE", "el viernes pasado", "2026-11-20"},
			{"AMAZON.DATE", "3 de diciembre", "2026-12-03"}, {"AMAZON.DATE", "el 3 de diciembre", "2026-12-03"}, {"AMAZON.DATE", "el tres de diciembre de 2027", "2027-12-03"},
			{"AMAZON.DATE", "primero de enero", "2027-01-01"}, {"AMAZON.DATE", "dentro de 2 días", "2026-11-24"}, {"AMAZON.DATE", "en dos semanas", "2026-12-06"},
			{"AMAZON.DATE", "la semana que viene", "2026-W48"}, {"AMAZON.DATE", "la próxima semana", "2026-W48"}, {"AMAZON.DATE", "el mes que viene", "2026-12"},
			{"AMAZON.DATE", "este fin de semana", "2026-W47-WE"}, {"AMAZON.DATE", "el año que viene", "2027"}, {"AMAZON.DATE", "diciembre", "2026-12"},
			{"AMAZON.DATE", "3/12", "2026-12-03"}, {"AMAZON.DATE", "el día 5", "2026-12-05"},
			{"AMAZON.TIME", "a las tres de la tarde", "15:00"}, {"AMAZON.TIME", "las 10 de la mañana", "10:00"}, {"AMAZON.TIME", "a las once de la noche", "23:00"},
			{"AMAZON.TIME", "a las tres y media", "03:30"}, {"AMAZON.TIME", "las once menos cuarto", "10:45"}, {"AMAZON.TIME", "a la una y cuarto", "01:15"},
			{"AMAZON.TIME", "mediodía", "12:00"}, {"AMAZON.TIME", "medianoche", "00:00"}, {"AMAZON.TIME", "15:30", "15:30"},
			{"AMAZON.TIME", "por la mañana", "MO"}, {"AMAZON.TIME", "por la tarde", "AF"}, {"AMAZON.TIME", "esta noche", "NI"}, {"AMAZON.TIME", "a las 5 en punto", "05:00"},
			{"AMAZON.DURATION", "dos horas", "PT2H"}, {"AMAZON.DURATION", "media hora", "PT30M"}, {"AMAZON.DURATION", "dos horas y media", "PT2H30M"},
			{"AMAZON.DURATION", "tres días", "P3D"}, {"AMAZON.DURATION", "una semana", "P1W"},
			{"AMAZON.Percentage", "cincuenta por ciento", "50%"}, {"AMAZON.PhoneNumber", "612 34 56 78", "612345678"},
			{"AMAZON.EmailAddress", "ana arroba correo punto es", "ana@correo.es"},
			{"AMAZON.City", "nueva york", "Nueva York"}, {"AMAZON.City", "londres", "Londres"}, {"AMAZON.Country", "españa", "España"}, {"AMAZON.Country", "estados unidos", "Estados Unidos"},
			{"AMAZON.FirstName", "maría", "María"}, {"AMAZON.US_STATE", "carolina del norte", "Carolina del Norte"},
		})
	}
}

// Relative dates across month and year ends.
func TestMonthYearEnds(t *testing.T) {
	ny := zone(t, "America/New_York")
	run(t, "en", "en-US", time.Date(2026, 12, 31, 22, 0, 0, 0, ny), []rc{
		{"AMAZON.DATE", "tomorrow", "2027-01-01"}, {"AMAZON.DATE", "next week", "2027-W01"}, {"AMAZON.DATE", "next month", "2027-01"},
		{"AMAZON.DATE", "in 2 days", "2027-01-02"}, {"AMAZON.DATE", "january 3rd", "2027-01-03"}, {"AMAZON.DATE", "next friday", "2027-01-01"},
		{"AMAZON.DATE", "december 3rd", "2027-12-03"}, {"AMAZON.DATE", "this year", "2026"}, {"AMAZON.DATE", "the 1st", "2027-01-01"},
	})
	run(t, "en", "en-US", time.Date(2027, 1, 31, 9, 0, 0, 0, ny), []rc{
		{"AMAZON.DATE", "in a month", "2027-02-28"}, {"AMAZON.DATE", "tomorrow", "2027-02-01"}, {"AMAZON.DATE", "yesterday", "2027-01-30"},
		{"AMAZON.DATE", "the 30th", "2027-03-30"},
	})
	run(t, "en", "en-US", time.Date(2028, 2, 28, 9, 0, 0, 0, ny), []rc{{"AMAZON.DATE", "tomorrow", "2028-02-29"}, {"AMAZON.DATE", "day after tomorrow", "2028-03-01"}})
	run(t, "es", "es-ES", time.Date(2026, 12, 31, 12, 0, 0, 0, zone(t, "Europe/Madrid")), []rc{
		{"AMAZON.DATE", "mañana", "2027-01-01"}, {"AMAZON.DATE", "pasado mañana", "2027-01-02"}, {"AMAZON.DATE", "el mes que viene", "2027-01"},
		{"AMAZON.DATE", "el próximo lunes", "2027-01-04"}, {"AMAZON.DATE", "el año que viene", "2027"},
	})
}

// Daylight-saving changes: America/New_York springs forward on
// 2026-03-08 and falls back on 2026-11-01; Europe/Madrid on 2026-03-29
// and 2026-10-25.
func TestDST(t *testing.T) {
	ny := zone(t, "America/New_York")
	mad := zone(t, "Europe/Madrid")
	// 23:30 local on the day before the change: "tomorrow" is still the next calendar day
	run(t, "en", "en-US", time.Date(2026, 3, 7, 23, 30, 0, 0, ny), []rc{
		{"AMAZON.DATE", "tomorrow", "2026-03-08"}, {"AMAZON.DATE", "in 2 days", "2026-03-09"}, {"AMAZON.TIME", "in 3 hours", "03:30"},
	})
	// the instant 2026-03-09T03:30Z is 23:30 EDT on March 8 in New York
	run(t, "en", "en-US", time.Date(2026, 3, 9, 3, 30, 0, 0, time.UTC).In(ny), []rc{{"AMAZON.DATE", "today", "2026-03-08"}, {"AMAZON.DATE", "tomorrow", "2026-03-09"}})
	// 01:30 on the fall-back day: one hour later is 01:30 again (EST)
	run(t, "en", "en-US", time.Date(2026, 11, 1, 1, 30, 0, 0, ny), []rc{
		{"AMAZON.TIME", "in 1 hour", "01:30"}, {"AMAZON.DATE", "tomorrow", "2026-11-02"}, {"AMAZON.DATE", "next sunday", "2026-11-08"},
	})
	run(t, "es", "es-ES", time.Date(2026, 3, 29, 1, 30, 0, 0, mad), []rc{
		{"AMAZON.TIME", "dentro de 1 hora", "03:30"}, {"AMAZON.DATE", "mañana", "2026-03-30"}, {"AMAZON.DATE", "hoy", "2026-03-29"},
	})
	run(t, "es", "es-ES", time.Date(2026, 10, 24, 23, 30, 0, 0, mad), []rc{
		{"AMAZON.DATE", "mañana", "2026-10-25"}, {"AMAZON.DATE", "pasado mañana", "2026-10-26"}, {"AMAZON.TIME", "dentro de 3 horas", "02:30"}, {"AMAZON.TIME", "dentro de 4 horas", "02:30"},
	})
}

func TestFind(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, zone(t, "America/New_York"))
	in := prep("book a table for two tomorrow at 7 pm and call 555 123 4567", "en", "en-US", now)
	for _, c := range []struct {
		typ  string
		want []string
	}{{"AMAZON.DATE", []string{"2026-11-23"}}, {"AMAZON.TIME", []string{"19:00"}}, {"AMAZON.PhoneNumber", []string{"5551234567"}}} {
		var got []string
		for _, m := range Find(c.typ, in) {
			got = append(got, m.Value)
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("Find %s = %v, want %v", c.typ, got, c.want)
		}
	}
}

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"flowers", "flowrs", 1}, {"flowers", "flwoers", 1}, {"kitten", "sitting", 3}, {"", "abc", 3}, {"roses", "roses", 0}} {
		if got := Distance(c.a, c.b, 5); got != c.d {
			t.Errorf("Distance(%q,%q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}
