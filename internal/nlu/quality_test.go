package nlu

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Quality floors: a little under what the evaluation set reaches, so a
// regression fails the build.
const (
	floorIntentAccuracy = 0.95
	floorSlotF1         = 0.95
)

type evalCase struct {
	intent, text string
	slots        map[string]string
}

var evalBots = []struct{ name, zone string }{
	{"orderflowers", "America/New_York"},
	{"booktrip", "America/New_York"},
	{"banking", "Europe/London"},
	{"reservarhotel", "Europe/Madrid"},
}

func loadSpec(t testing.TB, name string) ModelSpec {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "bots", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var s ModelSpec
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func loadEval(t testing.TB, name string) []evalCase {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "eval", name+".tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []evalCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := strings.Split(line, "\t")
		c := evalCase{intent: p[0], text: p[1], slots: map[string]string{}}
		if len(p) > 2 && p[2] != "" {
			for _, kv := range strings.Split(p[2], ";") {
				k, v, _ := strings.Cut(kv, "=")
				c.slots[k] = v
			}
		}
		out = append(out, c)
	}
	return out
}

type evalStats struct {
	n, correct, tp, fp, fn int
}

func (s evalStats) acc() float64 { return float64(s.correct) / float64(max(1, s.n)) }
func (s evalStats) f1() float64 {
	if s.tp == 0 {
		return 0
	}
	p := float64(s.tp) / float64(s.tp+s.fp)
	r := float64(s.tp) / float64(s.tp+s.fn)
	return 2 * p * r / (p + r)
}

func evaluate(t testing.TB, verbose bool) (total evalStats, per map[string]evalStats) {
	per = map[string]evalStats{}
	for _, b := range evalBots {
		m0, err := Compile(loadSpec(t, b.name))
		if err != nil {
			t.Fatal(err)
		}
		data, _ := m0.Marshal()
		m, err := Load(data)
		if err != nil {
			t.Fatal(err)
		}
		loc, _ := time.LoadLocation(b.zone)
		opt := Options{Now: time.Date(2026, 11, 22, 10, 0, 0, 0, loc)}
		var st evalStats
		for _, c := range loadEval(t, b.name) {
			r := m.Parse(c.text, opt)
			got := "-"
			var slots map[string]SlotValue
			if len(r.Intents) > 0 && r.Intents[0].Confidence >= DefaultThreshold {
				got, slots = r.Intents[0].Name, r.Intents[0].Slots
			}
			st.n++
			if got == c.intent {
				st.correct++
			} else if verbose {
				conf := 0.0
				if len(r.Intents) > 0 {
					conf = r.Intents[0].Confidence
				}
				t.Logf("intent miss %s: %q → %s (top %v %.2f)", b.name, c.text, got, r.Intents[0].Name, conf)
			}
			for k, v := range c.slots {
				if sv, ok := slots[k]; ok && strings.EqualFold(sv.Resolved, v) {
					st.tp++
				} else {
					st.fn++
					if verbose {
						t.Logf("slot miss %s: %q %s want %q got %q", b.name, c.text, k, v, sv.Resolved)
					}
				}
			}
			for k, sv := range slots {
				if v, ok := c.slots[k]; !ok || !strings.EqualFold(sv.Resolved, v) {
					st.fp++
					if verbose && !ok {
						t.Logf("slot extra %s: %q %s=%q", b.name, c.text, k, sv.Resolved)
					}
				}
			}
		}
		per[b.name] = st
		total.n += st.n
		total.correct += st.correct
		total.tp += st.tp
		total.fp += st.fp
		total.fn += st.fn
	}
	return total, per
}

// TestNLUQuality prints intent accuracy and slot F1 over the evaluation
// set (testdata/eval, 4 bots, en and es) and fails under the floors.
func TestNLUQuality(t *testing.T) {
	total, per := evaluate(t, testing.Verbose())
	for _, b := range evalBots {
		s := per[b.name]
		t.Logf("%-14s utterances %3d  intent accuracy %.3f  slot F1 %.3f", b.name, s.n, s.acc(), s.f1())
	}
	t.Logf("TOTAL          utterances %3d  intent accuracy %.3f  slot F1 %.3f (tp %d fp %d fn %d)", total.n, total.acc(), total.f1(), total.tp, total.fp, total.fn)
	if total.n < 300 {
		t.Errorf("evaluation set has %d utterances, want ≥ 300", total.n)
	}
	if total.acc() < floorIntentAccuracy {
		t.Errorf("intent accuracy %.3f < floor %.2f", total.acc(), floorIntentAccuracy)
	}
	if total.f1() < floorSlotF1 {
		t.Errorf("slot F1 %.3f < floor %.2f", total.f1(), floorSlotF1)
	}
}

// BenchmarkNLUQuality runs the evaluation set and reports intent accuracy
// and slot F1 (in percent); the time is that of compiling, loading and
// running the four evaluation bots:
//
//	go test -run '^$' -bench NLUQuality ./internal/nlu/
func BenchmarkNLUQuality(b *testing.B) {
	var total evalStats
	for i := 0; i < b.N; i++ {
		total, _ = evaluate(b, false)
	}
	b.ReportMetric(100*total.acc(), "intent-acc-%")
	b.ReportMetric(100*total.f1(), "slot-F1-%")
	b.ReportMetric(float64(total.n), "utterances")
}
