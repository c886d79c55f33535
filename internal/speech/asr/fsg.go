package asr

import (
	"fmt"
	"sort"
	"strings"
)

// The grammar is written as JSGF rules (readable, and what pocketsphinx
// documents), but pocketsphinx's own JSGF loader copies every rule
// reference into its search graph: the booktrip bot's grammar became 3,790
// states and 430,000 HMM nodes, 1.3 s of CPU per turn. So the rules are
// compiled here instead: parsed, expanded into a word automaton,
// determinised and minimised (Brzozowski: reverse, determinise, twice),
// which merges every shared prefix and suffix, and written in
// pocketsphinx's FSG format with each state's outgoing transitions
// equally likely.

// expr is a parsed rule expansion.
type expr struct {
	kind  byte // 'w' word, 'r' rule ref, 's' sequence, 'a' alternatives, '?' optional, '*', '+'
	word  string
	items []*expr
}

// parseExpansion parses the JSGF subset the compiler writes: words,
// <rule> references, ( ) grouping, [ ] optional, | alternatives, * and +.
func parseExpansion(s string) (*expr, error) {
	p := &parser{toks: lexJSGF(s)}
	e, err := p.alts()
	if err != nil {
		return nil, err
	}
	if p.i != len(p.toks) {
		return nil, fmt.Errorf("asr: unexpected %q in %q", p.toks[p.i], s)
	}
	return e, nil
}

func lexJSGF(s string) []string {
	var toks []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, cur.String())
			cur.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case ' ', '\t', '\n', '\r':
			flush()
		case '(', ')', '[', ']', '|', '*', '+':
			flush()
			toks = append(toks, string(c))
		case '<':
			flush()
			j := strings.IndexByte(s[i:], '>')
			if j < 0 {
				toks = append(toks, s[i:])
				return toks
			}
			toks = append(toks, s[i:i+j+1])
			i += j
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return toks
}

type parser struct {
	toks []string
	i    int
}

func (p *parser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *parser) alts() (*expr, error) {
	var items []*expr
	for {
		s, err := p.seq()
		if err != nil {
			return nil, err
		}
		items = append(items, s)
		if p.peek() != "|" {
			break
		}
		p.i++
	}
	if len(items) == 1 {
		return items[0], nil
	}
	return &expr{kind: 'a', items: items}, nil
}

func (p *parser) seq() (*expr, error) {
	var items []*expr
	for {
		t := p.peek()
		var e *expr
		switch {
		case t == "" || t == "|" || t == ")" || t == "]":
			if len(items) == 0 {
				return nil, fmt.Errorf("asr: empty alternative before %q", t)
			}
			if len(items) == 1 {
				return items[0], nil
			}
			return &expr{kind: 's', items: items}, nil
		case t == "(" || t == "[":
			p.i++
			inner, err := p.alts()
			if err != nil {
				return nil, err
			}
			closer := ")"
			if t == "[" {
				closer = "]"
			}
			if p.peek() != closer {
				return nil, fmt.Errorf("asr: missing %q", closer)
			}
			p.i++
			e = inner
			if t == "[" {
				e = &expr{kind: '?', items: []*expr{inner}}
			}
		case t == "*" || t == "+":
			return nil, fmt.Errorf("asr: %q without an operand", t)
		case strings.HasPrefix(t, "<"):
			p.i++
			e = &expr{kind: 'r', word: strings.Trim(t, "<>")}
		default:
			p.i++
			e = &expr{kind: 'w', word: t}
		}
		for p.peek() == "*" || p.peek() == "+" {
			e = &expr{kind: p.peek()[0], items: []*expr{e}}
			p.i++
		}
		items = append(items, e)
	}
}

// nfa is a word automaton with ε-moves (label "").
type nfa struct {
	n     int
	edges [][]edge
	start int
	final map[int]bool
}

type edge struct {
	to   int
	word string
}

func (a *nfa) state() int {
	a.edges = append(a.edges, nil)
	a.n++
	return a.n - 1
}

func (a *nfa) add(from, to int, w string) { a.edges[from] = append(a.edges[from], edge{to, w}) }

// automata compiles rules to graphs, bottom-up (see above); a rule
// reference inlines a copy of the referenced rule's graph.
type automata struct {
	rules map[string]*expr
	memo  map[string]*nfa
	busy  map[string]bool
}

func (m *automata) rule(name string) (*nfa, error) {
	if g, ok := m.memo[name]; ok {
		return g, nil
	}
	r, ok := m.rules[name]
	if !ok {
		return nil, fmt.Errorf("asr: undefined rule <%s>", name)
	}
	if m.busy[name] {
		return nil, fmt.Errorf("asr: rule <%s> is recursive", name)
	}
	m.busy[name] = true
	defer delete(m.busy, name)
	a := &nfa{final: map[int]bool{}}
	a.start = a.state()
	end := a.state()
	a.final[end] = true
	if err := a.build(r, a.start, end, m); err != nil {
		return nil, err
	}
	a = a.simplify()
	if d := minimize(a).graph(); d.wordEdges() <= a.wordEdges() {
		a = d
	}
	m.memo[name] = a
	return a, nil
}

// graph converts a DFA to an automaton with one final state.
func (d *dfa) graph() *nfa {
	a := &nfa{final: map[int]bool{}}
	for range d.trans {
		a.state()
	}
	a.start = d.start
	final := a.state()
	a.final[final] = true
	for s, m := range d.trans {
		words := make([]string, 0, len(m))
		for w := range m {
			words = append(words, w)
		}
		sort.Strings(words)
		for _, w := range words {
			a.add(s, m[w], w)
		}
		if d.final[s] {
			a.add(s, final, "")
		}
	}
	return a.simplify()
}

func (a *nfa) wordEdges() int {
	n := 0
	for _, es := range a.edges {
		for _, e := range es {
			if e.word != "" {
				n++
			}
		}
	}
	return n
}

// simplify removes states that only pass on through one null transition,
// states off every start-to-final path, and duplicate edges; it returns
// an automaton with a single final state.
func (a *nfa) simplify() *nfa {
	// one final state
	final := -1
	for s := range a.final {
		if final < 0 || s < final {
			final = s
		}
	}
	for s := range a.final {
		if s != final {
			a.add(s, final, "")
		}
	}
	// forward pass-through: a state (not start, not final) whose only edge
	// is a null transition is replaced by its target
	fwd := make([]int, a.n)
	for s := range fwd {
		fwd[s] = s
		if s != a.start && s != final && len(a.edges[s]) == 1 && a.edges[s][0].word == "" {
			fwd[s] = a.edges[s][0].to
		}
	}
	resolve := func(s int) int {
		for i := 0; fwd[s] != s && i < a.n; i++ {
			s = fwd[s]
		}
		return s
	}
	// reachability both ways
	reach := make([]bool, a.n)
	stack := []int{a.start}
	reach[a.start] = true
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, e := range a.edges[s] {
			t := resolve(e.to)
			if !reach[t] {
				reach[t] = true
				stack = append(stack, t)
			}
		}
	}
	rev := make([][]int, a.n)
	for s, es := range a.edges {
		for _, e := range es {
			t := resolve(e.to)
			rev[t] = append(rev[t], s)
		}
	}
	co := make([]bool, a.n)
	co[final] = true
	stack = append(stack[:0], final)
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, p := range rev[s] {
			if !co[p] {
				co[p] = true
				stack = append(stack, p)
			}
		}
	}
	b := &nfa{final: map[int]bool{}}
	num := make([]int, a.n)
	for s := range num {
		num[s] = -1
	}
	id := func(s int) int {
		if num[s] < 0 {
			num[s] = b.state()
		}
		return num[s]
	}
	b.start = id(a.start)
	for s := 0; s < a.n; s++ {
		if !reach[s] || !co[s] || resolve(s) != s {
			continue
		}
		seen := map[edge]bool{}
		for _, e := range a.edges[s] {
			t := resolve(e.to)
			if !co[t] {
				continue
			}
			ne := edge{t, e.word}
			if seen[ne] || (e.word == "" && t == s) {
				continue
			}
			seen[ne] = true
			b.add(id(s), id(t), e.word)
		}
	}
	if !co[a.start] { // nothing reaches the final state
		id(final)
	}
	b.final[id(final)] = true
	return b
}

// inline copies g between from and to.
func (a *nfa) inline(g *nfa, from, to int) {
	base := a.n
	for i := 0; i < g.n; i++ {
		a.state()
	}
	for s, es := range g.edges {
		for _, e := range es {
			a.add(base+s, base+e.to, e.word)
		}
	}
	for f := range g.final {
		a.add(base+f, to, "")
	}
	a.add(from, base+g.start, "")
}

// build adds e between from and to.
func (a *nfa) build(e *expr, from, to int, rules *automata) error {
	switch e.kind {
	case 'w':
		a.add(from, to, e.word)
	case 'r':
		g, err := rules.rule(e.word)
		if err != nil {
			return err
		}
		a.inline(g, from, to)
	case 's':
		cur := from
		for i, it := range e.items {
			next := to
			if i < len(e.items)-1 {
				next = a.state()
			}
			if err := a.build(it, cur, next, rules); err != nil {
				return err
			}
			cur = next
		}
	case 'a':
		for _, it := range e.items {
			if err := a.build(it, from, to, rules); err != nil {
				return err
			}
		}
	case '?':
		a.add(from, to, "")
		return a.build(e.items[0], from, to, rules)
	case '*', '+':
		// from → in → (item) → out → to, out → in loops
		in, out := a.state(), a.state()
		a.add(from, in, "")
		a.add(out, to, "")
		a.add(out, in, "")
		if e.kind == '*' {
			a.add(from, to, "")
		}
		return a.build(e.items[0], in, out, rules)
	}
	return nil
}

// dfa is a deterministic word automaton.
type dfa struct {
	trans []map[string]int
	final []bool
	start int
}

// determinize runs the subset construction on a (with ε-closure).
func determinize(a *nfa) *dfa {
	mark := make([]int, a.n)
	gen := 0
	var stack []int
	closure := func(set []int) []int {
		gen++
		out := make([]int, 0, len(set))
		stack = stack[:0]
		for _, s := range set {
			if mark[s] != gen {
				mark[s] = gen
				out = append(out, s)
				stack = append(stack, s)
			}
		}
		for len(stack) > 0 {
			s := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, e := range a.edges[s] {
				if e.word == "" && mark[e.to] != gen {
					mark[e.to] = gen
					out = append(out, e.to)
					stack = append(stack, e.to)
				}
			}
		}
		sort.Ints(out)
		return out
	}
	var kb []byte
	key := func(set []int) string {
		kb = kb[:0]
		for _, s := range set {
			kb = append(kb, byte(s), byte(s>>8), byte(s>>16), byte(s>>24))
		}
		return string(kb)
	}
	d := &dfa{}
	index := map[string]int{}
	var sets [][]int
	push := func(set []int) int {
		k := key(set)
		if i, ok := index[k]; ok {
			return i
		}
		i := len(sets)
		index[k] = i
		sets = append(sets, set)
		fin := false
		for _, s := range set {
			fin = fin || a.final[s]
		}
		d.trans = append(d.trans, map[string]int{})
		d.final = append(d.final, fin)
		return i
	}
	d.start = push(closure([]int{a.start}))
	moves := map[string][]int{}
	var words []string
	for i := 0; i < len(sets); i++ {
		for w := range moves {
			delete(moves, w)
		}
		words = words[:0]
		for _, s := range sets[i] {
			for _, e := range a.edges[s] {
				if e.word != "" {
					if _, ok := moves[e.word]; !ok {
						words = append(words, e.word)
					}
					moves[e.word] = append(moves[e.word], e.to)
				}
			}
		}
		sort.Strings(words)
		for _, w := range words {
			d.trans[i][w] = push(closure(moves[w]))
		}
	}
	return d
}

// reverse returns the reversed automaton of d as an NFA.
func (d *dfa) reverse() *nfa {
	a := &nfa{final: map[int]bool{}}
	for range d.trans {
		a.state()
	}
	start := a.state()
	a.start = start
	for s, m := range d.trans {
		for w, t := range m {
			a.add(t, s, w)
		}
		if d.final[s] {
			a.add(start, s, "")
		}
	}
	a.final[d.start] = true
	return a
}

// minimize returns the minimal DFA of a (Brzozowski).
func minimize(a *nfa) *dfa {
	return determinize(determinize(determinize(a).reverse()).reverse())
}

// compileFSG compiles the top rule into pocketsphinx FSG text. garbage
// words, when given, form a competing loop from the start state: a path
// through them means "nothing the grammar accepts was said". It returns
// the text and the number of word transitions.
func compileFSG(name, top string, rules *automata, garbage []string, garbageProb, garbageLoop float64) (string, int, error) {
	g, err := rules.rule(top)
	if err != nil {
		return "", 0, err
	}
	var final int
	for f := range g.final {
		final = f
	}
	// number states breadth-first from the start, the final state last
	order := []int{g.start}
	num := map[int]int{g.start: 0}
	for i := 0; i < len(order); i++ {
		for _, e := range g.edges[order[i]] {
			if _, ok := num[e.to]; !ok && e.to != final {
				num[e.to] = len(order)
				order = append(order, e.to)
			}
		}
	}
	if _, ok := num[final]; !ok {
		num[final] = len(order)
		order = append(order, final)
	}
	states := len(order)
	gIn := -1
	if len(garbage) > 0 && garbageProb > 0 && garbageLoop > 0 {
		gIn = states
		states++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "FSG_BEGIN %s\nNUM_STATES %d\nSTART_STATE 0\nFINAL_STATE %d\n", name, states, num[final])
	for _, s := range order {
		from := num[s]
		es := g.edges[s]
		if len(es) == 0 {
			continue
		}
		share := 1.0
		if from == 0 && gIn >= 0 {
			share = 1 - garbageProb
		}
		p := share / float64(len(es))
		for _, e := range es {
			if e.word == "" {
				fmt.Fprintf(&b, "TRANSITION %d %d %.6g\n", from, num[e.to], p)
			} else {
				fmt.Fprintf(&b, "TRANSITION %d %d %.6g %s\n", from, num[e.to], p, e.word)
			}
		}
	}
	if gIn >= 0 {
		// garbageLoop is each phone's own probability (not shared out:
		// the per-phone cost is what balances garbage against words)
		for _, w := range garbage {
			fmt.Fprintf(&b, "TRANSITION 0 %d %.6g %s\n", gIn, garbageProb*garbageLoop, w)
			fmt.Fprintf(&b, "TRANSITION %d %d %.6g %s\n", gIn, gIn, garbageLoop, w)
		}
		fmt.Fprintf(&b, "TRANSITION %d %d 1\n", gIn, num[final])
	}
	b.WriteString("FSG_END\n")
	return b.String(), g.wordEdges(), nil
}
