package lexruntime

import (
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

// timings are cheap histograms (an atomic add per sample) of where a
// turn's time goes on this node — the engine, waiting for the group
// commit, the commit itself, the wake-up after it — for the load
// generator (cmd/lextrail-load) and for diagnosing a latency tail.
type timings struct {
	engine, queue, write, wake, turn histogram
	// batch counts commits by their number of turns.
	batches, batched atomic.Int64
}

// bounds are the histogram's bucket upper bounds; the last bucket is
// everything longer.
var bounds = []time.Duration{
	50 * time.Microsecond, 100 * time.Microsecond, 200 * time.Microsecond, 300 * time.Microsecond, 500 * time.Microsecond,
	750 * time.Microsecond, time.Millisecond, 1500 * time.Microsecond, 2 * time.Millisecond, 3 * time.Millisecond,
	4 * time.Millisecond, 5 * time.Millisecond, 7500 * time.Microsecond, 10 * time.Millisecond, 15 * time.Millisecond,
	20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
}

type histogram struct {
	n [19]atomic.Int64 // len(bounds)+1
}

func (h *histogram) add(d time.Duration) {
	h.n[sort.Search(len(bounds), func(i int) bool { return d <= bounds[i] })].Add(1)
}

func (h *histogram) counts() ([]int64, int64) {
	c := make([]int64, len(h.n))
	var total int64
	for i := range h.n {
		c[i] = h.n[i].Load()
		total += c[i]
	}
	return c, total
}

// quantile is the upper bound of the bucket holding quantile q ("" for
// the open last bucket: > 100ms).
func quantile(c []int64, total int64, q float64) string {
	var seen int64
	for i, n := range c {
		seen += n
		if float64(seen) >= q*float64(total) {
			if i == len(bounds) {
				return ">" + bounds[len(bounds)-1].String()
			}
			return "≤" + bounds[i].String()
		}
	}
	return "-"
}

// over is the share of samples longer than d (a bucket bound).
func over(c []int64, total int64, d time.Duration) float64 {
	if total == 0 {
		return 0
	}
	var n int64
	for i := range c {
		if i == len(bounds) || bounds[i] > d {
			n += c[i]
		}
	}
	return float64(n) / float64(total)
}

func (t *timings) reset() {
	for _, h := range []*histogram{&t.engine, &t.queue, &t.write, &t.wake, &t.turn} {
		for i := range h.n {
			h.n[i].Store(0)
		}
	}
	t.batches.Store(0)
	t.batched.Store(0)
}

func (t *timings) String() string {
	var b strings.Builder
	for _, x := range []struct {
		name string
		h    *histogram
	}{
		{"engine", &t.engine},
		{"commit queue", &t.queue},
		{"commit", &t.write},
		{"wake-up", &t.wake},
		{"turn", &t.turn},
	} {
		c, total := x.h.counts()
		fmt.Fprintf(&b, "  %-12s n %-7d p50 %-8s p90 %-8s p99 %-8s >2ms %5.2f%%  >5ms %5.2f%%\n", x.name, total,
			quantile(c, total, .5), quantile(c, total, .9), quantile(c, total, .99), 100*over(c, total, 2*time.Millisecond), 100*over(c, total, 5*time.Millisecond))
	}
	if n := t.batches.Load(); n > 0 {
		fmt.Fprintf(&b, "  %.2f turns per group commit\n", float64(t.batched.Load())/float64(n))
	}
	return b.String()
}

// TurnTimings describes, as text, where this node's turns spent their
// time since the last ResetTurnTimings: the dialog engine; on SQLite
// waiting for the group commit in progress, the commit (its batch's
// transaction), and the wake-up after it; and the whole turn (from the
// guard to the commit's return, without HTTP and authentication).
func (s *Service) TurnTimings() string { return s.times.String() }

// ResetTurnTimings empties the histograms of TurnTimings.
func (s *Service) ResetTurnTimings() { s.times.reset() }
