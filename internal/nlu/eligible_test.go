package nlu

import (
	"strings"
	"testing"
)

// TestEligibleMemo: the mask kept for the last list of intents is used
// only for that same slice; another list, even of the same length, gets
// its own.
func TestEligibleMemo(t *testing.T) {
	spec := bigSpec()
	m, err := Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	names := func(is ...int) []string {
		var out []string
		for _, i := range is {
			out = append(out, spec.Intents[i].Name)
		}
		return out
	}
	utt := strings.Replace(spec.Intents[3].SampleUtterances[1], "{Item}", "thing3", 1)
	a, b := names(3, 4), names(5, 6)
	for round := 0; round < 2; round++ {
		for _, want := range [][]string{a, b, a} {
			r := m.Parse(utt, Options{Now: nyNow, Intents: want})
			if len(r.Intents) != 2 {
				t.Fatalf("restricted to %v: %+v", want, r.Intents)
			}
			for _, in := range r.Intents {
				if in.Name != want[0] && in.Name != want[1] {
					t.Fatalf("restricted to %v, got %s", want, in.Name)
				}
			}
		}
	}
	if r := m.Parse(utt, Options{Now: nyNow}); r.Intents[0].Name != spec.Intents[3].Name {
		t.Fatalf("unrestricted: %+v", r.Intents[0])
	}
}
