package audittest

import "testing"

func TestMatchCatchesDifferences(t *testing.T) {
	golden := `{"a":"<uuid>","b":true,"c":{"d":"x","e":[1]},"t":"<time>"}`
	for actual, want := range map[string]int{
		`{"a":"01a205ff-dd5f-7193-a30e-c8cc2961f862","b":true,"c":{"d":"x","e":[1]},"t":"2026-01-01T00:00:00Z"}`:   0,
		`{"a":"nope","b":true,"c":{"d":"x","e":[1]},"t":"2026-01-01T00:00:00Z"}`:                                   1, // not a UUID
		`{"a":"01a205ff-dd5f-7193-a30e-c8cc2961f862","b":"true","c":{"d":"x","e":[1]},"t":"2026-01-01T00:00:00Z"}`: 1, // type
		`{"b":true,"a":"01a205ff-dd5f-7193-a30e-c8cc2961f862","c":{"d":"x","e":[1]},"t":"2026-01-01T00:00:00Z"}`:   1, // order
		`{"a":"01a205ff-dd5f-7193-a30e-c8cc2961f862","b":true,"c":{"d":"x"},"t":"2026-01-01T00:00:00Z"}`:           1, // missing
		`{"a":"01a205ff-dd5f-7193-a30e-c8cc2961f862","b":true,"c":{"d":"x","e":[2]},"t":"2026-01-01T00:00:00.5Z"}`: 2,
	} {
		if got := Match([]byte(golden), []byte(actual)); len(got) != want {
			t.Errorf("Match(%s) = %q, want %d differences", actual, got, want)
		}
	}
}
