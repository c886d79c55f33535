package nlu

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Sentiment is detectSentiment's answer in Lex's shape: SentimentLabel is
// POSITIVE, NEGATIVE, NEUTRAL or MIXED; SentimentScore is the string Lex
// returns, e.g. "{Mixed: 0.03, Positive: 0.94, Neutral: 0.01, Negative: 0.009}".
type Sentiment struct {
	SentimentLabel                     string
	SentimentScore                     string
	Positive, Negative, Neutral, Mixed float64
}

// The analyser is lexicon based: each word of a small hand-made lexicon
// (below; English and Spanish) carries a valence from -3 to +3. A
// negation within the three preceding words flips and damps it (×-0.7),
// an intensifier ("very", "muy") multiplies it by 1.5, and words after
// "but"/"pero" count 1.5 times (the clause after "but" usually carries
// the opinion). With P and N the positive and negative totals, the
// neutral share is exp(-(P+N)/1.5); the rest splits into mixed
// (min/max of the two) and positive/negative in proportion to P and
// N. The label is the largest share. These are heuristic scores, not a
// trained model's probabilities.
var lexicon = map[Lang]map[string]float64{
	"en": weights(`good:2 great:3 excellent:3 amazing:3 awesome:3 wonderful:3 fantastic:3 perfect:3 love:3 loved:3 like:1 liked:1 nice:2
happy:2 glad:2 pleased:2 thanks:1 thank:1 helpful:2 best:3 fine:1 cool:1 easy:1 fast:1 quick:1 beautiful:2 lovely:2 brilliant:3
satisfied:2 recommend:2 enjoy:2 enjoyed:2 fun:2 friendly:2 super:2 bad:-2 terrible:-3 awful:-3 horrible:-3 worst:-3 hate:-3 hated:-3
poor:-2 angry:-3 annoyed:-2 annoying:-2 upset:-2 sad:-2 disappointed:-2 disappointing:-2 useless:-3 broken:-2 wrong:-2 slow:-1
problem:-1 problems:-1 issue:-1 fail:-2 failed:-2 failure:-2 rude:-2 expensive:-1 ridiculous:-2 stupid:-2 unhappy:-2 frustrated:-2
frustrating:-2 lost:-1 stolen:-2 late:-1 worse:-2 never:-1 complaint:-2 sucks:-3 unacceptable:-3 scam:-3`),
	"es": weights(`bueno:2 buena:2 buenos:2 buenas:2 genial:3 excelente:3 increible:3 maravilloso:3 fantastico:3 perfecto:3 perfecta:3
encanta:3 encanto:3 gusta:1 gracias:1 amable:2 feliz:2 contento:2 contenta:2 util:2 mejor:2 rapido:1 facil:1 bonito:2 bonita:2
precioso:2 preciosa:2 estupendo:3 fenomenal:3 satisfecho:2 recomiendo:2 divertido:2 malo:-2 mala:-2 terrible:-3 horrible:-3 pesimo:-3
pesima:-3 peor:-2 odio:-3 enfadado:-2 enfadada:-2 molesto:-2 molesta:-2 triste:-2 decepcionado:-2 decepcionada:-2 inutil:-3 roto:-2
rota:-2 problema:-1 problemas:-1 fallo:-2 error:-1 lento:-1 lenta:-1 caro:-1 cara:-1 ridiculo:-2 estupido:-2 frustrado:-2 tarde:-1
perdido:-1 robado:-2 queja:-2 fatal:-3 asco:-3 inaceptable:-3 estafa:-3`),
}

var intensifiers = set("very really so extremely super too quite muy super bastante demasiado tan realmente", "")

func weights(s string) map[string]float64 {
	m := map[string]float64{}
	for _, f := range strings.Fields(s) {
		k, v, _ := strings.Cut(f, ":")
		x, _ := strconv.ParseFloat(v, 64)
		m[k] = x
	}
	return m
}

// DetectSentiment analyses an utterance for the locale's language.
func DetectSentiment(utterance, locale string) Sentiment {
	lang := LangOf(locale)
	toks := Tokenize(utterance, lang)
	var pos, neg float64
	boost := 1.0
	for i, t := range toks {
		if t.Norm == "but" || t.Norm == "pero" || t.Norm == "however" || t.Norm == "aunque" {
			boost = 1.5
			continue
		}
		v, ok := lexicon[lang][t.Norm]
		if !ok {
			continue
		}
		if i > 0 && intensifiers[toks[i-1].Norm] {
			v *= 1.5
		}
		for k := max(0, i-3); k < i; k++ {
			if negations[toks[k].Norm] || toks[k].Norm == "no" {
				v *= -0.7
				break
			}
		}
		v *= boost
		if v > 0 {
			pos += v
		} else {
			neg -= v
		}
	}
	s := Sentiment{}
	total := pos + neg
	s.Neutral = math.Exp(-total / 1.5)
	rest := 1 - s.Neutral
	if pos > 0 && neg > 0 {
		s.Mixed = rest * math.Min(pos, neg) / math.Max(pos, neg)
	}
	if total > 0 {
		s.Positive = (rest - s.Mixed) * pos / total
		s.Negative = (rest - s.Mixed) * neg / total
	}
	s.SentimentLabel = "NEUTRAL"
	best := s.Neutral
	for _, c := range []struct {
		l string
		v float64
	}{{"POSITIVE", s.Positive}, {"NEGATIVE", s.Negative}, {"MIXED", s.Mixed}} {
		if c.v > best {
			s.SentimentLabel, best = c.l, c.v
		}
	}
	s.SentimentScore = fmt.Sprintf("{Mixed: %s, Positive: %s, Neutral: %s, Negative: %s}", fmtScore(s.Mixed), fmtScore(s.Positive), fmtScore(s.Neutral), fmtScore(s.Negative))
	return s
}

func fmtScore(f float64) string {
	if f < 0.0001 {
		f = 0.0001
	}
	return strconv.FormatFloat(f, 'g', 2, 64)
}
