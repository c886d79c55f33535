// Package asr owns speech recognition: it compiles a bot version into a
// JSGF grammar and a pronunciation dictionary (Compile, cacheable per bot
// version: the Grammar serialises with Marshal/Load and is keyed by Key),
// and it runs pocketsphinx_continuous on 16 kHz PCM against them
// (Recognizer) — as a subprocess, never through cgo.
//
// The grammar accepts what a user of that bot can say in one turn: every
// intent's sample utterances with each {Slot} replaced by the spoken forms
// of its slot type (custom values and synonyms, or the built-in type's
// phrasings from builtins.go), every slot's own utterances and bare values
// (answers to ElicitSlot), and yes/no answers (ConfirmIntent, follow-up
// prompts), with an optional politeness word after. (Hesitations and
// noise are the recogniser's filler models' business: filler words in the
// grammar were heard in place of real words.) Anything else is heard as silence: an out-of-grammar utterance
// comes back as no match.
package asr

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"lextrail/internal/nlu"
	"lextrail/internal/speech/lexicon"
)

// SchemaVersion identifies the Grammar layout and compiler; Key changes
// with it, so a cached grammar from an older compiler is recompiled.
const SchemaVersion = 1

// Grammar is a compiled recognition grammar. It holds everything the
// recogniser needs (no dictionary lookups at run time): one search graph
// (FSG) per dialog focus and the pronunciations of all their words.
type Grammar struct {
	Schema int    `json:"schema"`
	Key    string `json:"key"`
	Locale string `json:"locale"`
	Lang   string `json:"lang"` // "en" or "es"
	// JSGF is the whole grammar as JSGF rules, for reading; the
	// recogniser uses FSGs, compiled from the same rules.
	JSGF string `json:"jsgf"`
	// FSGs maps a focus (see Focus) to its search graph in pocketsphinx
	// FSG format.
	FSGs map[string]string `json:"fsgs"`
	// Arcs counts each focus's word transitions (what a run's cost grows
	// with).
	Arcs map[string]int `json:"arcs"`
	// Dict is the pronunciation dictionary of the grammar's words, in
	// pocketsphinx format.
	Dict string `json:"dict"`
	// Words counts the distinct words; RuleWords lists those spelled by
	// letter-to-sound rules (all of them for Spanish).
	Words     int      `json:"words"`
	RuleWords []string `json:"ruleWords,omitempty"`
}

// Focus names what the dialog expects next, so the recogniser listens for
// that and not for everything the bot knows (fewer competitors, better
// rejection, less CPU):
//
//	FocusIntent              ElicitIntent (a new conversation, a follow-up): the intents' utterances
//	SlotFocus(intent, slot)  ElicitSlot: the slot's answers, or another utterance of an intent
//	FocusConfirm             ConfirmIntent: yes/no answers, or an intent's utterance
//	FocusAny                 no hint: all of the above
const (
	FocusIntent  = "intent"
	FocusConfirm = "confirm"
	FocusAny     = "any"
)

// SlotFocus is the focus of eliciting slot of intent.
func SlotFocus(intent, slot string) string { return "slot:" + intent + "." + slot }

// Has reports whether the grammar has a graph for focus.
func (g *Grammar) Has(focus string) bool { _, ok := g.FSGs[focus]; return ok }

// Marshal serialises the grammar (JSON).
func (g *Grammar) Marshal() []byte {
	b, _ := json.Marshal(g)
	return b
}

// Load restores a marshalled grammar; a grammar of another schema is
// refused (the caller recompiles).
func Load(b []byte) (*Grammar, error) {
	var g Grammar
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, fmt.Errorf("asr: grammar: %w", err)
	}
	if g.Schema != SchemaVersion {
		return nil, fmt.Errorf("asr: grammar schema %d, want %d", g.Schema, SchemaVersion)
	}
	if len(g.FSGs) == 0 || g.Dict == "" {
		return nil, fmt.Errorf("asr: grammar is empty")
	}
	return &g, nil
}

// Key identifies what Compile would produce for spec: a hash of the spec
// and the compiler's schema. Equal keys mean an interchangeable grammar.
func Key(spec nlu.ModelSpec) string {
	b, _ := json.Marshal(spec)
	h := sha256.New()
	fmt.Fprintf(h, "asr/%d\n", SchemaVersion)
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// LangOf maps a Lex locale to the grammar language: es-* → "es", else "en".
func LangOf(locale string) string {
	if strings.HasPrefix(strings.ToLower(locale), "es") {
		return "es"
	}
	return "en"
}

// Compile builds the grammar of a bot version. cmu is the English
// dictionary (nil: English words are spelled by rules too).
func Compile(spec nlu.ModelSpec, cmu *lexicon.CMU) (*Grammar, error) {
	lang := LangOf(spec.Locale)
	c := &compiler{lang: lang, rules: map[string]string{}, types: map[string]nlu.SlotTypeSpec{}}
	for _, st := range spec.SlotTypes {
		c.types[st.Name] = st
	}
	var intents []string
	for _, in := range spec.Intents {
		alts := c.intentAlternatives(in)
		if len(alts) == 0 {
			continue
		}
		name := c.ruleName("i", in.Name)
		c.rules[name] = strings.Join(alts, "\n  | ")
		intents = append(intents, "<"+name+">")
	}
	if len(intents) == 0 {
		return nil, fmt.Errorf("asr: the bot has no utterances to recognise")
	}
	c.rules["intents"] = "(" + strings.Join(intents, " | ") + ")"
	c.rules["yesno"] = yesNo[lang]
	// answers to ElicitSlot: slot utterances and bare values
	var answers []string
	var foci []string
	slotRules := map[string]string{}
	for _, in := range spec.Intents {
		for _, s := range in.Slots {
			ref := c.slotRef(s.Type)
			var alts []string
			seen := map[string]bool{}
			add := func(a string) {
				if a != "" && !seen[a] {
					seen[a] = true
					alts = append(alts, a)
				}
			}
			for _, u := range s.SampleUtterances {
				add(c.phrase(u, map[string]string{s.Name: ref}))
			}
			if strings.HasPrefix(ref, "<b_") || strings.HasPrefix(ref, "<g_") {
				add("[" + c.lead() + "] " + ref)
			} else {
				add(ref)
			}
			name := c.ruleName("a", in.Name+"."+s.Name)
			c.rules[name] = strings.Join(alts, " | ")
			focus := SlotFocus(in.Name, s.Name)
			slotRules[focus] = name
			foci = append(foci, focus)
			if ref != "<b_alnum>" || s.Required {
				// a bare spelled code only where it is asked for: a letter
				// loop would otherwise swallow any noise
				answers = append(answers, "<"+name+">")
			}
		}
	}
	polite := " [" + politeness[lang] + "]"
	tops := map[string]string{
		FocusIntent:  "<intents>" + polite,
		FocusConfirm: "(<yesno> | <intents>)" + polite,
		FocusAny:     "(<intents> | <yesno>" + prefixAlt(answers) + ")" + polite,
	}
	for f, name := range slotRules {
		tops[f] = "(<" + name + "> | <intents>)" + polite
	}
	// free text slots: the grammar's own words
	if c.needVocab {
		words := c.vocabulary()
		c.rules["vocab"] = strings.Join(words, " | ")
		c.rules["free"] = "<vocab> [<vocab>] [<vocab>] [<vocab>]"
	}
	g := &Grammar{Schema: SchemaVersion, Key: Key(spec), Locale: spec.Locale, Lang: lang, FSGs: map[string]string{}, Arcs: map[string]int{}}
	all := append([]string{FocusAny, FocusIntent, FocusConfirm}, foci...)
	for i, f := range all {
		c.rules["top_"+strconv.Itoa(i)] = tops[f]
	}
	exprs, jsgf, err := c.assemble(len(all))
	if err != nil {
		return nil, err
	}
	g.JSGF = jsgf
	garbage := garbageWords()
	autom := &automata{rules: exprs, memo: map[string]*nfa{}, busy: map[string]bool{}}
	for i, f := range all {
		fsg, n, err := compileFSG(fmt.Sprintf("focus%d", i), "top_"+strconv.Itoa(i), autom, garbage, garbageProb[lang], garbageLoop[lang])
		if err != nil {
			return nil, err
		}
		g.FSGs[f], g.Arcs[f] = fsg, n

	}
	if err := c.dictionary(g, cmu); err != nil {
		return nil, err
	}
	return g, nil
}

func prefixAlt(refs []string) string {
	if len(refs) == 0 {
		return ""
	}
	return " | " + strings.Join(refs, " | ")
}

// The garbage loop: one word per phone, entered from the start state.
// Out-of-grammar speech is matched better by a free phone sequence than
// by any grammar path, so it goes there and comes back as no match.
// garbageLoop, each garbage phone's probability, is the balance between
// rejecting out-of-grammar speech and rejecting speech the grammar holds:
// tuned on the accuracy benchmark (TestTuneRecognition), English 0.05
// (0.1 lets one more in-grammar phrase be rejected for one more
// out-of-grammar one caught; 0.02 the reverse), Spanish 0.02 (spoken
// through the English model, its in-grammar speech fits worse and needs a
// weaker loop). garbageProb is the prior of entering the loop; between
// 1e-6 and 1e-2 it made no difference.
const garbagePrefix = "gbg_"

var (
	garbageProb = map[string]float64{"en": 1e-4, "es": 1e-4}
	garbageLoop = map[string]float64{"en": 0.05, "es": 0.02}
)

func garbageWords() []string {
	out := make([]string, len(garbagePhones()))
	for i, p := range garbagePhones() {
		out[i] = garbagePrefix + strings.ToLower(strings.ReplaceAll(p, " ", ""))
	}
	return out
}

// garbagePhones are the garbage units: every phone. (A phone per broad
// class, and every phone doubled so a unit lasts six frames, were both
// worse: 85% and 86% English intent accuracy against 89% at the time.)
func garbagePhones() []string { return lexicon.Phones }

type compiler struct {
	lang      string
	rules     map[string]string // name → expansion (bot rules)
	types     map[string]nlu.SlotTypeSpec
	needVocab bool
	names     map[string]string
	order     []string // reachable rules, the top rule first
}

var politeness = map[string]string{
	"en": "please | thanks | thank you",
	"es": "por favor | gracias",
}

var yesNo = map[string]string{
	"en": "yes | yeah | yep | yup | sure | okay | ok | correct | right | that's right | that is correct | of course | absolutely | definitely | yes please | please do | go ahead | no | nope | nah | no thanks | no thank you | not now | never mind",
	"es": "sí | claro | vale | de acuerdo | correcto | exacto | por supuesto | perfecto | sí por favor | adelante | no | no gracias | para nada | ahora no | tampoco",
}

// lead is the optional word before a bare built-in value ("on friday",
// "at three", "el lunes" is in the date rule itself).
func (c *compiler) lead() string {
	if c.lang == "es" {
		return "para | a | en | el | sobre"
	}
	return "on | at | for | by | in | around | about | it's | make it"
}

var nonRule = regexp.MustCompile(`[^A-Za-z0-9_]`)

// ruleName makes a JSGF rule name unique per (prefix, name).
func (c *compiler) ruleName(prefix, name string) string {
	if c.names == nil {
		c.names = map[string]string{}
	}
	key := prefix + "\x00" + name
	if n, ok := c.names[key]; ok {
		return n
	}
	n := prefix + "_" + nonRule.ReplaceAllString(name, "_")
	for i := 2; ; i++ {
		clash := false
		for _, v := range c.names {
			clash = clash || v == n
		}
		if !clash {
			break
		}
		n = fmt.Sprintf("%s_%s_%d", prefix, nonRule.ReplaceAllString(name, "_"), i)
	}
	c.names[key] = n
	return n
}

// slotRef returns the rule reference for a slot type.
func (c *compiler) slotRef(typ string) string {
	if st, ok := c.types[typ]; ok && !strings.HasPrefix(typ, "AMAZON.") {
		name := c.ruleName("t", typ)
		if _, done := c.rules[name]; !done {
			var alts []string
			seen := map[string]bool{}
			for _, v := range st.Values {
				for _, s := range append([]string{v.Value}, v.Synonyms...) {
					p := strings.Join(c.words(s), " ")
					if p != "" && !seen[p] {
						seen[p] = true
						alts = append(alts, p)
					}
				}
			}
			if len(alts) == 0 { // regex types and empty enumerations: spelled codes or free words
				if len(st.Regexes) > 0 {
					alts = append(alts, "<b_alnum>", "<b_number>")
				} else {
					c.needVocab = true
					alts = append(alts, "<free>")
				}
			}
			sort.Strings(alts)
			c.rules[name] = strings.Join(alts, " | ")
		}
		return "<" + name + ">"
	}
	if ref, ok := builtinRef(typ, c.lang); ok {
		return ref
	}
	c.needVocab = true
	return "<free>"
}

// words tokenises text, dropping placeholders.
func (c *compiler) words(text string) []string {
	var out []string
	for _, w := range tokenize(text, c.lang) {
		if !strings.HasPrefix(w, "{") {
			out = append(out, w)
		}
	}
	return out
}

// phrase renders an utterance with placeholders replaced by refs; a
// placeholder without a ref is dropped (an unknown slot).
func (c *compiler) phrase(u string, refs map[string]string) string {
	var parts []string
	for _, w := range tokenize(u, c.lang) {
		if strings.HasPrefix(w, "{") {
			name := w[1 : len(w)-1]
			for k, v := range refs {
				if strings.EqualFold(k, name) {
					parts = append(parts, v)
					break
				}
			}
			continue
		}
		parts = append(parts, w)
	}
	return strings.Join(parts, " ")
}

// intentAlternatives renders an intent's utterances for the grammar: as
// written, each {Slot} replaced by its type's spoken forms. (Letting an
// utterance go on with more slot phrases — "I want to order {FlowerType}"
// + "for tomorrow" + "at three pm" — was tried, as a loop of slot phrases
// shared by all intents and as one optional phrase per intent: both let
// more out-of-grammar speech through and misheard more in-grammar speech,
// the loop at 80% intent accuracy, the optional phrase at 90% for twice the
// CPU, against 92% as written; see README.)
func (c *compiler) intentAlternatives(in nlu.IntentSpec) []string {
	refs := map[string]string{}
	for _, s := range in.Slots {
		refs[s.Name] = c.slotRef(s.Type)
	}
	utts := in.SampleUtterances
	if len(utts) == 0 && in.Parent != "" {
		utts = builtinIntentUtterances(in.Parent, c.lang)
	}
	var alts []string
	seen := map[string]bool{}
	for _, u := range utts {
		if p := c.phrase(u, refs); p != "" && !seen[p] {
			seen[p] = true
			alts = append(alts, p)
		}
	}
	return alts
}

// builtinIntentUtterances are spoken forms of Lex's built-in intents for
// an intent that extends one without utterances of its own.
func builtinIntentUtterances(sig, lang string) []string {
	es := lang == "es"
	pick := func(en, sp string) []string {
		if es {
			return strings.Split(sp, "|")
		}
		return strings.Split(en, "|")
	}
	switch sig {
	case "AMAZON.HelpIntent":
		return pick("help|help me|i need help|what can i say|what can you do", "ayuda|ayúdame|necesito ayuda|qué puedo decir")
	case "AMAZON.CancelIntent":
		return pick("cancel|cancel that|never mind|forget it", "cancelar|cancela|olvídalo|déjalo")
	case "AMAZON.StopIntent":
		return pick("stop|stop it|quit|exit|enough", "para|detente|basta|parar|salir")
	case "AMAZON.StartOverIntent":
		return pick("start over|restart|start again|begin again", "empezar de nuevo|volver a empezar|reiniciar")
	case "AMAZON.RepeatIntent":
		return pick("repeat|say that again|repeat that|what did you say", "repite|repítelo|otra vez|qué dijiste")
	case "AMAZON.PauseIntent":
		return pick("pause|hold on|wait a moment", "pausa|pausar|espera un momento")
	case "AMAZON.ResumeIntent":
		return pick("resume|continue|go on", "continuar|reanudar|sigue")
	}
	return nil
}

var ruleRef = regexp.MustCompile(`<([A-Za-z0-9_]+)>`)

// assemble parses the tops (top_0 … top_n-1), the bot's rules and the
// built-in and gazetteer rules reachable from them, and writes them out
// as JSGF for reading.
func (c *compiler) assemble(tops int) (map[string]*expr, string, error) {
	shared := parseRules(builtinRules(c.lang) + spelledRule(c.lang))
	all := map[string]string{}
	for k, v := range c.rules {
		all[k] = v
	}
	exprs := map[string]*expr{}
	var order []string
	var visit func(name string) error
	visit = func(name string) error {
		if _, done := exprs[name]; done {
			return nil
		}
		body, ok := all[name]
		if !ok {
			if b, ok := shared[name]; ok {
				body = b
			} else if strings.HasPrefix(name, "g_") {
				phrases := gazetteerPhrases(strings.TrimPrefix(name, "g_"), c.lang)
				if len(phrases) == 0 {
					return fmt.Errorf("asr: no gazetteer %q", name)
				}
				body = strings.Join(phrases, " | ")
			} else {
				return fmt.Errorf("asr: undefined rule <%s>", name)
			}
			all[name] = body
		}
		e, err := parseExpansion(body)
		if err != nil {
			return fmt.Errorf("asr: rule <%s>: %w", name, err)
		}
		exprs[name] = e
		order = append(order, name)
		for _, m := range ruleRef.FindAllStringSubmatch(body, -1) {
			if err := visit(m[1]); err != nil {
				return err
			}
		}
		return nil
	}
	for i := 0; i < tops; i++ {
		if err := visit("top_" + strconv.Itoa(i)); err != nil {
			return nil, "", err
		}
	}
	var b strings.Builder
	b.WriteString("#JSGF V1.0;\ngrammar lextrail;\n")
	for _, name := range order {
		if strings.HasPrefix(name, "top_") {
			b.WriteString("public ")
		}
		fmt.Fprintf(&b, "<%s> = %s;\n", name, all[name])
	}
	c.rules = all
	c.order = order
	return exprs, b.String(), nil
}

// parseRules splits "<name> = body;" definitions.
func parseRules(text string) map[string]string {
	out := map[string]string{}
	for _, def := range strings.Split(text, ";") {
		def = strings.TrimSpace(def)
		if def == "" {
			continue
		}
		eq := strings.Index(def, "=")
		name := strings.Trim(strings.TrimSpace(def[:eq]), "<>")
		out[name] = strings.Join(strings.Fields(def[eq+1:]), " ")
	}
	return out
}

var jsgfToken = regexp.MustCompile(`[<>()\[\]|*+=;/]|"[^"]*"`)

// grammarWords lists the distinct words of the reachable rules.
func (c *compiler) grammarWords() []string {
	set := map[string]bool{}
	for _, name := range c.order {
		body := ruleRef.ReplaceAllString(c.rules[name], " ")
		body = jsgfToken.ReplaceAllString(body, " ")
		for _, w := range strings.Fields(body) {
			set[w] = true
		}
	}
	out := make([]string, 0, len(set))
	for w := range set {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}

// vocabulary is the bot's own words (for free-text slots).
func (c *compiler) vocabulary() []string {
	set := map[string]bool{}
	for name, body := range c.rules {
		if !strings.HasPrefix(name, "i_") && !strings.HasPrefix(name, "t_") {
			continue
		}
		body = ruleRef.ReplaceAllString(body, " ")
		body = jsgfToken.ReplaceAllString(body, " ")
		for _, w := range strings.Fields(body) {
			set[w] = true
		}
	}
	out := make([]string, 0, len(set))
	for w := range set {
		out = append(out, w)
	}
	sort.Strings(out)
	if len(out) == 0 {
		out = []string{"something"}
	}
	return out
}

// extraEnglish are pronunciations the grammar needs beyond the
// dictionary's: "am" and "pm" read as letters (meridiem), "ok".
var extraEnglish = map[string][]string{
	"am": {"EY EH M"},
	"pm": {"P IY EH M"},
	"ok": {"OW K EY"},
}

// dictionary writes the pronunciations of every grammar word.
func (c *compiler) dictionary(g *Grammar, cmu *lexicon.CMU) error {
	words := c.grammarWords()
	pron := func(w string) []string {
		p, _ := lexicon.Pronounce(w, c.lang, cmu)
		return p
	}
	spelled := spelledWords(c.lang, pron)
	var b strings.Builder
	for _, w := range words {
		var prons []string
		byRule := false
		if sp, ok := spelled[w]; ok {
			prons = sp
		} else {
			prons, byRule = lexicon.Pronounce(w, c.lang, cmu)
			if c.lang == "en" {
				prons = append(append([]string(nil), prons...), extraEnglish[w]...)
				if byRule && isAcronym(w) {
					prons = []string{spellOut(w)}
				}
			}
		}
		prons = dedupe(prons)
		if len(prons) == 0 {
			return fmt.Errorf("asr: no pronunciation for %q", w)
		}
		if byRule {
			g.RuleWords = append(g.RuleWords, w)
		}
		for i, p := range prons {
			if i == 0 {
				fmt.Fprintf(&b, "%s %s\n", w, p)
			} else {
				fmt.Fprintf(&b, "%s(%d) %s\n", w, i+1, p)
			}
		}
	}
	for i, w := range garbageWords() {
		fmt.Fprintf(&b, "%s %s\n", w, garbagePhones()[i])
	}
	g.Dict = b.String()
	g.Words = len(words)
	return nil
}

func dedupe(p []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range p {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// isAcronym: a short word without vowels ("jfk", "nyc") is read letter by letter.
func isAcronym(w string) bool {
	if len(w) > 5 {
		return false
	}
	for _, r := range w {
		if strings.ContainsRune("aeiouy", r) || r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}

func spellOut(w string) string {
	var p []string
	for _, r := range w {
		p = append(p, enLetterNames[string(r)])
	}
	return strings.Join(p, " ")
}
