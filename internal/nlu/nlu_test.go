package nlu

import (
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestFoldTokenize(t *testing.T) {
	if got := Fold("Mañana, ÁRBOL Über don't"); got != "mañana, arbol uber dont" {
		t.Errorf("Fold = %q", got)
	}
	var got []string
	for _, tk := range Tokenize("Call me at 10:00 a.m., e-mail ana@x.es; 50% off, 12/03/2026 (555) 123-4567!", "en") {
		got = append(got, tk.Norm)
	}
	want := []string{"call", "me", "at", "10:00", "am", "e-mail", "ana@x.es", "50", "%", "off", "12/03/2026", "555", "123-4567"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Tokenize = %q\nwant      %q", got, want)
	}
	if s := Tokenize("reservaciones hoteles", "es"); s[0].Stem != "reserv" || s[1].Stem != "hotel" {
		t.Errorf("spanish stems %v", s)
	}
	if s := Tokenize("booking hotels", "en"); s[0].Stem != "book" || s[1].Stem != "hotel" {
		t.Errorf("english stems %v", s)
	}
}

func flowers(t testing.TB) *Model {
	m, err := Compile(loadSpec(t, "orderflowers"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var nyNow = func() time.Time {
	l, _ := time.LoadLocation("America/New_York")
	return time.Date(2026, 11, 22, 10, 0, 0, 0, l)
}()

func TestParseSlotsTyposSynonyms(t *testing.T) {
	m := flowers(t)
	opt := Options{Now: nyNow}
	for _, c := range []struct {
		utt, intent string
		slots       map[string]string
	}{
		{"I want to order rose for tomorow at 3 pm", "OrderFlowers", map[string]string{"FlowerType": "rose", "PickupDate": "2026-11-23", "PickupTime": "15:00"}},
		{"i would like to ordr some tulipz next friday", "OrderFlowers", map[string]string{"FlowerType": "tulipz", "PickupDate": "2026-11-27"}},
		{"cancle my order", "CancelOrder", map[string]string{}},
		{"track order AB12", "CheckOrderStatus", map[string]string{"OrderNumber": "AB12"}},
	} {
		r := m.Parse(c.utt, opt)
		if r.Intents[0].Name != c.intent {
			t.Errorf("%q: intent %s, want %s", c.utt, r.Intents[0].Name, c.intent)
			continue
		}
		got := map[string]string{}
		for k, v := range r.Intents[0].Slots {
			got[k] = v.Resolved
		}
		if !reflect.DeepEqual(got, c.slots) {
			t.Errorf("%q: slots %v, want %v", c.utt, got, c.slots)
		}
	}
	// the typo resolves to the canonical value in Resolutions
	r := m.Parse("order tulipz", opt)
	if v := r.Intents[0].Slots["FlowerType"]; v.Original != "tulipz" || !reflect.DeepEqual(v.Resolutions, []string{"tulips"}) {
		t.Errorf("typo slot %+v", v)
	}
	// scores are in [0,1] and sorted
	sc := m.Classify("I would like to pick up flowers", opt)
	if sc[0].Name != "OrderFlowers" || sc[0].Confidence != 1 {
		t.Errorf("exact sample utterance scores %+v", sc[0])
	}
	for i := 1; i < len(sc); i++ {
		if sc[i].Confidence > sc[i-1].Confidence || sc[i].Confidence < 0 {
			t.Errorf("unsorted or negative %+v", sc)
		}
	}
	if sc := m.Classify("cancel my order", Options{Now: nyNow, Intents: []string{"OrderFlowers", "StoreHours"}}); len(sc) != 2 {
		t.Errorf("eligible intents not honoured: %+v", sc)
	}
}

func TestStrategyAndRegex(t *testing.T) {
	spec := ModelSpec{Locale: "en-US",
		Intents: []IntentSpec{{Name: "Order", SampleUtterances: []string{"I want a {Size} pizza", "order pizza"},
			Slots: []SlotSpec{{Name: "Size", Type: "Sizes"}, {Name: "Code", Type: "Codes", SampleUtterances: []string{"my code is {Code}"}}}}},
		SlotTypes: []SlotTypeSpec{
			{Name: "Sizes", Strategy: "TOP_RESOLUTION", Values: []ValueSpec{{Value: "large", Synonyms: []string{"big", "huge"}}, {Value: "small", Synonyms: []string{"little"}}}},
			{Name: "Codes", Parent: "AMAZON.AlphaNumeric", Regexes: []string{`[A-Z]{2}[0-9]{3}`}},
		}}
	m, err := Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	r := m.Parse("i want a huge pizza", Options{Now: nyNow})
	if v := r.Intents[0].Slots["Size"]; v.Resolved != "large" || v.Original != "huge" {
		t.Errorf("TOP_RESOLUTION synonym: %+v", v)
	}
	spec.SlotTypes[0].Strategy = "ORIGINAL_VALUE"
	m2, _ := Compile(spec)
	if v := m2.Parse("i want a huge pizza", Options{}).Intents[0].Slots["Size"]; v.Resolved != "huge" || v.Resolutions[0] != "large" {
		t.Errorf("ORIGINAL_VALUE synonym: %+v", v)
	}
	if v, ok := m.FillSlot("Order", "Code", "my code is AB123", Options{}); !ok || v.Resolved != "AB123" {
		t.Errorf("regex FillSlot: %+v %v", v, ok)
	}
	if v, ok := m.FillSlot("Order", "Code", "AB12", Options{}); ok {
		t.Errorf("regex mismatch accepted: %+v", v)
	}
	if v, ok := m.FillSlot("Order", "Size", "the biggg one", Options{}); ok {
		t.Logf("fuzzy FillSlot: %+v", v) // "biggg" is two edits from "big": not accepted for a 5-letter word
	}
	if _, err := Compile(ModelSpec{Locale: "en-US", SlotTypes: []SlotTypeSpec{{Name: "Bad", Regexes: []string{"("}}}}); err == nil {
		t.Error("bad regex compiled")
	}
	if _, err := Compile(ModelSpec{Locale: "en-US", Intents: []IntentSpec{{Name: "I", SampleUtterances: []string{"hi {Nope}"}}}}); err == nil {
		t.Error("unknown slot compiled")
	}
}

func TestFillSlot(t *testing.T) {
	m := flowers(t)
	opt := Options{Now: nyNow}
	for _, c := range []struct{ slot, utt, want string }{
		{"FlowerType", "roses", "roses"}, {"FlowerType", "I want lilies", "lilies"}, {"FlowerType", "lillies please", "lillies"},
		{"FlowerType", "daffodils", "daffodils"}, // ORIGINAL_VALUE accepts an unlisted answer to its own prompt
		{"PickupDate", "tuesday", "2026-11-24"}, {"PickupDate", "make it next friday", "2026-11-27"}, {"PickupDate", "on the 3rd", "2026-12-03"},
		{"PickupTime", "10:00 a.m.", "10:00"}, {"PickupTime", "at 5", "05:00"}, {"PickupTime", "in the afternoon", "AF"},
	} {
		v, ok := m.FillSlot("OrderFlowers", c.slot, c.utt, opt)
		if !ok || v.Resolved != c.want {
			t.Errorf("FillSlot %s %q = %+v %v, want %q", c.slot, c.utt, v, ok, c.want)
		}
	}
	if _, ok := m.FillSlot("OrderFlowers", "PickupDate", "blue", opt); ok {
		t.Error("non-date accepted")
	}
	es, _ := Compile(loadSpec(t, "reservarhotel"))
	for _, c := range []struct{ slot, utt, want string }{
		{"FechaEntrada", "el próximo viernes", "2026-11-27"}, {"Noches", "veintidós", "22"}, {"TipoHabitacion", "una doble", "doble"},
		{"Ciudad", "en nueva york", "Nueva York"}, {"Ciudad", "Villarriba", "Villarriba"},
	} {
		v, ok := es.FillSlot("ReservarHotel", c.slot, c.utt, opt)
		if !ok || v.Resolved != c.want {
			t.Errorf("es FillSlot %s %q = %+v %v, want %q", c.slot, c.utt, v, ok, c.want)
		}
	}
}

func TestTimeZoneOption(t *testing.T) {
	m := flowers(t)
	// 03:30 UTC on the 23rd is still the 22nd in New York
	now := time.Date(2026, 11, 23, 3, 30, 0, 0, time.UTC)
	v, _ := m.FillSlot("OrderFlowers", "PickupDate", "today", Options{Now: now, TimeZone: "America/New_York"})
	if v.Resolved != "2026-11-22" {
		t.Errorf("today in New York = %q", v.Resolved)
	}
	v, _ = m.FillSlot("OrderFlowers", "PickupDate", "today", Options{Now: now, TimeZone: "Europe/Madrid"})
	if v.Resolved != "2026-11-23" {
		t.Errorf("today in Madrid = %q", v.Resolved)
	}
}

func TestMarshalLoad(t *testing.T) {
	m := flowers(t)
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"order roses tomorrow", "where is my order", "cancle it"} {
		a, b := m.Parse(u, Options{Now: nyNow}), m2.Parse(u, Options{Now: nyNow})
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%q: %+v != %+v after Load", u, a, b)
		}
	}
	if _, err := Load([]byte(`{"schema":99}`)); err == nil {
		t.Error("old schema loaded")
	}
}

func TestConfirm(t *testing.T) {
	for _, c := range []struct {
		utt, loc string
		a        Answer
		rest     string
	}{{"yes", "en-US", Yes, ""}, {"Yes, but make it thick crust", "en-US", Yes, "but make it thick crust"}, {"nope", "en-GB", No, ""},
		{"sí", "es-ES", Yes, ""}, {"vale", "es-US", Yes, ""}, {"no, gracias", "es-419", No, "gracias"}, {"that's right", "en-US", Yes, ""},
		{"maybe later", "en-US", Unknown, "maybe later"}} {
		a, rest := Confirm(c.utt, c.loc)
		if a != c.a || rest != c.rest {
			t.Errorf("Confirm(%q) = %v %q, want %v %q", c.utt, a, rest, c.a, c.rest)
		}
	}
}

func TestSentiment(t *testing.T) {
	for _, c := range []struct{ utt, loc, want string }{
		{"this is great, thank you so much", "en-US", "POSITIVE"}, {"this is terrible and I hate it", "en-US", "NEGATIVE"},
		{"I want to order flowers", "en-US", "NEUTRAL"}, {"the flowers were beautiful but the delivery was awful", "en-US", "MIXED"},
		{"not good at all", "en-US", "NEGATIVE"}, {"el servicio es excelente, muchas gracias", "es-ES", "POSITIVE"},
		{"es un servicio pésimo", "es-ES", "NEGATIVE"}, {"quiero reservar un hotel", "es-US", "NEUTRAL"},
	} {
		s := DetectSentiment(c.utt, c.loc)
		if s.SentimentLabel != c.want {
			t.Errorf("%q: %s %s, want %s", c.utt, s.SentimentLabel, s.SentimentScore, c.want)
		}
		if !strings.HasPrefix(s.SentimentScore, "{Mixed: ") || !strings.Contains(s.SentimentScore, ", Negative: ") {
			t.Errorf("score format %q", s.SentimentScore)
		}
	}
}

func FuzzParse(f *testing.F) {
	m := flowers(f)
	es, _ := Compile(loadSpec(f, "reservarhotel"))
	for _, s := range []string{"order roses tomorrow at 3pm", "", "{}", "a.m.", "ñ@ñ.ñ", "el próximo viernes a las tres y media", "12/99/2026 99:99", "minus minus", "twenty-", "1,2,3.4.5", "dentro de de", "+ + %"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := m.Parse(s, Options{Now: nyNow})
		for _, in := range r.Intents {
			if in.Confidence < 0 || in.Confidence > 1 {
				t.Fatalf("confidence %v", in.Confidence)
			}
		}
		es.Parse(s, Options{Now: nyNow})
		m.FillSlot("OrderFlowers", "PickupTime", s, Options{Now: nyNow})
		es.FillSlot("ReservarHotel", "FechaEntrada", s, Options{Now: nyNow})
		DetectSentiment(s, "es-ES")
		Confirm(s, "en-US")
	})
}

// bigSpec builds a 50-intent bot with 30 sample utterances each, two
// slots per intent (a custom type and a built-in).
func bigSpec() ModelSpec {
	rng := rand.New(rand.NewSource(1))
	vocab := make([]string, 600)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("w%sx%d", string(rune('a'+i%26)), i)
	}
	common := strings.Fields("i want to please can you the a my for book order get show me need would like")
	spec := ModelSpec{Locale: "en-US"}
	var vals []ValueSpec
	for i := 0; i < 40; i++ {
		vals = append(vals, ValueSpec{Value: fmt.Sprintf("item%d", i), Synonyms: []string{fmt.Sprintf("thing%d", i)}})
	}
	spec.SlotTypes = []SlotTypeSpec{{Name: "Items", Values: vals}}
	for i := 0; i < 50; i++ {
		is := IntentSpec{Name: fmt.Sprintf("Intent%d", i), Slots: []SlotSpec{{Name: "Item", Type: "Items"}, {Name: "When", Type: "AMAZON.DATE"}}}
		own := vocab[i*12 : i*12+12]
		for j := 0; j < 30; j++ {
			var ws []string
			for k := 0; k < 3+rng.Intn(4); k++ {
				ws = append(ws, common[rng.Intn(len(common))], own[rng.Intn(len(own))])
			}
			if j%3 == 0 {
				ws = append(ws, "{Item}")
			}
			if j%5 == 0 {
				ws = append(ws, "on", "{When}")
			}
			is.SampleUtterances = append(is.SampleUtterances, strings.Join(ws, " "))
		}
		spec.Intents = append(spec.Intents, is)
	}
	return spec
}

func BenchmarkClassify50x30(b *testing.B) {
	m, err := Compile(bigSpec())
	if err != nil {
		b.Fatal(err)
	}
	spec := bigSpec()
	var utts []string
	for i := 0; i < 50; i++ {
		u := spec.Intents[i].SampleUtterances[1]
		utts = append(utts, strings.Replace(u, "{Item}", "thing3", 1)+" next friday", "i want to "+u[:len(u)/2]+" pleese")
	}
	b.ResetTimer()
	defer cpuPerOp(b)()
	for i := 0; i < b.N; i++ {
		m.Classify(utts[i%len(utts)], Options{Now: nyNow})
	}
}

func BenchmarkParse50x30(b *testing.B) {
	m, _ := Compile(bigSpec())
	b.ResetTimer()
	defer cpuPerOp(b)()
	for i := 0; i < b.N; i++ {
		m.Parse("i want to order thing3 for next friday please", Options{Now: nyNow})
	}
}

func BenchmarkLoad50x30(b *testing.B) {
	m, _ := Compile(bigSpec())
	data, _ := m.Marshal()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	defer cpuPerOp(b)()
	for i := 0; i < b.N; i++ {
		if _, err := Load(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompile50x30(b *testing.B) {
	spec := bigSpec()
	for i := 0; i < b.N; i++ {
		Compile(spec)
	}
}

// TestLoadBig loads the 50x30 model; its time (budget 50 ms) is measured
// by BenchmarkLoad, never asserted here.
func TestLoadBig(t *testing.T) {
	m, _ := Compile(bigSpec())
	data, _ := m.Marshal()
	start := time.Now()
	got, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	if n, want := len(got.Classify("order some flowers", Options{})), len(bigSpec().Intents); n != want {
		t.Errorf("loaded model scores %d intents, want %d", n, want)
	}
	t.Logf("Load of %d bytes took %v", len(data), time.Since(start))
}
