// Package builtin resolves Lex built-in slot types (AMAZON.*) in English
// and Spanish: it finds spans of an utterance that hold a value of a type
// and renders the value in Lex's output format (spec §2.8): NUMBER as
// digits, DATE as YYYY-MM-DD (or YYYY-Www, YYYY-Www-WE, YYYY-MM, YYYY),
// TIME as HH:MM in 24 h (or MO/AF/EV/NI), DURATION as ISO 8601, and so on.
//
// Relative dates and times are computed from Context.Now in Context.Now's
// location (the runtime passes the request time converted to the
// x-amz-lex:time-zone zone). Calendar arithmetic is done on dates, never
// by adding 24 h, so daylight-saving changes cannot shift a day.
package builtin

import (
	"strings"
	"time"
)

// Word is one token of an utterance: its folded form (lower case, accents
// folded, ñ kept, apostrophes removed) and the text as typed.
type Word struct{ Norm, Raw string }

// Context is what resolution depends on.
type Context struct {
	Lang   string    // "en" or "es"
	Locale string    // en-US, en-GB, es-ES, …: decides 12/03 vs 03/12
	Now    time.Time // reference time, in the time zone of the request
}

// Match is a span [Start, End) of the words holding a value.
type Match struct {
	Start, End int
	Value      string
}

// Input is an utterance prepared for the resolvers: keywords are
// canonicalised once (typos in month, weekday and number words within
// one edit are corrected), so several types can be searched cheaply.
type Input struct {
	W   []string // canonical folded words
	Raw []string
	c   Context
}

// Prepare canonicalises words for Find and Resolve.
func Prepare(words []Word, c Context) *Input {
	in := &Input{W: make([]string, len(words)), Raw: make([]string, len(words)), c: c}
	if c.Lang != "es" {
		c.Lang = "en"
		in.c.Lang = "en"
	}
	for i, w := range words {
		in.W[i] = canon(w.Norm, c.Lang)
		in.Raw[i] = w.Raw
	}
	return in
}

type parser func(in *Input, i int) (end int, value string)

var parsers = map[string]parser{
	"AMAZON.NUMBER":            parseNumberSlot,
	"AMAZON.FOUR_DIGIT_NUMBER": parseFourDigit,
	"AMAZON.Ordinal":           parseOrdinalSlot,
	"AMAZON.DATE":              parseDate,
	"AMAZON.TIME":              parseTime,
	"AMAZON.DURATION":          parseDuration,
	"AMAZON.Percentage":        parsePercent,
	"AMAZON.PhoneNumber":       parsePhone,
	"AMAZON.EmailAddress":      parseEmail,
	"AMAZON.AlphaNumeric":      parseAlnum,
	"AMAZON.City":              gaz("city"),
	"AMAZON.US_CITY":           gaz("city"),
	"AMAZON.EUROPE_CITY":       gaz("city"),
	"AMAZON.GB_CITY":           gaz("city"),
	"AMAZON.Country":           gaz("country"),
	"AMAZON.FirstName":         gaz("firstname"),
	"AMAZON.US_FIRST_NAME":     gaz("firstname"),
	"AMAZON.LastName":          gaz("lastname"),
	"AMAZON.State":             gaz("state"),
	"AMAZON.US_STATE":          gaz("state"),
	"AMAZON.Airport":           gaz("airport"),
	"AMAZON.SpeedUnit":         gaz("speedunit"),
	"AMAZON.WeightUnit":        gaz("weightunit"),
	"AMAZON.Color":             gaz("color"),
	"AMAZON.DayOfWeek":         parseDayOfWeek,
	"AMAZON.StreetName":        parseStreet,
}

// freeText types accept any text the dialog puts in their place (when a
// sample utterance anchors the span or the user answers an elicitation),
// not only what their resolver recognises.
var freeText = map[string]bool{
	"AMAZON.AlphaNumeric": true, "AMAZON.City": true, "AMAZON.US_CITY": true, "AMAZON.EUROPE_CITY": true,
	"AMAZON.GB_CITY": true, "AMAZON.FirstName": true, "AMAZON.US_FIRST_NAME": true, "AMAZON.LastName": true,
	"AMAZON.StreetName": true, "AMAZON.Airport": true,
}

// Known reports whether typ has a resolver. Types without one (any other
// AMAZON.* name) pass the user's text through unchanged: FreeText is true
// for them.
func Known(typ string) bool { _, ok := parsers[typ]; return ok }

// FreeText reports whether a value of typ may be any text (names, cities,
// codes, unknown built-ins) when the context marks the span as the slot.
func FreeText(typ string) bool { return freeText[typ] || !Known(typ) }

// Types lists the built-in slot types with a resolver.
func Types() []string {
	out := make([]string, 0, len(parsers))
	for t := range parsers {
		out = append(out, t)
	}
	return out
}

// Find returns the non-overlapping spans holding a value of typ, scanning
// left to right and taking the longest parse at each position.
func Find(typ string, in *Input) []Match {
	p := parsers[typ]
	if p == nil {
		return nil
	}
	var out []Match
	for i := 0; i < len(in.W); {
		if end, v := p(in, i); end > i {
			out = append(out, Match{i, end, v})
			i = end
			continue
		}
		i++
	}
	return out
}

// Resolve resolves the whole input as a value of typ. Leading filler
// ("on", "at", "el", "a las", "it's") is skipped. For a type without a
// resolver it returns the raw text. ok is false when the text is not a
// value of typ.
func Resolve(typ string, in *Input) (string, bool) {
	if len(in.W) == 0 {
		return "", false
	}
	p := parsers[typ]
	if p == nil {
		return strings.Join(in.Raw, " "), true
	}
	for s := 0; s < len(in.W) && s <= 3; s++ {
		if s > 0 && !filler[in.W[s-1]] {
			break
		}
		if end, v := p(in, s); end == len(in.W) {
			return v, true
		}
		// a bare hour or day number answering a TIME or DATE question
		if end, v := resolveBare(typ, in, s); end == len(in.W) {
			return v, true
		}
	}
	return "", false
}

var filler = toSet("on at for by in the its it is a an um uh well make that about around el la los las a en para por es son sobre hacia eh pues")

func toSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

func (in *Input) at(i int) string {
	if i < 0 || i >= len(in.W) {
		return ""
	}
	return in.W[i]
}
