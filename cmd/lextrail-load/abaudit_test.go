package main

import "testing"

func TestSpread(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want string
	}{
		{nil, "none"},
		{[]float64{0.8}, "median 80.0%, 80.0% to 80.0% over 1 rounds"},
		{[]float64{0.9, 0.7, 0.8}, "median 80.0%, 70.0% to 90.0% over 3 rounds"},
		{[]float64{0.9, 0.7, 0.8, 0.85}, "median 82.5%, 70.0% to 90.0% over 4 rounds"},
	} {
		if got := spread(tc.in); got != tc.want {
			t.Errorf("spread(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
