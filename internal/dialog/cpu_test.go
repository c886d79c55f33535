package dialog

import (
	"syscall"
	"testing"
	"time"
)

// cpuPerOp reports the process's user+system CPU time per iteration
// ("cpu-ns/op") next to the wall time: on a machine shared with other
// work the wall time includes waiting for a core, the CPU time does not.
// Call it right after b.ResetTimer and defer the returned func.
func cpuPerOp(b *testing.B) func() {
	start := processCPU()
	return func() {
		b.ReportMetric(float64((processCPU()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
