package asr

import (
	"sort"
	"strings"

	"lextrail/internal/nlu/builtin"
)

// The spoken forms of Lex's built-in slot types, as JSGF rules, kept to
// what the NLU's resolvers (package nlu/builtin) understand so that a
// recognised phrase always resolves: numbers to 999,999 in words, dates
// ("tomorrow", "next friday", "december third", "in two weeks", "el
// próximo lunes", "el tres de diciembre"), times ("three thirty p m",
// "half past four", "a las tres y media de la tarde"), durations,
// percentages, phone numbers and codes as spoken digits and letters, and
// the gazetteer types (cities, countries, names, states…) from the NLU's
// own lists.

// builtinRules returns the rule definitions every grammar of lang shares
// (referenced as <b_...>).
func builtinRules(lang string) string {
	if lang == "es" {
		return esBuiltins
	}
	return enBuiltins
}

// builtinRef maps a built-in slot type to its rule; ok is false for free
// text types, which get the grammar's own vocabulary instead.
func builtinRef(typ, lang string) (rule string, ok bool) {
	switch typ {
	case "AMAZON.NUMBER":
		return "<b_number>", true
	case "AMAZON.FOUR_DIGIT_NUMBER":
		return "<b_fourdigit>", true
	case "AMAZON.Ordinal":
		return "<b_ordinal>", true
	case "AMAZON.DATE":
		return "<b_date>", true
	case "AMAZON.TIME":
		return "<b_time>", true
	case "AMAZON.DURATION":
		return "<b_duration>", true
	case "AMAZON.Percentage":
		return "<b_percent>", true
	case "AMAZON.PhoneNumber":
		return "<b_phone>", true
	case "AMAZON.AlphaNumeric":
		return "<b_alnum>", true
	case "AMAZON.EmailAddress":
		return "<b_email>", true
	case "AMAZON.DayOfWeek":
		return "<b_weekday>", true
	}
	if kind := gazetteerKind(typ); kind != "" {
		return "<g_" + kind + ">", true
	}
	return "", false
}

func gazetteerKind(typ string) string {
	switch typ {
	case "AMAZON.City", "AMAZON.US_CITY", "AMAZON.EUROPE_CITY", "AMAZON.GB_CITY":
		return "city"
	case "AMAZON.Country":
		return "country"
	case "AMAZON.FirstName", "AMAZON.US_FIRST_NAME":
		return "firstname"
	case "AMAZON.LastName":
		return "lastname"
	case "AMAZON.State", "AMAZON.US_STATE":
		return "state"
	case "AMAZON.Airport":
		return "airport"
	case "AMAZON.SpeedUnit":
		return "speedunit"
	case "AMAZON.WeightUnit":
		return "weightunit"
	case "AMAZON.Color":
		return "color"
	}
	return ""
}

// gazetteerPhrases are the spoken forms of a gazetteer kind, sorted.
func gazetteerPhrases(kind, lang string) []string {
	vals := builtin.Gazetteer(kind, lang)
	seen := map[string]bool{}
	var out []string
	for _, v := range vals {
		p := strings.Join(tokenize(v, lang), " ")
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// Letters and digits spelled one by one carry the "_sp" suffix in the
// grammar; the recogniser joins a run of them into one code ("a_sp b_sp
// one_sp" → "AB1"), the form the AlphaNumeric resolver reads.
const spellSuffix = "_sp"

var enLetterNames = map[string]string{
	"a": "EY", "b": "B IY", "c": "S IY", "d": "D IY", "e": "IY", "f": "EH F", "g": "JH IY", "h": "EY CH",
	"i": "AY", "j": "JH EY", "k": "K EY", "l": "EH L", "m": "EH M", "n": "EH N", "o": "OW", "p": "P IY",
	"q": "K Y UW", "r": "AA R", "s": "EH S", "t": "T IY", "u": "Y UW", "v": "V IY", "w": "D AH B AH L Y UW",
	"x": "EH K S", "y": "W AY", "z": "Z IY",
}

var esLetterNames = map[string]string{
	"a": "AA", "b": "B EH", "c": "S EH", "d": "D EH", "e": "EH", "f": "EH F EH", "g": "HH EH", "h": "AA CH EH",
	"i": "IY", "j": "HH OW T AA", "k": "K AA", "l": "EH L EH", "m": "EH M EH", "n": "EH N EH", "o": "OW",
	"p": "P EH", "q": "K UW", "r": "EH R EH", "s": "EH S EH", "t": "T EH", "u": "UW", "v": "UW B EH",
	"w": "D OW B L EH UW B EH", "x": "EH K IY S", "y": "IY G R Y EH G AA", "z": "S EH T AA",
}

var digitNames = map[string][]string{
	"en": strings.Fields("zero one two three four five six seven eight nine"),
	"es": strings.Fields("cero uno dos tres cuatro cinco seis siete ocho nueve"),
}

// spelledWords returns the spelled-letter and spelled-digit tokens with
// their pronunciations for lang.
func spelledWords(lang string, pron func(string) []string) map[string][]string {
	names := enLetterNames
	if lang == "es" {
		names = esLetterNames
	}
	out := map[string][]string{}
	for l, p := range names {
		out[l+spellSuffix] = []string{p}
	}
	if lang == "es" {
		out["c"+spellSuffix] = append(out["c"+spellSuffix], "TH EH")
		out["z"+spellSuffix] = append(out["z"+spellSuffix], "TH EH T AA")
	}
	for d, w := range digitNames[lang] {
		out[string(rune('0'+d))+spellSuffix] = pron(w)
	}
	return out
}

func spelledRule(lang string) string {
	names := enLetterNames
	var toks []string
	for l := range names {
		toks = append(toks, l+spellSuffix)
	}
	for d := 0; d < 10; d++ {
		toks = append(toks, string(rune('0'+d))+spellSuffix)
	}
	sort.Strings(toks)
	return "<b_spelled> = " + strings.Join(toks, " | ") + ";\n"
}

const enBuiltins = `
<b_unit> = one | two | three | four | five | six | seven | eight | nine;
<b_teen> = ten | eleven | twelve | thirteen | fourteen | fifteen | sixteen | seventeen | eighteen | nineteen;
<b_tens> = twenty | thirty | forty | fifty | sixty | seventy | eighty | ninety;
<b_n99> = <b_unit> | <b_teen> | <b_tens> [<b_unit>];
<b_n999> = <b_n99> | (a | <b_unit>) hundred [[and] <b_n99>];
<b_number> = zero | <b_n999> | <b_n999> thousand [[and] <b_n999>] | a dozen | <b_n99> dozen;
<b_fourdigit> = <b_digit> <b_digit> <b_digit> <b_digit> | <b_n99> <b_n99> | <b_n99> hundred | <b_n999> thousand [[and] <b_n999>];
<b_digit> = zero | oh | <b_unit>;
<b_ordunit> = first | second | third | fourth | fifth | sixth | seventh | eighth | ninth;
<b_ordinal> = <b_ordunit> | tenth | eleventh | twelfth | thirteenth | fourteenth | fifteenth | sixteenth | seventeenth | eighteenth | nineteenth | twentieth | twenty <b_ordunit> | thirtieth | thirty first;
<b_weekday> = monday | tuesday | wednesday | thursday | friday | saturday | sunday;
<b_month> = january | february | march | april | may | june | july | august | september | october | november | december;
<b_daynum> = <b_unit> | <b_teen> | twenty [<b_unit>] | thirty [one];
<b_year> = twenty twenty <b_unit> | twenty thirty | two thousand [and] <b_n99>;
<b_dateunit> = day | days | week | weeks | month | months | year | years;
<b_count> = (a | an | <b_n99>) <b_dateunit> | a couple of <b_dateunit>;
<b_date> = today | tonight | tomorrow | yesterday | [the] day after tomorrow | [the] day before yesterday
  | [this | next | last | coming] <b_weekday> | <b_weekday> after next | <b_weekday> next week
  | (this | next | last) (week | weekend | month | year)
  | <b_month> [the] (<b_ordinal> | <b_daynum>) [<b_year>] | [the] <b_ordinal> of <b_month> [<b_year>] | the <b_ordinal>
  | <b_month> [<b_year>]
  | in <b_count> | <b_count> (from now | from today | from tomorrow | ago | later);
<b_hour> = <b_unit> | ten | eleven | twelve;
<b_minute> = oh <b_unit> | <b_teen> | <b_tens> [<b_unit>];
<b_meridiem> = am | pm | in the morning | in the afternoon | in the evening | at night | tonight;
<b_timeunit> = minute | minutes | hour | hours;
<b_time> = <b_hour> [<b_minute>] [<b_meridiem>] | <b_hour> o'clock [<b_meridiem>]
  | (quarter | a quarter | half | <b_minute> [minutes]) (past | to | after) <b_hour> [<b_meridiem>]
  | noon | midnight | midday | [this] (morning | afternoon | evening) | tonight | in the (morning | afternoon | evening)
  | in (a | an | <b_n99>) <b_timeunit>;
<b_durunit> = second | seconds | minute | minutes | hour | hours | day | days | week | weeks | month | months | year | years;
<b_duration> = (a | an | <b_n99>) <b_durunit> [and a half] | half an hour | an hour and a half;
<b_percent> = <b_number> percent;
<b_phone> = <b_digit> <b_digit> <b_digit> <b_digit> <b_digit> <b_digit> <b_digit> <b_digit>*;
<b_alnum> = <b_spelled> <b_spelled> <b_spelled>+;
<b_emailword> = <g_firstname> | <g_lastname> | <b_spelled>+;
<b_email> = <b_emailword> [(dot | underscore) <b_emailword>] at (gmail | yahoo | hotmail | outlook | icloud | example | amazon | <b_emailword>) dot (com | net | org | edu | io | co);
`

const esBuiltins = `
<b_unit> = uno | un | una | dos | tres | cuatro | cinco | seis | siete | ocho | nueve;
<b_teen> = diez | once | doce | trece | catorce | quince | dieciséis | diecisiete | dieciocho | diecinueve;
<b_twenties> = veinte | veintiuno | veintiún | veintiuna | veintidós | veintitrés | veinticuatro | veinticinco | veintiséis | veintisiete | veintiocho | veintinueve;
<b_tens> = treinta | cuarenta | cincuenta | sesenta | setenta | ochenta | noventa;
<b_n99> = <b_unit> | <b_teen> | <b_twenties> | <b_tens> [y <b_unit>];
<b_hundreds> = doscientos | doscientas | trescientos | trescientas | cuatrocientos | cuatrocientas | quinientos | quinientas | seiscientos | seiscientas | setecientos | setecientas | ochocientos | ochocientas | novecientos | novecientas;
<b_n999> = <b_n99> | cien | ciento <b_n99> | <b_hundreds> [<b_n99>];
<b_number> = cero | <b_n999> | [<b_n999>] mil [<b_n999>] | una docena;
<b_digit> = cero | <b_unit>;
<b_fourdigit> = <b_digit> <b_digit> <b_digit> <b_digit> | [<b_n999>] mil [<b_n999>];
<b_ordinal> = primero | primer | primera | segundo | segunda | tercero | tercer | tercera | cuarto | cuarta | quinto | quinta | sexto | sexta | séptimo | séptima | octavo | octava | noveno | novena | décimo | décima;
<b_weekday> = lunes | martes | miércoles | jueves | viernes | sábado | domingo;
<b_month> = enero | febrero | marzo | abril | mayo | junio | julio | agosto | septiembre | octubre | noviembre | diciembre;
<b_daynum> = <b_unit> | <b_teen> | <b_twenties> | treinta [y uno] | primero;
<b_year> = dos mil <b_n99>;
<b_dateunit> = día | días | semana | semanas | mes | meses | año | años;
<b_count> = (un | una | <b_n99>) <b_dateunit> | un par de <b_dateunit>;
<b_date> = hoy | mañana | pasado mañana | ayer | anteayer
  | [el] [próximo | este] <b_weekday> [que viene | próximo] | el <b_weekday> de la semana que viene
  | (la | esta) semana [que viene] | la próxima semana | [el | este] fin de semana [que viene] | el próximo fin de semana
  | el mes que viene | el próximo mes | el año que viene
  | [el] [día] <b_daynum> de <b_month> [de <b_year>] | el día <b_daynum> | <b_month> [de <b_year>]
  | dentro de <b_count> | en <b_count>;
<b_hour> = una | dos | tres | cuatro | cinco | seis | siete | ocho | nueve | diez | once | doce;
<b_minute> = <b_unit> | <b_teen> | <b_twenties> | (treinta | cuarenta | cincuenta) [y <b_unit>];
<b_dayperiod> = de la mañana | de la tarde | de la noche | de la madrugada | del mediodía;
<b_time> = [a] [las | la] <b_hour> [y media | y cuarto | menos cuarto | y <b_minute> | menos <b_minute> | en punto] [<b_dayperiod>]
  | [al] mediodía | [a] medianoche | (por | en) la (mañana | tarde | noche) | esta (mañana | tarde | noche)
  | dentro de (una | un | <b_n99>) (hora | horas | minuto | minutos);
<b_durunit> = segundo | segundos | minuto | minutos | hora | horas | día | días | semana | semanas | mes | meses | año | años;
<b_duration> = (un | una | <b_n99>) <b_durunit> [y media | y medio] | media hora;
<b_percent> = <b_number> por ciento;
<b_phone> = <b_digit> <b_digit> <b_digit> <b_digit> <b_digit> <b_digit> <b_digit> <b_digit>*;
<b_alnum> = <b_spelled> <b_spelled> <b_spelled>+;
<b_emailword> = <g_firstname> | <g_lastname> | <b_spelled>+;
<b_email> = <b_emailword> [(punto | guion) <b_emailword>] arroba (gmail | yahoo | hotmail | outlook | icloud | ejemplo | <b_emailword>) punto (com | es | net | org | mx);
`
