package main

import (
	"strings"
	"testing"
)

// A hand-written excerpt in the shape go tool trace -d=parsed prints: a
// checkpointer fsync of 12ms whose P is taken over by another thread
// after 3.5ms, a network write of 2ms that keeps its P, a goroutine
// waiting 3ms for a P, an STW pause of 1ms and a slow turn.
const parsedExcerpt = `M=-1 P=-1 G=-1 Sync Time=1000000 N=1 Trace=1 Mono=1 Wall=2026-12-02T00:00:00Z
M=10 P=0 G=5 StateTransition Time=1000000 GoID=5 Running->Syscall Reason=""
Stack=
	modernc.org/libc.Xfsync @ 0x1
		/x/libc.go:1
	modernc.org/sqlite/lib._full_fsync @ 0x2
		/x/sqlite.go:2
	lextrail/internal/store.(*checkpointer).checkpoint @ 0x3
		/x/checkpoint.go:3

M=11 P=1 G=7 StateTransition Time=1500000 GoID=9 Waiting->Runnable Reason=""
M=12 P=-1 G=-1 StateTransition Time=4400000 ProcID=0 Running->Idle Reason=""
M=13 P=0 G=-1 StateTransition Time=4500000 GoID=9 Runnable->Running Reason=""
M=13 P=0 G=9 StateTransition Time=5000000 GoID=9 Running->Syscall Reason=""
Stack=
	syscall.write @ 0x4
		/x/syscall.go:4
	net/http.checkConnErrorWriter.Write @ 0x5
		/x/server.go:5

M=13 P=0 G=9 StateTransition Time=7000000 GoID=9 Syscall->Running Reason=""
M=11 P=1 G=7 RangeBegin Time=8000000 Name="stop-the-world (GC mark termination)" Scope=Goroutine(7)
M=11 P=1 G=7 RangeEnd Time=9000000 Name="stop-the-world (GC mark termination)" Scope=Goroutine(7)
M=11 P=1 G=7 Log Time=10000000 Task=0 Category="slow" Message="conn=3 dur=12000000 late=100"
M=10 P=-1 G=5 StateTransition Time=13000000 GoID=5 Syscall->Runnable Reason=""
`

func TestTraceReport(t *testing.T) {
	var out strings.Builder
	if err := traceReport(strings.NewReader(parsedExcerpt), &out); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(strings.Fields(out.String()), " ")
	for _, want := range []string{
		"turns logged slower than 10ms: 1 (median 12ms",
		"1 stop-the-world pauses, 1ms in all, max 1ms",
		"waits for a P (runnable to running): 1, p50 3ms",
		"1 total 12ms P held 3.5ms max 12ms modernc.org/sqlite/lib._full_fsync < lextrail/internal/store.(*checkpointer).checkpoint",
		"1 total 2ms P held 2ms max 2ms net/http.checkConnErrorWriter.Write",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	if err := traceReport(strings.NewReader("not a trace\n"), &out); err == nil {
		t.Error("no error for input without events")
	}
}
