package nlu

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"lextrail/internal/nlu/builtin"
)

// Options are per-request settings.
type Options struct {
	// Now is the reference time for relative dates and times (default
	// time.Now()).
	Now time.Time
	// TimeZone is the IANA zone of x-amz-lex:time-zone; empty keeps Now's
	// location. An unknown zone is ignored.
	TimeZone string
	// Intents restricts classification to these intents (those whose input
	// contexts are active); nil means every intent. The slice is read, not
	// changed, and must not be changed by the caller afterwards (the mask
	// of the last one is kept).
	Intents []string
	// Max is how many intents Parse returns with slots (default 5).
	Max int
}

// IntentScore is one intent's confidence in [0, 1].
type IntentScore struct {
	Name       string
	Confidence float64
}

// SlotValue is a filled slot. Resolved is what the slot holds
// (valueSelectionStrategy applied; built-ins in their output format);
// Original is the text the user typed; Resolutions are the candidate
// canonical values (≤ 5) for slotDetails.
type SlotValue struct {
	Original    string
	Resolved    string
	Resolutions []string
}

// IntentResult is an intent with its confidence and the slots found.
// Slots holds only filled slots.
type IntentResult struct {
	Name       string
	Confidence float64
	Slots      map[string]SlotValue
}

// Result is Parse's answer: intents by descending confidence.
type Result struct {
	Intents []IntentResult
}

type tag struct {
	start, end int
	typ        string
	value      string
	res        []string
	fuzzy      bool
	regex      bool
}

type utt struct {
	text  string
	toks  []Token
	stems []string
	norms []string // folded words, typos corrected
	fuzzy []bool
	w     []float64
	total float64
	tags  []tag
	bin   *builtin.Input
	ctx   builtin.Context
}

func (o Options) ref() time.Time {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	if o.TimeZone != "" {
		if loc, err := loadLocation(o.TimeZone); err == nil {
			now = now.In(loc)
		}
	}
	return now
}

var (
	zoneMu    sync.RWMutex
	zoneCache = map[string]*time.Location{}
)

func loadLocation(name string) (*time.Location, error) {
	zoneMu.RLock()
	l, ok := zoneCache[name]
	zoneMu.RUnlock()
	if ok {
		return l, nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zoneMu.Lock()
	zoneCache[name] = l
	zoneMu.Unlock()
	return l, nil
}

func (m *Model) analyze(text string, opt Options) *utt {
	u := &utt{text: text, toks: Tokenize(text, m.Lang)}
	n := len(u.toks)
	u.stems = make([]string, n)
	u.norms = make([]string, n)
	u.fuzzy = make([]bool, n)
	u.w = make([]float64, n)
	for i, t := range u.toks {
		st, nm := t.Stem, t.Norm
		if _, ok := m.IDF[st]; !ok && !m.valueStem[st] {
			if c, ok := m.correct(t.Norm); ok {
				st, nm = m.Forms[c], c
				u.fuzzy[i] = true
			}
		}
		u.stems[i], u.norms[i] = st, nm
		w, ok := m.IDF[st]
		if !ok {
			w = m.UnkW
			if m.valueStem[st] {
				w = m.SlotW * 0.5
			}
		}
		u.w[i] = w
		u.total += w
	}
	// custom slot types: values and synonyms (typos corrected above)
	for ti := range m.Types {
		ct := &m.Types[ti]
		for i := 0; i < n; {
			matched := false
			for l := min(ct.MaxLen, n-i); l >= 1; l-- {
				vi, ok := ct.Exact[strings.Join(u.norms[i:i+l], " ")]
				if !ok {
					// a stem-only match ("rose" for "roses") must not take
					// a word the templates use ("check" ≠ "checking")
					vi, ok = ct.Phrases[strings.Join(u.stems[i:i+l], " ")]
					for k := i; ok && k < i+l; k++ {
						if _, tw := m.IDF[u.stems[k]]; tw && !m.exactForm[u.norms[k]] {
							ok = false
						}
					}
				}
				if ok {
					fz := false
					for k := i; k < i+l; k++ {
						fz = fz || u.fuzzy[k]
					}
					u.tags = append(u.tags, tag{start: i, end: i + l, typ: ct.Name, value: ct.Values[vi], res: []string{ct.Values[vi]}, fuzzy: fz})
					i += l
					matched = true
					break
				}
			}
			if !matched {
				i++
			}
		}
		if res := m.typeRes[ti]; len(res) > 0 {
			for i := 0; i < n; i++ {
				for l := min(4, n-i); l >= 1; l-- {
					if v, ok := matchRegex(res, u.span(i, i+l)); ok {
						u.tags = append(u.tags, tag{start: i, end: i + l, typ: ct.Name, value: v, res: []string{v}, regex: true})
						break
					}
				}
			}
		}
	}
	if len(m.Builtin) > 0 && n > 0 {
		words := make([]builtin.Word, n)
		for i, t := range u.toks {
			words[i] = builtin.Word{Norm: t.Norm, Raw: t.Raw}
		}
		u.ctx = builtin.Context{Lang: string(m.Lang), Locale: m.Locale, Now: opt.ref()}
		u.bin = builtin.Prepare(words, u.ctx)
		for _, typ := range m.Builtin {
			for _, mt := range builtin.Find(typ, u.bin) {
				u.tags = append(u.tags, tag{start: mt.Start, end: mt.End, typ: typ, value: mt.Value, res: []string{mt.Value}})
			}
		}
	}
	return u
}

// span returns the original text of tokens [a, b).
func (u *utt) span(a, b int) string {
	if a >= b {
		return ""
	}
	return u.text[u.toks[a].Start:u.toks[b-1].End]
}

func matchRegex(res []*regexp.Regexp, s string) (string, bool) {
	cands := []string{s}
	if strings.ContainsAny(s, " -") {
		cands = append(cands, strings.NewReplacer(" ", "", "-", "").Replace(s))
	}
	for _, c := range cands {
		for _, re := range res {
			if re.MatchString(c) {
				return c, true
			}
		}
	}
	return "", false
}

// correct maps an out-of-vocabulary word to the closest vocabulary word
// within maxEdits (ties broken by the more frequent, i.e. lower-IDF, stem).
func (m *Model) correct(w string) (string, bool) {
	d := maxEdits(w)
	if d == 0 || !isAlpha(w) {
		return "", false
	}
	best, bestD, bestP := "", d+1, 0
	deletionHashes(w, d, func(h uint64) {
		for _, id := range m.deletes[h] {
			cand := m.formWords[id]
			if cand == best {
				continue
			}
			dist := builtin.Distance(w, cand, min(d, maxEdits(cand)))
			if dist > d {
				continue
			}
			p := m.FormN[cand] + 10*similarSub(w, cand)
			if dist < bestD || dist == bestD && (p > bestP || p == bestP && cand < best) {
				best, bestD, bestP = cand, dist, p
			}
		}
	})
	if best == "" || bestD > d {
		return "", false
	}
	return best, true
}

// Classify scores every eligible intent, best first.
func (m *Model) Classify(utterance string, opt Options) []IntentScore {
	u := m.analyze(utterance, opt)
	sc, _ := m.score(u, opt)
	return sc
}

// score returns the intent scores and, per intent, 1 + the id of its
// best template (0: none scored).
//
// Only templates that can score are visited: those sharing a stem with
// the utterance (found through the postings) and those with a slot
// placeholder whose type was tagged in the utterance.
func (m *Model) score(u *utt, opt Options) ([]IntentScore, []int) {
	eligible := m.eligible(opt)
	sc := m.scratch.Get().(*scoreScratch)
	defer m.scratch.Put(sc)
	if len(sc.acc) != len(m.tmpls) {
		sc.acc = make([]float64, len(m.tmpls))
	}
	acc := sc.acc
	visit := sc.visit[:0]
	defer func() {
		for _, id := range visit {
			acc[id] = 0
		}
		sc.visit = visit
	}()
	cov := make([]float64, len(m.Intents))
	covered := make([]bool, len(u.stems))
	for i, st := range u.stems {
		dup := false
		for _, p := range u.stems[:i] {
			if p == st {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		w := u.w[i]
		if u.fuzzy[i] {
			w *= 0.85
		}
		last := int32(-1)
		for _, id := range m.postings[st] {
			if acc[id] == 0 {
				visit = append(visit, id)
			}
			acc[id] += w
			if in := m.tmplIntent[id]; in != last {
				last = in
				cov[in] += w
				covered[i] = true
			}
		}
	}
	// tags by slot type id
	tagsOf := make([][]int, len(m.slotTypeNames))
	anyTag := false
	for ti, t := range u.tags {
		if id, ok := m.slotTypeID[t.typ]; ok {
			tagsOf[id] = append(tagsOf[id], ti)
			anyTag = true
		}
	}
	if anyTag {
		for _, id := range m.slotTmpls {
			if acc[id] != 0 {
				continue // already visited
			}
			for _, ty := range m.tmplSlotTypes[id] {
				if len(tagsOf[ty]) > 0 {
					visit = append(visit, id)
					break
				}
			}
		}
	}
	// tags explain their tokens for intents that have a slot of that type
	for in := range m.Intents {
		if eligible != nil && !eligible[in] {
			continue
		}
		if u.total <= 0 {
			continue
		}
		expl := 0.0
		if anyTag {
			var usedTok []bool
			for _, ty := range m.intentSlotTypes[in] {
				for _, ti := range tagsOf[ty] {
					t := u.tags[ti]
					for k := t.start; k < t.end; k++ {
						if usedTok == nil {
							usedTok = make([]bool, len(u.stems))
						}
						if !covered[k] && !usedTok[k] {
							usedTok[k] = true
							expl += u.w[k]
						}
					}
				}
			}
		}
		cov[in] = min(1, (cov[in]+expl)/u.total)
	}
	best := make([]float64, len(m.Intents))
	bestT := make([]int, len(m.Intents))
	var used []int
	for _, id := range visit {
		in := m.tmplIntent[id]
		if eligible != nil && !eligible[in] {
			continue
		}
		inter, wu := acc[id], u.total
		used = used[:0]
		for _, ty := range m.tmplSlotTypes[id] {
			for _, ti := range tagsOf[ty] {
				tg := u.tags[ti]
				clash := false
				for _, o := range used {
					if ot := u.tags[o]; ot.start < tg.end && tg.start < ot.end {
						clash = true
						break
					}
				}
				if clash {
					continue
				}
				used = append(used, ti)
				inter += m.SlotW
				if tg.fuzzy {
					inter -= 0.15 * m.SlotW
				}
				sw := 0.0
				for k := tg.start; k < tg.end; k++ {
					sw += u.w[k]
				}
				wu += m.SlotW - sw
				break
			}
		}
		d := 0.0
		if tw := m.tmplWeight[id]; tw+wu > 0 {
			d = min(1, 2*inter/(tw+wu))
		}
		if d > best[in] || d == best[in] && (bestT[in] == 0 || int(id)+1 < bestT[in]) {
			best[in] = d
			bestT[in] = int(id) + 1
		}
	}
	out := make([]IntentScore, 0, len(m.Intents))
	for in, ci := range m.Intents {
		if eligible != nil && !eligible[in] {
			continue
		}
		c := 0.7*best[in] + 0.3*cov[in]
		if len(u.toks) == 0 {
			c = 0
		}
		out = append(out, IntentScore{Name: ci.Name, Confidence: round2(c)})
	}
	slices.SortStableFunc(out, func(a, b IntentScore) int { return cmp.Compare(b.Confidence, a.Confidence) })
	return out, bestT
}

// scoreScratch is score's reusable per-call memory.
type scoreScratch struct {
	acc   []float64
	visit []int32
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }

// eligible is the mask of opt.Intents (nil: every intent), read only.
// The mask of the last list of several intents is kept: a caller that
// passes the same slice every time (the dialog engine, for a bot without
// input contexts) has it without a map lookup per intent. (So a caller
// must not change the elements of a slice it passed.)
func (m *Model) eligible(opt Options) []bool {
	if opt.Intents == nil {
		return nil
	}
	if p := m.eligMemo.Load(); p != nil && len(p.names) == len(opt.Intents) && &p.names[0] == &opt.Intents[0] {
		return p.mask
	}
	e := make([]bool, len(m.Intents))
	for _, n := range opt.Intents {
		if i, ok := m.intentIdx[n]; ok {
			e[i] = true
		}
	}
	if len(opt.Intents) > 1 {
		m.eligMemo.Store(&eligMask{opt.Intents, e})
	}
	return e
}

// eligMask is a list of intent names and its mask.
type eligMask struct {
	names []string
	mask  []bool
}

func (ci *cIntent) slotType(name string) string {
	for _, s := range ci.Slots {
		if s.Name == name {
			return s.Type
		}
	}
	return ""
}

// Parse classifies the utterance and fills the slots of the best intents.
func (m *Model) Parse(utterance string, opt Options) Result {
	u := m.analyze(utterance, opt)
	sc, bestT := m.score(u, opt)
	k := opt.Max
	if k <= 0 {
		k = 5
	}
	var r Result
	for i, s := range sc {
		if i >= k {
			break
		}
		in := m.intentIdx[s.Name]
		r.Intents = append(r.Intents, IntentResult{Name: s.Name, Confidence: s.Confidence, Slots: m.fill(in, u, bestT[in]-1)})
	}
	return r
}

// DefaultThreshold is the confidence under which the evaluation treats
// an utterance as matching no intent. The runtime should use the bot's
// nluIntentConfidenceThreshold when set, else this value, to decide
// between an intent and the clarification prompt / fallback intent.
const DefaultThreshold = 0.40

// similarSub is 1 when a and b differ by one substitution of letters that
// sound or sit alike (s/z/c, b/v, i/y, k/c, g/j, m/n).
func similarSub(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) != len(rb) {
		return 0
	}
	diff := -1
	for i := range ra {
		if ra[i] != rb[i] {
			if diff >= 0 {
				return 0
			}
			diff = i
		}
	}
	if diff < 0 {
		return 0
	}
	pair := string([]rune{min(ra[diff], rb[diff]), max(ra[diff], rb[diff])})
	switch pair {
	case "sz", "cs", "cz", "bv", "iy", "ck", "gj", "mn":
		return 1
	}
	return 0
}
