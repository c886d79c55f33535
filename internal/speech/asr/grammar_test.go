package asr

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"lextrail/internal/nlu"
	"lextrail/internal/speech/lexicon"
)

func TestTokenize(t *testing.T) {
	for _, c := range []struct {
		lang, in string
		want     string
	}{
		{"en", "I'd like 2 roses @ 3pm, please!", "i'd like two roses at three pm please"},
		{"en", "order {FlowerType} for {PickupDate}", "order {flowertype} for {pickupdate}"},
		{"en", "room 101 & 50% off", "room one hundred one and fifty percent off"},
		{"en", "call 0800", "call zero eight zero zero"},
		{"en", "code 12345678", "code one two three four five six seven eight"},
		{"es", "¿Quiero 21 habitaciones?", "quiero veintiuno habitaciones"},
		{"es", "son 135 euros y 2.000", "son ciento treinta y cinco euros y dos cero cero cero"},
		{"es", "l'hotel", "l hotel"},
		{"es", "1000 noches", "mil noches"},
	} {
		if got := strings.Join(tokenize(c.in, c.lang), " "); got != c.want {
			t.Errorf("tokenize(%q, %s) = %q, want %q", c.in, c.lang, got, c.want)
		}
	}
	for n, want := range map[int]string{0: "zero", 19: "nineteen", 40: "forty", 99: "ninety nine", 100: "one hundred", 2026: "two thousand twenty six", 999999: "nine hundred ninety nine thousand nine hundred ninety nine"} {
		if got := englishNumber(n); got != want {
			t.Errorf("englishNumber(%d) = %q", n, got)
		}
	}
	for n, want := range map[int]string{16: "dieciséis", 22: "veintidós", 31: "treinta y uno", 100: "cien", 101: "ciento uno", 500: "quinientos", 1000: "mil", 2026: "dos mil veintiséis"} {
		if got := spanishNumber(n); got != want {
			t.Errorf("spanishNumber(%d) = %q", n, got)
		}
	}
}

// fsgAccepts simulates a compiled FSG on a word sequence.
type fsgGraph struct {
	start, final int
	word         map[int]map[string][]int
	null         map[int][]int
}

func parseFSG(t *testing.T, text string) *fsgGraph {
	t.Helper()
	g := &fsgGraph{word: map[int]map[string][]int{}, null: map[int][]int{}}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "START_STATE":
			g.start, _ = strconv.Atoi(f[1])
		case "FINAL_STATE":
			g.final, _ = strconv.Atoi(f[1])
		case "TRANSITION":
			from, _ := strconv.Atoi(f[1])
			to, _ := strconv.Atoi(f[2])
			if p, err := strconv.ParseFloat(f[3], 64); err != nil || p <= 0 || p > 1 {
				t.Fatalf("probability %q", f[3])
			}
			if len(f) == 4 {
				g.null[from] = append(g.null[from], to)
			} else {
				if g.word[from] == nil {
					g.word[from] = map[string][]int{}
				}
				g.word[from][f[4]] = append(g.word[from][f[4]], to)
			}
		}
	}
	return g
}

func (g *fsgGraph) closure(set map[int]bool) map[int]bool {
	stack := []int{}
	for s := range set {
		stack = append(stack, s)
	}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, t := range g.null[s] {
			if !set[t] {
				set[t] = true
				stack = append(stack, t)
			}
		}
	}
	return set
}

func (g *fsgGraph) accepts(sentence string) bool {
	cur := g.closure(map[int]bool{g.start: true})
	for _, w := range strings.Fields(sentence) {
		next := map[int]bool{}
		for s := range cur {
			for _, t := range g.word[s][w] {
				next[t] = true
			}
		}
		cur = g.closure(next)
	}
	return cur[g.final]
}

func (g *fsgGraph) words() map[string]bool {
	out := map[string]bool{}
	for _, m := range g.word {
		for w := range m {
			out[w] = true
		}
	}
	return out
}

func TestCompileOrderFlowers(t *testing.T) {
	spec := loadSpec(t, "orderflowers")
	g, err := Compile(spec, nil) // rules only: no dictionary needed for the graph
	if err != nil {
		t.Fatal(err)
	}
	wantFoci := []string{FocusIntent, FocusConfirm, FocusAny, SlotFocus("OrderFlowers", "FlowerType"), SlotFocus("OrderFlowers", "PickupDate"), SlotFocus("OrderFlowers", "PickupTime"), SlotFocus("CancelOrder", "OrderNumber")}
	for _, f := range wantFoci {
		if !g.Has(f) {
			t.Fatalf("no graph for %s", f)
		}
	}
	intent := parseFSG(t, g.FSGs[FocusIntent])
	date := parseFSG(t, g.FSGs[SlotFocus("OrderFlowers", "PickupDate")])
	time_ := parseFSG(t, g.FSGs[SlotFocus("OrderFlowers", "PickupTime")])
	confirm := parseFSG(t, g.FSGs[FocusConfirm])
	for _, c := range []struct {
		g        *fsgGraph
		sentence string
		ok       bool
	}{
		{intent, "i want to order roses", true},
		{intent, "i want to order red roses please", true},
		{intent, "order tulips for next friday", true},
		{intent, "order lilies for december twenty first", true},
		{intent, "i want sunflowers on tomorrow at half past four pm", true},
		{intent, "can i get some orchids at three thirty in the afternoon", true},
		{intent, "track order a_sp b_sp c_sp one_sp two_sp", false}, // letters are spelled tokens a_sp…: "one_sp" is not one
		{intent, "track order a_sp b_sp c_sp 1_sp 2_sp", true},
		{intent, "where is my order", true},
		{intent, "gbg_aa gbg_t", true}, // the garbage loop
		{intent, "i want to order", false},
		{intent, "the weather is nice today", false},
		{intent, "yes", false},
		{date, "tomorrow", true},
		{date, "on next friday", true},
		{date, "pick them up the day after tomorrow", true},
		{date, "in two weeks", true},
		{date, "i want to order roses", true}, // an intent utterance is still heard
		{date, "three pm", false},
		{time_, "at three pm", true},
		{time_, "noon", true},
		{time_, "a quarter to five", true},
		{time_, "tomorrow", false},
		{confirm, "yes", true},
		{confirm, "no thank you", true},
		{confirm, "tomorrow", false},
	} {
		if got := c.g.accepts(c.sentence); got != c.ok {
			t.Errorf("%q: accepted %v, want %v", c.sentence, got, c.ok)
		}
	}
	// every word of every graph has a pronunciation
	dict := map[string]bool{}
	for _, line := range strings.Split(g.Dict, "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			w := f[0]
			if i := strings.IndexByte(w, '('); i > 0 {
				w = w[:i]
			}
			dict[w] = true
			if !lexicon.Valid(strings.Join(f[1:], " ")) {
				t.Errorf("bad pronunciation %q", line)
			}
		}
	}
	for f, text := range g.FSGs {
		for w := range parseFSG(t, text).words() {
			if !dict[w] {
				t.Errorf("%s: %q has no pronunciation", f, w)
			}
		}
		if n := g.Arcs[f]; n == 0 || n > 4000 {
			t.Errorf("%s: %d arcs", f, n)
		}
	}
	if len(g.RuleWords) != g.Words-len(enLetterNames)-10 && g.Words == 0 {
		t.Errorf("words %d rule words %d", g.Words, len(g.RuleWords))
	}
	// serialisation and the cache key
	g2, err := Load(g.Marshal())
	if err != nil || !reflect.DeepEqual(g, g2) {
		t.Fatalf("round trip: %v", err)
	}
	if Key(spec) != g.Key || len(g.Key) != 64 {
		t.Errorf("key %q", g.Key)
	}
	spec.Intents[0].SampleUtterances = append(spec.Intents[0].SampleUtterances, "flowers now")
	if Key(spec) == g.Key {
		t.Error("key does not change with the spec")
	}
	if _, err := Load([]byte(`{"schema":0}`)); err == nil {
		t.Error("old schema loaded")
	}
	if _, err := Load([]byte(`{`)); err == nil {
		t.Error("bad JSON loaded")
	}
}

func TestCompileSpanish(t *testing.T) {
	g, err := Compile(loadSpec(t, "reservarhotel"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if g.Lang != "es" || g.Words == 0 || len(g.RuleWords) == 0 {
		t.Fatalf("%s %d %d", g.Lang, g.Words, len(g.RuleWords))
	}
	intent := parseFSG(t, g.FSGs[FocusIntent])
	noches := parseFSG(t, g.FSGs[SlotFocus("ReservarHotel", "Noches")])
	ciudad := parseFSG(t, g.FSGs[SlotFocus("ReservarHotel", "Ciudad")])
	for _, c := range []struct {
		g        *fsgGraph
		sentence string
		ok       bool
	}{
		{intent, "necesito un hotel en barcelona para el próximo viernes", true},
		{intent, "necesito un hotel en nueva york para el tres de diciembre", true},
		{intent, "reserva un hotel para veintidós noches", true},
		{intent, "quiero pedir flores por favor", true},
		{intent, "quiero recoger flores el lunes a las cinco y media de la tarde", true},
		{intent, "me gusta el fútbol", false},
		{noches, "tres noches", true},
		{noches, "treinta y una noches", true},
		{ciudad, "en sevilla", true},
		{ciudad, "sevilla", true},
		{ciudad, "mañana", false},
	} {
		if got := c.g.accepts(c.sentence); got != c.ok {
			t.Errorf("%q: accepted %v, want %v", c.sentence, got, c.ok)
		}
	}
	if !strings.Contains(g.Dict, "\nbarcelona(2) B AA R TH EH L OW N AA\n") && !strings.Contains(g.Dict, "B AA R TH EH L OW N AA") {
		t.Error("no distinción variant for barcelona")
	}
}

func TestCompileEdgeCases(t *testing.T) {
	// no utterances at all
	if _, err := Compile(nlu.ModelSpec{Locale: "en-US", Intents: []nlu.IntentSpec{{Name: "X"}}}, nil); err == nil {
		t.Error("a bot without utterances compiled")
	}
	// a built-in intent without utterances gets the built-in's, free text
	// slots the bot's own words, regex slot types spelled codes
	spec := nlu.ModelSpec{Locale: "en-US",
		Intents: []nlu.IntentSpec{
			{Name: "Help", Parent: "AMAZON.HelpIntent"},
			{Name: "Search", SampleUtterances: []string{"search for {Query}", "find {Query} in {Code}", "email me at {Mail}"},
				Slots: []nlu.SlotSpec{{Name: "Query", Type: "AMAZON.SearchQuery"}, {Name: "Code", Type: "Codes"}, {Name: "Mail", Type: "AMAZON.EmailAddress"}}},
		},
		SlotTypes: []nlu.SlotTypeSpec{{Name: "Codes", Regexes: []string{"[A-Z]{3}[0-9]{2}"}}},
	}
	g, err := Compile(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := parseFSG(t, g.FSGs[FocusIntent])
	for _, s := range []string{"help me", "what can i say", "search for find", "search for email me at", "find search in a_sp b_sp c_sp 1_sp 2_sp", "email me at john dot smith at gmail dot com"} {
		if !in.accepts(s) {
			t.Errorf("%q not accepted", s)
		}
	}
	// odd text in utterances and values never breaks the grammar
	spec = nlu.ModelSpec{Locale: "en-US", Intents: []nlu.IntentSpec{{Name: "Odd", SampleUtterances: []string{"<b_date> | ( [ ; * + = / {Slot} \"quoted\"", "ok"},
		Slots: []nlu.SlotSpec{{Name: "Slot", Type: "T"}}}}, SlotTypes: []nlu.SlotTypeSpec{{Name: "T", Values: []nlu.ValueSpec{{Value: "|;<x>", Synonyms: []string{"ä ö ü", "日本"}}}}}}
	if _, err := Compile(spec, nil); err != nil {
		t.Fatalf("odd text: %v", err)
	}
}

func TestJoinSpelled(t *testing.T) {
	for in, want := range map[string]string{
		"track order a_sp b_sp 1_sp 2_sp": "track order AB12",
		"a_sp then b_sp":                  "A then B",
		"no codes here":                   "no codes here",
	} {
		if got := joinSpelled(strings.Fields(in)); got != want {
			t.Errorf("%q → %q", in, got)
		}
	}
}

func TestParseExpansion(t *testing.T) {
	for _, bad := range []string{"(a | b", "[a", "a | | b", "* a", "", "a ]"} {
		if _, err := parseExpansion(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	rules := map[string]*expr{}
	for name, body := range map[string]string{"top": "(<x> | c) [d]", "x": "a b* | a+", "loop": "<loop> a"} {
		e, err := parseExpansion(body)
		if err != nil {
			t.Fatal(err)
		}
		rules[name] = e
	}
	a := &automata{rules: rules, memo: map[string]*nfa{}, busy: map[string]bool{}}
	text, _, err := compileFSG("t", "top", a, nil, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	g := parseFSG(t, text)
	for s, ok := range map[string]bool{"a": true, "a b b b": true, "a a a d": true, "c d": true, "c": true, "b": false, "d": false, "a b a": false} {
		if g.accepts(s) != ok {
			t.Errorf("%q: %v", s, !ok)
		}
	}
	if _, _, err := compileFSG("t", "loop", a, nil, 0, 0); err == nil || !strings.Contains(err.Error(), "recursive") {
		t.Errorf("recursion: %v", err)
	}
}

// FuzzCompile: any utterance and slot value text compiles to graphs whose
// words all have pronunciations — never a panic or a malformed graph.
func FuzzCompile(f *testing.F) {
	f.Add("I want {Flower} on {Day}", "red roses", "en-US")
	f.Add("quiero {Flower} para el {Day}", "rosas rojas", "es-ES")
	f.Add("{Flower}", "a1 b2", "en-US")
	f.Add("¿¡ñandú {Day}!?", "pingüino", "es-US")
	f.Add("<x> | ( ) [ ] ; = * + \"", "{Flower}", "en-US")
	f.Fuzz(func(t *testing.T, utt, value, locale string) {
		spec := nlu.ModelSpec{Locale: locale, Intents: []nlu.IntentSpec{{Name: "I", SampleUtterances: []string{utt, "hello there"},
			Slots: []nlu.SlotSpec{{Name: "Flower", Type: "Flowers"}, {Name: "Day", Type: "AMAZON.DayOfWeek"}}}},
			SlotTypes: []nlu.SlotTypeSpec{{Name: "Flowers", Values: []nlu.ValueSpec{{Value: value}, {Value: "tulips"}}}}}
		g, err := Compile(spec, nil)
		if err != nil {
			t.Fatalf("compile: %v", err)
		}
		dict := map[string]bool{}
		for _, line := range strings.Split(g.Dict, "\n") {
			if fl := strings.Fields(line); len(fl) > 1 {
				w := fl[0]
				if i := strings.IndexByte(w, '('); i > 0 {
					w = w[:i]
				}
				dict[w] = true
			}
		}
		for _, text := range g.FSGs {
			for _, line := range strings.Split(text, "\n") {
				fl := strings.Fields(line)
				if len(fl) == 5 && fl[0] == "TRANSITION" && !dict[fl[4]] {
					t.Fatalf("%q has no pronunciation", fl[4])
				}
				if len(fl) > 5 {
					t.Fatalf("malformed line %q", line)
				}
			}
		}
	})
}
