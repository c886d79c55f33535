package nlu

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// SchemaVersion identifies the serialised model layout; Load refuses
// other versions (the caller recompiles from the spec).
const SchemaVersion = 2 // 2: compact templates

// ModelSpec is the plain description of a bot version the build hands to
// Compile.
type ModelSpec struct {
	Locale    string         `json:"locale"` // en-US, en-GB, en-AU, es-US, es-ES, es-419
	Intents   []IntentSpec   `json:"intents"`
	SlotTypes []SlotTypeSpec `json:"slotTypes,omitempty"` // custom slot types the intents use
}

// IntentSpec is one intent.
type IntentSpec struct {
	Name string `json:"name"`
	// Parent is parentIntentSignature ("AMAZON.HelpIntent", …). An intent
	// that extends a built-in and has no sample utterances gets the
	// built-in's embedded utterances for the locale's language.
	Parent           string     `json:"parent,omitempty"`
	SampleUtterances []string   `json:"sampleUtterances"` // with {Slot} placeholders
	Slots            []SlotSpec `json:"slots,omitempty"`
}

// SlotSpec is one slot of an intent.
type SlotSpec struct {
	Name             string   `json:"name"`
	Type             string   `json:"type"` // custom slot type name or AMAZON.*
	Priority         int      `json:"priority,omitempty"`
	Required         bool     `json:"required,omitempty"`
	SampleUtterances []string `json:"sampleUtterances,omitempty"` // slot-level: "I want {FlowerType}"
}

// SlotTypeSpec is a custom slot type.
type SlotTypeSpec struct {
	Name string `json:"name"`
	// Strategy is valueSelectionStrategy: ORIGINAL_VALUE (default) or
	// TOP_RESOLUTION.
	Strategy string      `json:"strategy,omitempty"`
	Values   []ValueSpec `json:"values,omitempty"`
	// Regexes are slotTypeConfigurations[].regexConfiguration.pattern; a
	// value must match one of them entirely.
	Regexes []string `json:"regexes,omitempty"`
	// Parent is parentSlotTypeSignature (AMAZON.AlphaNumeric for regex types).
	Parent string `json:"parent,omitempty"`
}

// ValueSpec is one enumeration value and its synonyms.
type ValueSpec struct {
	Value    string   `json:"value"`
	Synonyms []string `json:"synonyms,omitempty"`
}

// Model is a compiled, immutable model. Marshal gives its serialised
// form; Load restores it. Safe for concurrent use.
type Model struct {
	Schema  int                `json:"schema"`
	Locale  string             `json:"locale"`
	Lang    Lang               `json:"lang"`
	Intents []cIntent          `json:"intents"`
	Types   []cType            `json:"types"`
	IDF     map[string]float64 `json:"idf"`     // stem → weight (stop words already scaled)
	Forms   map[string]string  `json:"forms"`   // folded vocabulary word → stem (for typo correction)
	FormN   map[string]int     `json:"formN"`   // occurrences of each vocabulary word (typo tie-break)
	UnkW    float64            `json:"unkW"`    // weight of an out-of-vocabulary word
	SlotW   float64            `json:"slotW"`   // weight of a slot placeholder
	Builtin []string           `json:"builtin"` // built-in slot types in use

	// derived by index()
	intentIdx map[string]int
	typeIdx   map[string]int
	postings  map[string][]int32 // stem → template ids (global numbering)
	tmpls     []*cTemplate
	// per template id, what score reads of every template a posting
	// list names, kept in arrays of their own (not behind tmpls'
	// pointers: one cache miss fewer per posting)
	tmplIntent    []int32
	tmplWeight    []float64
	tmplSlotTypes [][]int
	deletes       map[uint64][]int32 // hash of a deletion variant → ids in formWords
	formWords     []string           // the folded vocabulary words (Forms' keys), sorted
	typeRes       [][]*regexp.Regexp
	valueStem     map[string]bool // stems of custom slot values and synonyms
	exactForm     map[string]bool // folded words of custom slot values and synonyms
	// slot types used by slots, densely numbered
	slotTypeNames   []string
	slotTypeID      map[string]int
	slotTmpls       []int32 // templates with a slot placeholder
	intentSlotTypes [][]int // per intent, the type ids of its slots
	scratch         sync.Pool
	eligMemo        atomic.Pointer[eligMask]
}

type cIntent struct {
	Name      string           `json:"name"`
	Slots     []cSlot          `json:"slots"`
	Templates []cTemplate      `json:"templates"`
	Vocab     map[string]bool  `json:"-"`
	Ctx       map[string]*sctx `json:"-"`
}

type cSlot struct {
	Name      string      `json:"name"`
	Type      string      `json:"type"`
	Priority  int         `json:"priority,omitempty"`
	Required  bool        `json:"required,omitempty"`
	Templates []cTemplate `json:"templates,omitempty"` // slot-level sample utterances
}

// sctx holds the words around a slot's placeholders in the intent's templates.
type sctx struct{ left, left2, right map[string]bool }

// cTemplate is serialised compactly: {"t":"want order {Item}","w":1.2}
// (stems never hold spaces or braces).
type cTemplate struct {
	Elems     []elem  `json:"e"`
	Weight    float64 `json:"w"`
	intent    int
	slotTypes []int // type ids of the slot placeholders, in order
}

// elem is a template word (its stem) or a slot placeholder.
type elem struct {
	W string `json:"w,omitempty"`
	S string `json:"s,omitempty"` // slot name
}

type cType struct {
	Name     string            `json:"name"`
	TopRes   bool              `json:"topRes,omitempty"`
	Values   []string          `json:"values"`
	Phrases  map[string]int    `json:"phrases"` // stem sequence → value index
	Exact    map[string]int    `json:"exact"`   // folded word sequence → value index
	MaxLen   int               `json:"maxLen"`
	Regexes  []string          `json:"regexes,omitempty"`
	Parent   string            `json:"parent,omitempty"`
	Synonyms map[string]string `json:"-"`
}

// Compile compiles a spec. Errors name the offending utterance, slot or
// regex; the build should surface them as the bot's failureReason.
func Compile(spec ModelSpec) (*Model, error) {
	lang := LangOf(spec.Locale)
	m := &Model{Schema: SchemaVersion, Locale: spec.Locale, Lang: lang, IDF: map[string]float64{}, Forms: map[string]string{}}
	typeByName := map[string]int{}
	for _, st := range spec.SlotTypes {
		ct := cType{Name: st.Name, TopRes: st.Strategy == "TOP_RESOLUTION", Phrases: map[string]int{}, Exact: map[string]int{}, Regexes: st.Regexes, Parent: st.Parent}
		for _, re := range st.Regexes {
			if _, err := regexp.Compile(`^(?:` + re + `)$`); err != nil {
				return nil, fmt.Errorf("nlu: slot type %s: regex %q: %v", st.Name, re, err)
			}
		}
		for vi, v := range st.Values {
			ct.Values = append(ct.Values, v.Value)
			for k, s := range append([]string{v.Value}, v.Synonyms...) {
				toks := Tokenize(s, lang)
				if len(toks) == 0 {
					continue
				}
				stems := make([]string, len(toks))
				norms := make([]string, len(toks))
				for j, t := range toks {
					stems[j] = t.Stem
					norms[j] = t.Norm
					m.addForm(t)
				}
				if nk := strings.Join(norms, " "); k == 0 {
					ct.Exact[nk] = vi
				} else if _, dup := ct.Exact[nk]; !dup {
					ct.Exact[nk] = vi
				}
				key := strings.Join(stems, " ")
				if _, dup := ct.Phrases[key]; !dup || k == 0 {
					ct.Phrases[key] = vi
				}
				ct.MaxLen = max(ct.MaxLen, len(stems))
			}
		}
		typeByName[st.Name] = len(m.Types)
		m.Types = append(m.Types, ct)
	}
	builtins := map[string]bool{}
	df := map[string]int{}
	for _, is := range spec.Intents {
		ci := cIntent{Name: is.Name}
		slotType := map[string]string{}
		for _, ss := range is.Slots {
			if _, ok := typeByName[ss.Type]; !ok {
				if !strings.HasPrefix(ss.Type, "AMAZON.") {
					return nil, fmt.Errorf("nlu: slot %s of intent %s: unknown slot type %s", ss.Name, is.Name, ss.Type)
				}
				builtins[ss.Type] = true
			}
			slotType[ss.Name] = ss.Type
			cs := cSlot{Name: ss.Name, Type: ss.Type, Priority: ss.Priority, Required: ss.Required}
			for _, u := range ss.SampleUtterances {
				t, err := m.parseTemplate(u, slotType)
				if err != nil {
					return nil, fmt.Errorf("nlu: slot %s of intent %s: utterance %q: %v", ss.Name, is.Name, u, err)
				}
				cs.Templates = append(cs.Templates, t)
			}
			ci.Slots = append(ci.Slots, cs)
		}
		utts := is.SampleUtterances
		if len(utts) == 0 && is.Parent != "" {
			utts = builtinIntentUtterances(is.Parent, lang)
		}
		seen := map[string]bool{}
		for _, u := range utts {
			t, err := m.parseTemplate(u, slotType)
			if err != nil {
				return nil, fmt.Errorf("nlu: intent %s: utterance %q: %v", is.Name, u, err)
			}
			ci.Templates = append(ci.Templates, t)
			for _, e := range t.Elems {
				if e.W != "" && !seen[e.W] {
					seen[e.W] = true
					df[e.W]++
				}
			}
		}
		m.Intents = append(m.Intents, ci)
	}
	for b := range builtins {
		m.Builtin = append(m.Builtin, b)
	}
	sort.Strings(m.Builtin)
	n := float64(len(m.Intents))
	maxIDF := 0.0
	for w, d := range df {
		idf := math.Log(1 + (n-float64(d)+0.5)/(float64(d)+0.5))
		if stopStems(lang)[w] {
			idf *= 0.2
		}
		m.IDF[w] = idf
		maxIDF = max(maxIDF, idf)
	}
	if maxIDF == 0 {
		maxIDF = 1
	}
	m.UnkW = 0.5 * maxIDF
	m.SlotW = 0.8 * maxIDF
	for i := range m.Intents {
		for j := range m.Intents[i].Templates {
			m.weigh(&m.Intents[i].Templates[j])
		}
	}
	m.index()
	return m, nil
}

var stopStemSets = map[Lang]map[string]bool{}

func stopStems(lang Lang) map[string]bool {
	return stopStemSets[lang]
}

func init() {
	for lang, ws := range stopWords {
		stopStemSets[lang] = map[string]bool{}
		for w := range ws {
			stopStemSets[lang][Stem(w, lang)] = true
		}
	}
}

func (m *Model) addForm(t Token) {
	if utf8.RuneCountInString(t.Norm) >= 4 && isAlpha(t.Norm) {
		if _, ok := m.Forms[t.Norm]; !ok {
			m.Forms[t.Norm] = t.Stem
		}
		if m.FormN == nil {
			m.FormN = map[string]int{}
		}
		m.FormN[t.Norm]++
	}
}

func isAlpha(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r == 'ñ' || r == 'ç') {
			return false
		}
	}
	return true
}

func (t cTemplate) MarshalJSON() ([]byte, error) {
	parts := make([]string, len(t.Elems))
	for i, e := range t.Elems {
		if e.S != "" {
			parts[i] = "{" + e.S + "}"
		} else {
			parts[i] = e.W
		}
	}
	return json.Marshal(struct {
		T string  `json:"t"`
		W float64 `json:"w"`
	}{strings.Join(parts, " "), t.Weight})
}

func (t *cTemplate) UnmarshalJSON(b []byte) error {
	var v struct {
		T string  `json:"t"`
		W float64 `json:"w"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	fields := strings.Fields(v.T)
	t.Elems, t.Weight = make([]elem, len(fields)), v.W
	for i, f := range fields {
		if len(f) > 2 && f[0] == '{' && f[len(f)-1] == '}' {
			t.Elems[i].S = f[1 : len(f)-1]
		} else {
			t.Elems[i].W = f
		}
	}
	return nil
}

func (m *Model) weigh(t *cTemplate) {
	t.Weight = 0
	seen := map[string]bool{}
	for _, e := range t.Elems {
		if e.S != "" {
			t.Weight += m.SlotW
		} else if !seen[e.W] {
			seen[e.W] = true
			t.Weight += m.IDF[e.W]
		}
	}
}

// parseTemplate turns "I want {Count} {FlowerType} please" into elements.
func (m *Model) parseTemplate(u string, slots map[string]string) (cTemplate, error) {
	var t cTemplate
	rest := u
	for rest != "" {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			t.Elems = append(t.Elems, m.words(rest)...)
			break
		}
		if rest[open] == '}' {
			return t, fmt.Errorf("unmatched '}'")
		}
		t.Elems = append(t.Elems, m.words(rest[:open])...)
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return t, fmt.Errorf("unclosed '{'")
		}
		name := strings.TrimSpace(rest[open+1 : open+end])
		if _, ok := slots[name]; !ok {
			return t, fmt.Errorf("unknown slot {%s}", name)
		}
		t.Elems = append(t.Elems, elem{S: name})
		rest = rest[open+end+1:]
	}
	if len(t.Elems) == 0 {
		return t, fmt.Errorf("no words")
	}
	return t, nil
}

func (m *Model) words(s string) []elem {
	var out []elem
	for _, tok := range Tokenize(s, m.Lang) {
		m.addForm(tok)
		out = append(out, elem{W: tok.Stem})
	}
	return out
}

// Marshal returns the serialised model (JSON).
func (m *Model) Marshal() ([]byte, error) { return json.Marshal(m) }

// Load restores a model from Marshal's output. It decodes and builds the
// in-memory indexes; it never re-tokenises or re-stems sample utterances.
func Load(data []byte) (*Model, error) {
	m := &Model{}
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("nlu: load: %w", err)
	}
	if m.Schema != SchemaVersion {
		return nil, fmt.Errorf("nlu: load: schema %d, want %d (recompile the bot)", m.Schema, SchemaVersion)
	}
	m.index()
	return m, nil
}

func (m *Model) index() {
	m.scratch.New = func() any { return &scoreScratch{} }
	m.slotTypeID = map[string]int{}
	m.slotTypeNames = nil
	m.slotTmpls = nil
	m.intentSlotTypes = make([][]int, len(m.Intents))
	typeID := func(name string) int {
		id, ok := m.slotTypeID[name]
		if !ok {
			id = len(m.slotTypeNames)
			m.slotTypeID[name] = id
			m.slotTypeNames = append(m.slotTypeNames, name)
		}
		return id
	}
	for i := range m.Intents {
		ci := &m.Intents[i]
		seen := map[int]bool{}
		for _, s := range ci.Slots {
			if id := typeID(s.Type); !seen[id] {
				seen[id] = true
				m.intentSlotTypes[i] = append(m.intentSlotTypes[i], id)
			}
		}
		for j := range ci.Templates {
			t := &ci.Templates[j]
			t.slotTypes = t.slotTypes[:0]
			for _, e := range t.Elems {
				if e.S != "" {
					t.slotTypes = append(t.slotTypes, typeID(ci.slotType(e.S)))
				}
			}
		}
	}
	m.intentIdx = map[string]int{}
	m.typeIdx = map[string]int{}
	m.postings = map[string][]int32{}
	m.tmpls = m.tmpls[:0]
	m.tmplIntent, m.tmplWeight, m.tmplSlotTypes = m.tmplIntent[:0], m.tmplWeight[:0], m.tmplSlotTypes[:0]
	for i := range m.Intents {
		ci := &m.Intents[i]
		m.intentIdx[ci.Name] = i
		ci.Vocab = map[string]bool{}
		ci.Ctx = map[string]*sctx{}
		for _, s := range ci.Slots {
			ci.Ctx[s.Name] = &sctx{left: map[string]bool{}, left2: map[string]bool{}, right: map[string]bool{}}
		}
		for j := range ci.Templates {
			t := &ci.Templates[j]
			t.intent = i
			id := int32(len(m.tmpls))
			m.tmpls = append(m.tmpls, t)
			m.tmplIntent = append(m.tmplIntent, int32(i))
			m.tmplWeight = append(m.tmplWeight, t.Weight)
			m.tmplSlotTypes = append(m.tmplSlotTypes, t.slotTypes)
			if len(t.slotTypes) > 0 {
				m.slotTmpls = append(m.slotTmpls, id)
			}
			for k, e := range t.Elems {
				if e.S != "" {
					c := ci.Ctx[e.S]
					if c == nil {
						continue
					}
					if k > 0 && t.Elems[k-1].W != "" {
						c.left[t.Elems[k-1].W] = true
						if k > 1 && t.Elems[k-2].W != "" {
							c.left2[t.Elems[k-2].W] = true
						}
					}
					if k+1 < len(t.Elems) && t.Elems[k+1].W != "" {
						c.right[t.Elems[k+1].W] = true
					}
					continue
				}
				ci.Vocab[e.W] = true
				if p := m.postings[e.W]; len(p) == 0 || p[len(p)-1] != id {
					m.postings[e.W] = append(p, id)
				}
			}
		}
		for _, s := range ci.Slots {
			for _, t := range s.Templates {
				for k, e := range t.Elems {
					if e.S == s.Name {
						if k > 0 && t.Elems[k-1].W != "" {
							ci.Ctx[s.Name].left[t.Elems[k-1].W] = true
						}
					}
				}
			}
		}
	}
	m.valueStem = map[string]bool{}
	m.exactForm = map[string]bool{}
	for _, ct := range m.Types {
		for p := range ct.Exact {
			for _, w := range strings.Fields(p) {
				m.exactForm[w] = true
			}
		}
		for p := range ct.Phrases {
			for _, st := range strings.Fields(p) {
				m.valueStem[st] = true
			}
		}
	}
	m.typeRes = make([][]*regexp.Regexp, len(m.Types))
	for i := range m.Types {
		m.typeIdx[m.Types[i].Name] = i
		for _, re := range m.Types[i].Regexes {
			m.typeRes[i] = append(m.typeRes[i], regexp.MustCompile(`^(?:`+re+`)$`))
		}
	}
	m.formWords = make([]string, 0, len(m.Forms))
	for w := range m.Forms {
		m.formWords = append(m.formWords, w)
	}
	sort.Strings(m.formWords)
	m.deletes = make(map[uint64][]int32, 16*len(m.formWords))
	for id, w := range m.formWords {
		deletionHashes(w, maxEdits(w), func(h uint64) {
			if p := m.deletes[h]; len(p) == 0 || p[len(p)-1] != int32(id) {
				m.deletes[h] = append(p, int32(id))
			}
		})
	}
}

// deletionHashes calls fn with the hash of w and of every string obtained
// by deleting up to d (≤ 2) of its runes (a variant may come twice). The
// typo index keys vocabulary words by these hashes; a collision only adds
// a candidate, which the edit distance check then rejects.
func deletionHashes(w string, d int, fn func(uint64)) {
	var buf [32]rune
	r := buf[:0]
	for _, c := range w {
		r = append(r, c)
	}
	hash := func(skip1, skip2 int) uint64 {
		h := uint64(14695981039346656037)
		for i, c := range r {
			if i == skip1 || i == skip2 {
				continue
			}
			h ^= uint64(c)
			h *= 1099511628211
		}
		return h
	}
	fn(hash(-1, -1))
	if d >= 1 {
		for i := range r {
			fn(hash(i, -1))
		}
	}
	if d >= 2 {
		for i := range r {
			for j := i + 1; j < len(r); j++ {
				fn(hash(i, j))
			}
		}
	}
}

// maxEdits bounds typo correction by word length: none below 4 letters,
// one edit for 4–7, two from 8.
func maxEdits(w string) int {
	n := utf8.RuneCountInString(w)
	switch {
	case n < 4:
		return 0
	case n < 8:
		return 1
	}
	return 2
}

// IntentNames lists the model's intents in spec order.
func (m *Model) IntentNames() []string {
	out := make([]string, len(m.Intents))
	for i, ci := range m.Intents {
		out[i] = ci.Name
	}
	return out
}
