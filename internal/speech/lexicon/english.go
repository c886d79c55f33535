package lexicon

import (
	"strings"
)

// English spells an English word the CMU dictionary lacks (names, brands,
// made-up words) with letter-to-sound rules. The rules are context rules
// "left[match]right=PHONES" tried in order for the letter at the current
// position; the first whose contexts hold wins and the position advances
// past match. Context symbols:
//
//	'_' word boundary        '#' one or more vowels   ':' zero or more consonants
//	'^' one consonant        '+' e, i or y            '.' a voiced consonant
//	'%' a suffix (e, ed, er, es, ely, ing) then the word boundary
//
// It is a fallback: it gets regular spellings right and irregular ones
// approximately, which is enough for a grammar-constrained recogniser.
func English(word string) string {
	w := letters(word, false)
	if len(w) == 0 {
		return ""
	}
	s := " " + string(w) + " "
	var out []string
	for i := 1; i < len(s)-1; {
		rs := enRules[s[i]]
		matched := false
		for _, r := range rs {
			if !strings.HasPrefix(s[i:], r.match) {
				continue
			}
			if !matchLeft(r.left, s[:i]) || !matchRight(r.right, s[i+len(r.match):]) {
				continue
			}
			if r.phones != "" {
				out = append(out, r.phones)
			}
			i += len(r.match)
			matched = true
			break
		}
		if !matched {
			i++ // no rule: silent letter
		}
	}
	// collapse doubled phones from doubled letters across rule boundaries
	var ph []string
	for _, p := range strings.Fields(strings.Join(out, " ")) {
		if len(ph) > 0 && ph[len(ph)-1] == p && !isVowelPhone(p) {
			continue
		}
		ph = append(ph, p)
	}
	return strings.Join(ph, " ")
}

func isVowelPhone(p string) bool {
	switch p[0] {
	case 'A', 'E', 'I', 'O', 'U':
		return true
	}
	return false
}

type enRule struct {
	left, match, right, phones string
}

var enRules = func() map[byte][]enRule {
	m := map[byte][]enRule{}
	for _, line := range strings.Split(enRuleText, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		for _, r := range strings.Split(line, ";") {
			r = strings.TrimSpace(r)
			if r == "" {
				continue
			}
			eq := strings.LastIndexByte(r, '=')
			lb, rb := strings.IndexByte(r, '['), strings.IndexByte(r, ']')
			if eq < 0 || lb < 0 || rb < lb {
				panic("lexicon: bad rule " + r)
			}
			b := strings.NewReplacer("_", " ")
			rule := enRule{left: b.Replace(r[:lb]), match: r[lb+1 : rb], right: b.Replace(r[rb+1 : eq]), phones: strings.TrimSpace(r[eq+1:])}
			if !Valid(rule.phones) && rule.phones != "" {
				panic("lexicon: bad phones in rule " + r)
			}
			m[rule.match[0]] = append(m[rule.match[0]], rule)
		}
	}
	return m
}()

func isVowelByte(c byte) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return true
	}
	return false
}

func isConsByte(c byte) bool { return c >= 'a' && c <= 'z' && !isVowelByte(c) }

func isVoiced(c byte) bool { return strings.IndexByte("bdgjlmnrvwz", c) >= 0 }

// matchRight matches pattern p against the text after the match.
func matchRight(p, s string) bool {
	for k := 0; k < len(p); k++ {
		c := p[k]
		switch c {
		case ' ':
			if len(s) == 0 || s[0] != ' ' {
				return false
			}
			s = s[1:]
		case '#':
			if len(s) == 0 || !isVowelByte(s[0]) {
				return false
			}
			for len(s) > 0 && isVowelByte(s[0]) {
				s = s[1:]
			}
		case ':':
			for len(s) > 0 && isConsByte(s[0]) {
				s = s[1:]
			}
		case '^':
			if len(s) == 0 || !isConsByte(s[0]) {
				return false
			}
			s = s[1:]
		case '+':
			if len(s) == 0 || (s[0] != 'e' && s[0] != 'i' && s[0] != 'y') {
				return false
			}
			s = s[1:]
		case '.':
			if len(s) == 0 || !isVoiced(s[0]) {
				return false
			}
			s = s[1:]
		case '%':
			ok := false
			for _, suf := range []string{"ing ", "ely ", "ed ", "er ", "es ", "e "} {
				if strings.HasPrefix(s, suf) {
					s, ok = s[len(suf)-1:], true
					break
				}
			}
			if !ok {
				return false
			}
		default:
			if len(s) == 0 || s[0] != c {
				return false
			}
			s = s[1:]
		}
	}
	return true
}

// matchLeft matches pattern p, read right to left, against the text
// before the match.
func matchLeft(p, s string) bool {
	for k := len(p) - 1; k >= 0; k-- {
		c := p[k]
		n := len(s)
		switch c {
		case ' ':
			if n == 0 || s[n-1] != ' ' {
				return false
			}
			s = s[:n-1]
		case '#':
			if n == 0 || !isVowelByte(s[n-1]) {
				return false
			}
			for len(s) > 0 && isVowelByte(s[len(s)-1]) {
				s = s[:len(s)-1]
			}
		case ':':
			for len(s) > 0 && isConsByte(s[len(s)-1]) {
				s = s[:len(s)-1]
			}
		case '^':
			if n == 0 || !isConsByte(s[n-1]) {
				return false
			}
			s = s[:n-1]
		case '+':
			if n == 0 || (s[n-1] != 'e' && s[n-1] != 'i' && s[n-1] != 'y') {
				return false
			}
			s = s[:n-1]
		case '.':
			if n == 0 || !isVoiced(s[n-1]) {
				return false
			}
			s = s[:n-1]
		default:
			if n == 0 || s[n-1] != c {
				return false
			}
			s = s[:n-1]
		}
	}
	return true
}

// enRuleText: for each letter, specific rules first.
const enRuleText = `
// a
[a]_=AH; [are]_=AA R; [ar]o=EH R; [ar]#=EH R; [aw]=AO; [ay]=EY; [ai]r=EH R; [ai]=EY; [au]=AO; [all]=AO L
[alk]=AO K; [augh]=AO; [ation]=EY SH AH N; [age]_=IH JH; [a]nge=EY; [a]^%=EY; [a]^+#=EY; [ar]=AA R; [a]=AE
// b
[bb]=B; [b]=B
// c
[ch]=CH; [ck]=K; [cc]+=K S; [cc]=K; [ci]a=SH; [ci]o=SH; [c]+=S; [c]=K
// d
[dg]e=JH; [dd]=D; [d]=D
// e
#:[e]_=; [e]_=IY; [ee]=IY; [ear]_=IH R; [ea]=IY; [er]#=EH R; [er]=ER; [ew]=UW; [ey]_=IY; [ey]=EY; [eigh]=EY
[ei]=EY; [eu]=Y UW; #:[es]_=Z; #:[ed]_=D; [e]^%=IY; [e]^+#=IY; [e]=EH
// f
[ff]=F; [f]=F
// g
[gh]_=; [gh]t=; [gh]=G; [gg]=G; [gn]_=N; [ge]_=JH; [g]+=JH; [g]=G
// h
_[h]=HH; [h]#=HH; [h]=
// i
[igh]=AY; _:[ie]_=AY; [ie]=IY; [ir]=ER; [ion]=Y AH N; [i]_=IY; [i]nd=AY; [i]ld=AY; [i]^%=AY; [i]^+#=AY; [i]#=IY; [i]=IH
// j
[j]=JH
// k
_[kn]=N; [kk]=K; [k]=K
// l
[ll]=L; ^[le]_=AH L; [l]=L
// m
[mb]_=M; [mm]=M; [m]=M
// n
[ng]=NG; [nk]=NG K; [nn]=N; [n]=N
// o
[oo]k=UH; [oo]=UW; [oa]=OW; [oi]=OY; [oy]=OY; [ough]=AO; [ou]=AW; [ow]_=OW; [ow]=AW; [our]=AW ER; [or]=AO R
[old]=OW L D; [ost]_=OW S T; [o]_=OW; [o]^%=OW; [o]^+#=OW; [o]=AA
// p
[ph]=F; [pp]=P; [p]=P
// q
[qu]=K W; [q]=K
// r
_[rh]=R; [rr]=R; [r]=R
// s
[sch]=S K; [sh]=SH; [sion]=ZH AH N; [ss]=S; #[s]#=Z; .[s]_=Z; #[s]_=Z; [s]=S
// t
[tch]=CH; [th]=TH; [tion]=SH AH N; [tu]re=CH; [tt]=T; [t]=T
// u
[ure]_=Y UH R; [ur]=ER; [u]^%=UW; [u]^+#=UW; [u]_=UW; [u]=AH
// v
[v]=V
// w
_[wr]=R; [wh]=W; [w]=W
// x
_[x]=Z; [x]=K S
// y
_[y]#=Y; _^[y]_=AY; [y]_=IY; [y]^%=AY; [y]#=Y; [y]=IH
// z
[zz]=Z; [z]=Z
`
