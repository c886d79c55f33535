package audio

import (
	"math"
	"sort"
	"time"
)

// SpeechSpan measures the span from the first to the last frame of speech
// in mono samples at rate: 20 ms frames whose energy is at least 12 dB
// above the clip's noise floor (its 10th-percentile frame) and above an
// absolute floor of -55 dBFS. Steady noise and digital silence hold no
// speech. Spans shorter than 60 ms (clicks) are ignored.
func SpeechSpan(s []int16, rate int) time.Duration {
	frame := rate / 50
	if frame == 0 || len(s) < frame {
		return 0
	}
	n := len(s) / frame
	db := make([]float64, n)
	for i := 0; i < n; i++ {
		sum := 0.0
		for _, v := range s[i*frame : (i+1)*frame] {
			f := float64(v)
			sum += f * f
		}
		rms := math.Sqrt(sum/float64(frame)) / 32768
		db[i] = 20 * math.Log10(rms+1e-9)
	}
	sorted := append([]float64(nil), db...)
	sort.Float64s(sorted)
	floor := sorted[n/10]
	thr := math.Max(floor+12, -55)
	first, last := -1, -1
	run := 0
	for i, v := range db {
		if v >= thr {
			run++
			if run >= 3 {
				if first < 0 {
					first = i - run + 1
				}
				last = i
			}
		} else {
			run = 0
		}
	}
	if first < 0 {
		return 0
	}
	return time.Duration(last-first+1) * 20 * time.Millisecond
}
