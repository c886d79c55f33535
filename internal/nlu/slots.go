package nlu

import (
	"sort"
	"strings"

	"lextrail/internal/nlu/builtin"
)

// fill assigns tags and anchored free text to the slots of intent in.
func (m *Model) fill(in int, u *utt, bestT int) map[string]SlotValue {
	ci := &m.Intents[in]
	out := map[string]SlotValue{}
	if len(ci.Slots) == 0 {
		return out
	}
	type cand struct {
		slot  int
		tag   int
		score float64
	}
	var cs []cand
	for si, s := range ci.Slots {
		ctx := ci.Ctx[s.Name]
		for ti, t := range u.tags {
			if t.typ != s.Type {
				continue
			}
			sc := 1 + 0.05*float64(t.end-t.start)
			if t.fuzzy {
				sc -= 0.2
			}
			if ctx != nil {
				if t.start > 0 && ctx.left[u.stems[t.start-1]] {
					sc += 0.6
					if t.start > 1 && ctx.left2[u.stems[t.start-2]] {
						sc += 0.4
					}
				} else if t.start > 1 && (ctx.left[u.stems[t.start-2]] || ctx.left2[u.stems[t.start-2]]) {
					sc += 0.3
				}
				if t.end < len(u.stems) && ctx.right[u.stems[t.end]] {
					sc += 0.4
				}
			}
			cs = append(cs, cand{si, ti, sc})
		}
	}
	sort.SliceStable(cs, func(a, b int) bool {
		if cs[a].score != cs[b].score {
			return cs[a].score > cs[b].score
		}
		if pa, pb := ci.Slots[cs[a].slot].Priority, ci.Slots[cs[b].slot].Priority; pa != pb {
			return pa < pb
		}
		return u.tags[cs[a].tag].start < u.tags[cs[b].tag].start
	})
	used := make([]bool, len(u.toks))
	free := func(a, b int) bool {
		for k := a; k < b; k++ {
			if used[k] {
				return false
			}
		}
		return true
	}
	for _, c := range cs {
		s := ci.Slots[c.slot]
		t := u.tags[c.tag]
		if _, done := out[s.Name]; done || !free(t.start, t.end) {
			continue
		}
		for k := t.start; k < t.end; k++ {
			used[k] = true
		}
		out[s.Name] = m.slotValue(s.Type, u.span(t.start, t.end), t)
	}
	// free text anchored by the words around {Slot} in the best template
	// first, then in the others
	order := make([]*cTemplate, 0, len(ci.Templates))
	if bestT >= 0 && bestT < len(m.tmpls) {
		order = append(order, m.tmpls[bestT])
	}
	for i := range ci.Templates {
		order = append(order, &ci.Templates[i])
	}
	for _, s := range ci.Slots {
		if _, done := out[s.Name]; done || !m.acceptsFreeText(s.Type) || s.Type == "AMAZON.AlphaNumeric" {
			continue
		}
		for _, t := range order {
			a, b, ok := anchor(t, s.Name, u, used)
			if !ok || !m.plausibleFree(ci, u, a, b) {
				continue
			}
			if v, ok := m.freeValue(s.Type, u, a, b); ok {
				for k := a; k < b; k++ {
					used[k] = true
				}
				out[s.Name] = v
				break
			}
		}
	}
	return out
}

func (m *Model) slotValue(typ, original string, t tag) SlotValue {
	v := SlotValue{Original: original, Resolved: t.value, Resolutions: t.res}
	if ti, ok := m.typeIdx[typ]; ok && !t.regex && !m.Types[ti].TopRes {
		v.Resolved = original
	}
	return v
}

// acceptsFreeText: names, cities, codes, unknown built-ins and
// ORIGINAL_VALUE custom types without regexes may take text their
// resolver does not know when a sample utterance anchors it.
func (m *Model) acceptsFreeText(typ string) bool {
	if ti, ok := m.typeIdx[typ]; ok {
		ct := m.Types[ti]
		return !ct.TopRes && len(ct.Regexes) == 0
	}
	return builtin.FreeText(typ)
}

func (m *Model) freeValue(typ string, u *utt, a, b int) (SlotValue, bool) {
	orig := u.span(a, b)
	if strings.HasPrefix(typ, "AMAZON.") && builtin.Known(typ) && u.bin != nil {
		sub := builtin.Prepare(words(u.toks[a:b]), u.ctx)
		if v, ok := builtin.Resolve(typ, sub); ok {
			return SlotValue{Original: orig, Resolved: v, Resolutions: []string{v}}, true
		}
	}
	if !m.acceptsFreeText(typ) {
		return SlotValue{}, false
	}
	return SlotValue{Original: orig, Resolved: orig}, true
}

func words(toks []Token) []builtin.Word {
	out := make([]builtin.Word, len(toks))
	for i, t := range toks {
		out[i] = builtin.Word{Norm: t.Norm, Raw: t.Raw}
	}
	return out
}

// anchor finds the span of slot in u delimited by the template words
// around {slot}: after the left word and before the right word (or the
// end). Spans are 1–4 tokens and must be free.
func anchor(t *cTemplate, slot string, u *utt, used []bool) (int, int, bool) {
	for k, e := range t.Elems {
		if e.S != slot {
			continue
		}
		var lw, rw string
		if k > 0 {
			if t.Elems[k-1].S != "" {
				return 0, 0, false
			}
			lw = t.Elems[k-1].W
		}
		if k+1 < len(t.Elems) {
			if t.Elems[k+1].S != "" {
				return 0, 0, false
			}
			rw = t.Elems[k+1].W
		}
		if lw == "" && rw == "" {
			return 0, 0, false
		}
		starts := []int{}
		if lw == "" {
			starts = append(starts, 0)
		} else {
			for i, st := range u.stems {
				if st == lw && !used[i] {
					starts = append(starts, i+1)
				}
			}
		}
		for _, a := range starts {
			b := -1
			if rw == "" {
				b = len(u.stems)
			} else {
				for j := a + 1; j < len(u.stems) && j <= a+4; j++ {
					if u.stems[j] == rw {
						b = j
						break
					}
				}
			}
			if b <= a || b-a > 4 {
				continue
			}
			ok := true
			for i := a; i < b; i++ {
				if used[i] {
					ok = false
				}
			}
			if ok {
				return a, b, true
			}
		}
	}
	return 0, 0, false
}

// fillers are leading words stripped from an elicitation answer before
// it is taken as a free-text value.
var fillers = map[Lang][]string{
	"en": {"my name is", "my first name is", "my last name is", "the name is", "it is", "its", "it's", "i want", "i would like", "i'd like", "id like", "i need", "make it", "call me", "i am", "im", "i'm", "the", "a", "an", "to", "in", "from", "at", "on", "please", "umm", "um", "uh", "well", "just"},
	"es": {"me llamo", "mi nombre es", "mi apellido es", "quiero", "quisiera", "me gustaría", "me gustaria", "necesito", "es", "soy", "el", "la", "los", "las", "un", "una", "unas", "unos", "a", "en", "de", "desde", "por favor", "pues", "eh", "bueno"},
}

// FillSlot resolves an answer to an ElicitSlot prompt for slot of intent:
// the whole utterance or part of it is the value ("roses", "I want roses",
// "make it next friday"). It uses the slot's type, the slot-level sample
// utterances and the intent's templates.
func (m *Model) FillSlot(intent, slot, utterance string, opt Options) (SlotValue, bool) {
	in, ok := m.intentIdx[intent]
	if !ok {
		return SlotValue{}, false
	}
	ci := &m.Intents[in]
	var s *cSlot
	for i := range ci.Slots {
		if ci.Slots[i].Name == slot {
			s = &ci.Slots[i]
		}
	}
	if s == nil {
		return SlotValue{}, false
	}
	u := m.analyze(utterance, opt)
	if len(u.toks) == 0 {
		return SlotValue{}, false
	}
	// 1. a recognised value of the slot's type; with several, the one
	// after a slot-level context word, else the longest, else the last
	bestI, bestS := -1, -1.0
	ctx := ci.Ctx[s.Name]
	for ti, t := range u.tags {
		if t.typ != s.Type {
			continue
		}
		sc := float64(t.end-t.start) + 0.01*float64(t.start)
		if t.fuzzy {
			sc -= 0.5
		}
		if ctx != nil && t.start > 0 && ctx.left[u.stems[t.start-1]] {
			sc += 2
		}
		if sc > bestS {
			bestI, bestS = ti, sc
		}
	}
	if bestI >= 0 {
		t := u.tags[bestI]
		return m.slotValue(s.Type, u.span(t.start, t.end), t), true
	}
	// 2. anchored by slot-level sample utterances, then intent templates
	used := make([]bool, len(u.toks))
	for _, ts := range [][]cTemplate{s.Templates, ci.Templates} {
		for i := range ts {
			if a, b, ok := anchor(&ts[i], s.Name, u, used); ok {
				if v, ok := m.freeValue(s.Type, u, a, b); ok {
					return v, true
				}
			}
		}
	}
	// 3. the whole answer (after filler) for built-ins with a resolver
	a := m.skipFiller(u)
	if strings.HasPrefix(s.Type, "AMAZON.") && builtin.Known(s.Type) {
		if v, ok := builtin.Resolve(s.Type, builtin.Prepare(words(u.toks[a:]), u.ctx)); ok {
			orig := u.span(a, len(u.toks))
			return SlotValue{Original: orig, Resolved: v, Resolutions: []string{v}}, true
		}
	}
	// 4. free text
	if m.acceptsFreeText(s.Type) && a < len(u.toks) && len(u.toks)-a <= 5 {
		orig := u.span(a, len(u.toks))
		return SlotValue{Original: orig, Resolved: orig}, true
	}
	return SlotValue{}, false
}

func (m *Model) skipFiller(u *utt) int {
	a := 0
	for a < len(u.toks) {
		adv := 0
		for _, f := range fillers[m.Lang] {
			fw := strings.Fields(Fold(f))
			if a+len(fw) < len(u.toks) && len(fw) > adv {
				match := true
				for k, w := range fw {
					if u.toks[a+k].Norm != w {
						match = false
						break
					}
				}
				if match {
					adv = len(fw)
				}
			}
		}
		if adv == 0 {
			break
		}
		a += adv
	}
	return a
}

// plausibleFree rejects anchored free text that holds a function word or
// a word of the intent's own templates ("some flowers please").
func (m *Model) plausibleFree(ci *cIntent, u *utt, a, b int) bool {
	for k := a; k < b; k++ {
		if ci.Vocab[u.stems[k]] || stopStems(m.Lang)[u.stems[k]] || stopWords[m.Lang][u.toks[k].Norm] {
			return false
		}
	}
	return true
}
