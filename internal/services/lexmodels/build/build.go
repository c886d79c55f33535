// Package build compiles one Lex V1 bot version into the model artefact
// the runtime loads: the bot's settings, its intents with their sample
// utterances turned into normalized templates ({Slot} placeholders become
// slot tokens), and the custom slot types with normalized values and
// synonyms. It also decides whether the bot can be built at all and, if
// not, says why (the bot's failureReason).
//
// build is pure: it reads definitions handed to it (the stored JSON
// documents) and returns the model; it knows nothing of the database, the
// API or the worker that runs it. The language model the runtime
// classifies with (package nlu: templates, classifier weights, slot
// resolvers, typo index) is compiled here too and carried in Model.NLU, so
// a runtime node only decodes it (nlu.Load) and never re-tokenises sample
// utterances per request.
package build

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"lextrail/internal/nlu"
)

// SchemaVersion identifies the artefact layout. Bump it when Model changes
// incompatibly; the runtime rebuilds models with an older version.
// Version 2 added NLU.
const SchemaVersion = 2

// Resource is one stored definition handed to the compiler.
type Resource struct {
	Name    string
	Version string
	// Def is the stored JSON definition (lexmodels' BotDef, IntentDef or
	// SlotTypeDef); nil when the version does not exist.
	Def json.RawMessage
}

// Input is everything one bot version's build needs.
type Input struct {
	Bot     Resource
	Intents []Resource // every intent version the bot names
	// SlotTypes are the custom slot type versions those intents name.
	SlotTypes []Resource
}

// Model is the compiled artefact.
type Model struct {
	SchemaVersion int             `json:"schemaVersion"`
	Bot           string          `json:"bot"`
	Version       string          `json:"version"`
	Locale        string          `json:"locale"`
	Definition    json.RawMessage `json:"definition"`
	Intents       []Intent        `json:"intents"`
	SlotTypes     []SlotType      `json:"slotTypes"`
	// NLU is the compiled language model (nlu.Model.Marshal); the runtime
	// restores it with nlu.Load.
	NLU json.RawMessage `json:"nlu,omitempty"`
}

// Intent is a compiled intent.
type Intent struct {
	Name       string          `json:"name"`
	Version    string          `json:"version"`
	Parent     string          `json:"parentIntentSignature,omitempty"`
	Definition json.RawMessage `json:"definition"`
	// Templates are the normalized sample utterances; the stored artefact
	// leaves them out (the language model in Model.NLU has its own).
	Templates []Template `json:"-"`
	Slots     []Slot     `json:"slots"`
}

// Slot is a compiled slot.
type Slot struct {
	Name        string     `json:"name"`
	Type        string     `json:"type"`
	TypeVersion string     `json:"typeVersion,omitempty"`
	Required    bool       `json:"required"`
	Priority    int        `json:"priority"`
	Templates   []Template `json:"-"`
}

// Template is a normalized sample utterance.
type Template struct {
	Text   string  `json:"text"`
	Tokens []Token `json:"tokens"`
}

// Token is a word or a slot placeholder.
type Token struct {
	Word string `json:"w,omitempty"`
	Slot string `json:"s,omitempty"`
}

// SlotType is a compiled custom slot type.
type SlotType struct {
	Name     string   `json:"name"`
	Version  string   `json:"version"`
	Strategy string   `json:"valueSelectionStrategy"`
	Parent   string   `json:"parentSlotTypeSignature,omitempty"`
	Regexes  []string `json:"regexes,omitempty"`
	Values   []Value  `json:"values"`
}

// Value is one slot type value with its synonyms, raw and normalized.
type Value struct {
	Value    string   `json:"value"`
	Synonyms []string `json:"synonyms,omitempty"`
	Norm     []string `json:"norm"`
}

// The subsets of the stored definitions the compiler reads.

type botDef struct {
	Locale  string `json:"locale"`
	Intents []struct {
		IntentName    string `json:"intentName"`
		IntentVersion string `json:"intentVersion"`
	} `json:"intents"`
}

type intentDef struct {
	SampleUtterances      []string `json:"sampleUtterances"`
	ParentIntentSignature string   `json:"parentIntentSignature"`
	Slots                 []struct {
		Name                   string          `json:"name"`
		SlotConstraint         string          `json:"slotConstraint"`
		SlotType               string          `json:"slotType"`
		SlotTypeVersion        string          `json:"slotTypeVersion"`
		Priority               *int            `json:"priority"`
		SampleUtterances       []string        `json:"sampleUtterances"`
		ValueElicitationPrompt json.RawMessage `json:"valueElicitationPrompt"`
	} `json:"slots"`
}

type slotTypeDef struct {
	EnumerationValues []struct {
		Value    string   `json:"value"`
		Synonyms []string `json:"synonyms"`
	} `json:"enumerationValues"`
	ParentSlotTypeSignature string `json:"parentSlotTypeSignature"`
	SlotTypeConfigurations  []struct {
		RegexConfiguration *struct {
			Pattern string `json:"pattern"`
		} `json:"regexConfiguration"`
	} `json:"slotTypeConfigurations"`
	ValueSelectionStrategy string `json:"valueSelectionStrategy"`
}

// MaxUtteranceChars is the per-bot limit on sample utterance text.
const MaxUtteranceChars = 200000

// Error is a build failure: the reasons a bot version cannot be built.
type Error struct{ Reasons []string }

func (e *Error) Error() string { return strings.Join(e.Reasons, " ") }

// Compile validates and compiles a bot version. A *Error lists every
// problem found (the bot's failureReason); any other error is internal.
func Compile(in Input) (*Model, error) {
	var fail []string
	bad := func(format string, args ...any) { fail = append(fail, fmt.Sprintf(format, args...)) }

	var bd botDef
	if err := json.Unmarshal(in.Bot.Def, &bd); err != nil {
		return nil, fmt.Errorf("build: bot %s: %w", in.Bot.Name, err)
	}
	m := &Model{SchemaVersion: SchemaVersion, Bot: in.Bot.Name, Version: in.Bot.Version, Locale: bd.Locale,
		Definition: in.Bot.Def, Intents: []Intent{}, SlotTypes: []SlotType{}}
	if len(bd.Intents) == 0 {
		bad("The bot has no intents. Add at least one intent to the bot and build it again.")
	}

	intents := index(in.Intents)
	slotTypes := index(in.SlotTypes)
	slotTypeOfSlot := map[string]string{} // slot name -> slot type, across intents
	slotOwner := map[string]string{}
	parents := map[string]string{}
	utterOwner := map[string]string{}
	intentNames := map[string]bool{}
	usedTypes := map[string]Resource{}
	chars := 0

	for _, ir := range bd.Intents {
		intentNames[strings.ToLower(ir.IntentName)] = true
	}
	for _, ir := range bd.Intents {
		res, ok := intents[key(ir.IntentName, ir.IntentVersion)]
		if !ok || res.Def == nil {
			bad("Intent %s version %s does not exist.", ir.IntentName, ir.IntentVersion)
			continue
		}
		var d intentDef
		if err := json.Unmarshal(res.Def, &d); err != nil {
			return nil, fmt.Errorf("build: intent %s: %w", ir.IntentName, err)
		}
		ci := Intent{Name: ir.IntentName, Version: ir.IntentVersion, Parent: d.ParentIntentSignature, Definition: res.Def, Templates: []Template{}, Slots: []Slot{}}
		if d.ParentIntentSignature != "" {
			if other, dup := parents[d.ParentIntentSignature]; dup {
				bad("Intents %s and %s both extend the built-in intent %s; only one intent per bot may extend it.", other, ir.IntentName, d.ParentIntentSignature)
			}
			parents[d.ParentIntentSignature] = ir.IntentName
		} else if len(d.SampleUtterances) == 0 {
			bad("Intent %s has no sample utterances. Add at least one.", ir.IntentName)
		}
		slotNames := map[string]bool{}
		for _, sl := range d.Slots {
			slotNames[sl.Name] = true
			if intentNames[strings.ToLower(sl.Name)] {
				bad("Slot %s of intent %s has the same name as an intent of the bot.", sl.Name, ir.IntentName)
			}
			if t, seen := slotTypeOfSlot[sl.Name]; seen && t != sl.SlotType {
				bad("Slot %s has slot type %s in intent %s but %s in intent %s; slots with the same name must share a slot type.", sl.Name, sl.SlotType, ir.IntentName, t, slotOwner[sl.Name])
			} else if !seen {
				slotTypeOfSlot[sl.Name], slotOwner[sl.Name] = sl.SlotType, ir.IntentName
			}
			if sl.SlotConstraint == "Required" && len(sl.ValueElicitationPrompt) == 0 {
				bad("Slot %s of intent %s is required but has no valueElicitationPrompt.", sl.Name, ir.IntentName)
			}
			cs := Slot{Name: sl.Name, Type: sl.SlotType, TypeVersion: sl.SlotTypeVersion, Required: sl.SlotConstraint == "Required"}
			if sl.Priority != nil {
				cs.Priority = *sl.Priority
			}
			if !strings.HasPrefix(sl.SlotType, "AMAZON.") {
				st, ok := slotTypes[key(sl.SlotType, sl.SlotTypeVersion)]
				if !ok || st.Def == nil {
					bad("Slot %s of intent %s uses slot type %s version %s, which does not exist.", sl.Name, ir.IntentName, sl.SlotType, sl.SlotTypeVersion)
				} else {
					usedTypes[key(st.Name, st.Version)] = st
				}
			}
			for _, u := range sl.SampleUtterances {
				t, err := Parse(u)
				if err != nil {
					bad("The sample utterance '%s' of slot %s in intent %s is malformed: %v.", u, sl.Name, ir.IntentName, err)
					continue
				}
				cs.Templates = append(cs.Templates, t)
			}
			ci.Slots = append(ci.Slots, cs)
		}
		for _, u := range d.SampleUtterances {
			chars += len([]rune(u))
			t, err := Parse(u)
			if err != nil {
				bad("The sample utterance '%s' of intent %s is malformed: %v.", u, ir.IntentName, err)
				continue
			}
			for _, tok := range t.Tokens {
				if tok.Slot != "" && !slotNames[tok.Slot] {
					bad("The sample utterance '%s' of intent %s refers to slot {%s}, which intent %s does not have.", u, ir.IntentName, tok.Slot, ir.IntentName)
				}
			}
			if owner, dup := utterOwner[t.Text]; dup && owner != ir.IntentName {
				bad("The sample utterance '%s' appears in both intent %s and intent %s; an utterance must belong to one intent.", u, owner, ir.IntentName)
			} else {
				utterOwner[t.Text] = ir.IntentName
			}
			ci.Templates = append(ci.Templates, t)
		}
		sort.Slice(ci.Slots, func(i, j int) bool { return ci.Slots[i].Priority < ci.Slots[j].Priority })
		m.Intents = append(m.Intents, ci)
	}
	if chars > MaxUtteranceChars {
		bad("The bot's sample utterances have %d characters; the limit is %d.", chars, MaxUtteranceChars)
	}

	keys := make([]string, 0, len(usedTypes))
	for k := range usedTypes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		st := usedTypes[k]
		var d slotTypeDef
		if err := json.Unmarshal(st.Def, &d); err != nil {
			return nil, fmt.Errorf("build: slot type %s: %w", st.Name, err)
		}
		cst := SlotType{Name: st.Name, Version: st.Version, Strategy: d.ValueSelectionStrategy, Parent: d.ParentSlotTypeSignature, Values: []Value{}}
		if cst.Strategy == "" {
			cst.Strategy = "ORIGINAL_VALUE"
		}
		for _, sc := range d.SlotTypeConfigurations {
			if sc.RegexConfiguration != nil {
				cst.Regexes = append(cst.Regexes, sc.RegexConfiguration.Pattern)
			}
		}
		for _, v := range d.EnumerationValues {
			cv := Value{Value: v.Value, Synonyms: v.Synonyms, Norm: []string{Normalize(v.Value)}}
			for _, s := range v.Synonyms {
				cv.Norm = append(cv.Norm, Normalize(s))
			}
			cst.Values = append(cst.Values, cv)
		}
		if len(cst.Values) == 0 && len(cst.Regexes) == 0 {
			bad("Slot type %s version %s has no enumeration values. Add at least one value.", st.Name, st.Version)
		}
		m.SlotTypes = append(m.SlotTypes, cst)
	}
	if len(fail) > 0 {
		return nil, &Error{Reasons: fail}
	}
	lm, err := nlu.Compile(NLUSpec(m))
	if err != nil {
		return nil, &Error{Reasons: []string{"The bot's language model could not be compiled: " + strings.TrimPrefix(err.Error(), "nlu: ") + "."}}
	}
	if m.NLU, err = lm.Marshal(); err != nil {
		return nil, fmt.Errorf("build: marshal language model: %w", err)
	}
	return m, nil
}

// NLUSpec is the language-model description of a compiled bot: every
// intent's sample utterances (a built-in-derived intent without any gets
// the built-in's), its slots with their types, priorities and slot-level
// utterances, and the custom slot types with values, synonyms, selection
// strategy and regexes.
func NLUSpec(m *Model) nlu.ModelSpec {
	spec := nlu.ModelSpec{Locale: m.Locale}
	for _, in := range m.Intents {
		var d intentDef
		_ = json.Unmarshal(in.Definition, &d) // validated by Compile
		is := nlu.IntentSpec{Name: in.Name, Parent: in.Parent, SampleUtterances: d.SampleUtterances}
		for _, sl := range d.Slots {
			ss := nlu.SlotSpec{Name: sl.Name, Type: sl.SlotType, Required: sl.SlotConstraint == "Required", SampleUtterances: sl.SampleUtterances}
			if sl.Priority != nil {
				ss.Priority = *sl.Priority
			}
			is.Slots = append(is.Slots, ss)
		}
		spec.Intents = append(spec.Intents, is)
	}
	for _, st := range m.SlotTypes {
		ts := nlu.SlotTypeSpec{Name: st.Name, Strategy: st.Strategy, Regexes: st.Regexes, Parent: st.Parent}
		for _, v := range st.Values {
			ts.Values = append(ts.Values, nlu.ValueSpec{Value: v.Value, Synonyms: v.Synonyms})
		}
		spec.SlotTypes = append(spec.SlotTypes, ts)
	}
	return spec
}

func key(name, version string) string { return name + "\x00" + version }

func index(list []Resource) map[string]Resource {
	m := make(map[string]Resource, len(list))
	for _, r := range list {
		m[key(r.Name, r.Version)] = r
	}
	return m
}

// Parse turns a sample utterance into a template: words are normalized,
// {Slot} placeholders become slot tokens.
func Parse(u string) (Template, error) {
	var t Template
	var words []string
	rest := u
	for rest != "" {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			words = append(words, strings.Fields(Normalize(rest))...)
			break
		}
		if rest[open] == '}' {
			return Template{}, fmt.Errorf("unmatched '}'")
		}
		words = append(words, strings.Fields(Normalize(rest[:open]))...)
		end := strings.IndexAny(rest[open+1:], "{}")
		if end < 0 || rest[open+1+end] != '}' {
			return Template{}, fmt.Errorf("unclosed '{'")
		}
		name := rest[open+1 : open+1+end]
		if name == "" || strings.TrimSpace(name) != name {
			return Template{}, fmt.Errorf("empty or padded slot name")
		}
		for _, w := range words {
			t.Tokens = append(t.Tokens, Token{Word: w})
		}
		words = words[:0]
		t.Tokens = append(t.Tokens, Token{Slot: name})
		rest = rest[open+1+end+1:]
	}
	for _, w := range words {
		t.Tokens = append(t.Tokens, Token{Word: w})
	}
	if len(t.Tokens) == 0 {
		return Template{}, fmt.Errorf("no words")
	}
	parts := make([]string, len(t.Tokens))
	for i, tok := range t.Tokens {
		if tok.Slot != "" {
			parts[i] = "{" + tok.Slot + "}"
		} else {
			parts[i] = tok.Word
		}
	}
	t.Text = strings.Join(parts, " ")
	return t, nil
}

// Normalize lower-cases text, turns punctuation (other than apostrophes
// and hyphens inside words) into spaces and collapses white space.
func Normalize(s string) string {
	var b strings.Builder
	space := true
	rs := []rune(s)
	for i, r := range rs {
		keep := unicode.IsLetter(r) || unicode.IsDigit(r) ||
			((r == '\'' || r == '-' || r == '.') && i > 0 && i+1 < len(rs) && isWord(rs[i-1]) && isWord(rs[i+1]))
		if keep {
			b.WriteRune(unicode.ToLower(r))
			space = false
			continue
		}
		if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSpace(b.String())
}

func isWord(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
