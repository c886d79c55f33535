// Package cputime measures the CPU time a process spends, for benchmarks
// on a shared machine: ns/op is wall-clock time and grows with other
// processes' load, while the CPU time per operation is what the operation
// costs.
package cputime

import (
	"syscall"
	"testing"
	"time"
)

// Process returns the user+system CPU time this process has used.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Report starts measuring; the returned func, called after the timed loop,
// reports the process CPU time per operation as the "cpu-ns/op" metric.
// Call it right after b.ResetTimer.
func Report(b *testing.B) func() {
	start := Process()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(Process()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}
