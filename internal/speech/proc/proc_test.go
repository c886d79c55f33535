package proc_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lextrail/internal/speech/proc"
)

func sh(t *testing.T) string {
	p, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	return p
}

func TestRunOutputAndFailure(t *testing.T) {
	r := proc.New(proc.Config{Concurrency: 1})
	out, err := r.Run(context.Background(), proc.Cmd{Path: sh(t), Args: []string{"-c", "cat; echo done"}, Stdin: []byte("in:")})
	if err != nil || string(out) != "in:done\n" {
		t.Fatalf("%q %v", out, err)
	}
	_, err = r.Run(context.Background(), proc.Cmd{Path: sh(t), Args: []string{"-c", "echo broken model >&2; exit 3"}})
	var ee *proc.ExitError
	if !errors.As(err, &ee) || ee.Tool != "sh" || !strings.Contains(ee.Stderr, "broken model") {
		t.Fatalf("%v", err)
	}
	r2 := proc.New(proc.Config{MaxOutput: 10})
	if _, err := r2.Run(context.Background(), proc.Cmd{Path: sh(t), Args: []string{"-c", "echo 0123456789abcdef"}}); err == nil {
		t.Fatal("unbounded output accepted")
	}
	if s := r.Stats(); s.Runs != 2 || s.Failures != 1 {
		t.Errorf("%+v", s)
	}
}

// TestTimeoutKillsGroup: a tool that hangs (and a child it forked) is
// killed when the timeout passes.
func TestTimeoutKillsGroup(t *testing.T) {
	r := proc.New(proc.Config{Concurrency: 1, Timeout: 300 * time.Millisecond})
	pidFile := t.TempDir() + "/child"
	start := time.Now()
	_, err := r.Run(context.Background(), proc.Cmd{Path: sh(t), Args: []string{"-c", "sleep 30 & echo $! > " + pidFile + "; wait"}})
	if !errors.Is(err, proc.ErrTimeout) {
		t.Fatalf("err %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("returned after %s", d)
	}
	b, _ := os.ReadFile(pidFile)
	var pid int
	for _, c := range strings.TrimSpace(string(b)) {
		pid = pid*10 + int(c-'0')
	}
	if pid == 0 {
		t.Fatal("no child pid")
	}
	deadline := time.Now().Add(2 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("child %d survived the timeout", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r.Stats().TimedOut != 1 {
		t.Errorf("%+v", r.Stats())
	}
}

// TestQueue: with 1 slot and 1 waiting place, a third concurrent run is
// refused at once; the first two complete.
func TestQueue(t *testing.T) {
	r := proc.New(proc.Config{Concurrency: 1, Queue: 1, Timeout: 5 * time.Second})
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = r.Run(context.Background(), proc.Cmd{Path: sh(t), Args: []string{"-c", "sleep 0.4"}})
		}(i)
	}
	deadline := time.Now().Add(2 * time.Second)
	for r.Stats().Running+r.Stats().Waiting < 2 {
		if time.Now().After(deadline) {
			t.Fatal("runs did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	_, err := r.Run(context.Background(), proc.Cmd{Path: sh(t), Args: []string{"-c", "true"}})
	if !errors.Is(err, proc.ErrQueueFull) || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("third run: %v after %s", err, time.Since(start))
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("%v", errs)
	}
	if s := r.Stats(); s.Rejected != 1 || s.Runs != 2 {
		t.Errorf("%+v", s)
	}
}
