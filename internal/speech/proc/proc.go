// Package proc owns the external speech tools' processes: it runs them
// with bounded concurrency (at most Concurrency at once, at most Queue
// more waiting, the rest refused at once), a per-run timeout after which
// the whole process group is killed, and bounded capture of what they
// print. Nothing here forks without a slot.
package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
)

// Config configures a Runner. The zero value of each field is its
// documented default.
type Config struct {
	// Concurrency is how many tools run at once (default: the number of
	// CPUs).
	Concurrency int
	// Queue is how many more runs may wait for a slot (default 4 ×
	// Concurrency); beyond it Run fails at once with ErrQueueFull.
	Queue int
	// Timeout bounds one run, waiting for a slot included (default 10 s);
	// the process group is killed when it passes.
	Timeout time.Duration
	// MaxOutput bounds the stdout kept (default 16 MiB); more is an error.
	MaxOutput int
}

// Runner runs tools under the limits. Safe for concurrent use.
type Runner struct {
	cfg   Config
	admit chan struct{} // running + waiting
	slots chan struct{} // running

	running, waiting             atomic.Int64
	runs, rejected, timeouts, ko atomic.Int64
}

// Errors Run returns (wrapped with details).
var (
	ErrQueueFull = errors.New("proc: too many speech requests waiting")
	ErrTimeout   = errors.New("proc: the tool did not finish in time and was killed")
)

// New returns a Runner.
func New(cfg Config) *Runner {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = runtime.NumCPU()
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 4 * cfg.Concurrency
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxOutput <= 0 {
		cfg.MaxOutput = 16 << 20
	}
	return &Runner{
		cfg:   cfg,
		admit: make(chan struct{}, cfg.Concurrency+cfg.Queue),
		slots: make(chan struct{}, cfg.Concurrency),
	}
}

// Config returns the limits in force.
func (r *Runner) Config() Config { return r.cfg }

// Stats is a snapshot of the runner's counters.
type Stats struct {
	Running, Waiting                   int64
	Runs, Rejected, TimedOut, Failures int64
}

// Stats returns the counters.
func (r *Runner) Stats() Stats {
	return Stats{Running: r.running.Load(), Waiting: r.waiting.Load(), Runs: r.runs.Load(),
		Rejected: r.rejected.Load(), TimedOut: r.timeouts.Load(), Failures: r.ko.Load()}
}

// Cmd is one tool invocation.
type Cmd struct {
	Path  string
	Args  []string
	Stdin []byte
	Env   []string // nil: the server's environment
	Dir   string
}

// ExitError is a tool that ran and failed; Stderr is the tail of what it
// printed.
type ExitError struct {
	Tool   string
	Err    error
	Stderr string
}

func (e *ExitError) Error() string {
	s := fmt.Sprintf("%s: %v", e.Tool, e.Err)
	if e.Stderr != "" {
		s += ": " + e.Stderr
	}
	return s
}

// Run runs c under the limits and returns its stdout.
func (r *Runner) Run(ctx context.Context, c Cmd) ([]byte, error) {
	out, _, err := r.RunUsage(ctx, c)
	return out, err
}

// RunUsage is Run that also reports the processor time (user + system)
// the tool used.
func (r *Runner) RunUsage(ctx context.Context, c Cmd) ([]byte, time.Duration, error) {
	return r.run(ctx, c)
}

func (r *Runner) run(ctx context.Context, c Cmd) (stdout []byte, cpu time.Duration, err error) {
	select {
	case r.admit <- struct{}{}:
	default:
		r.rejected.Add(1)
		return nil, 0, fmt.Errorf("%w (%d running, %d waiting)", ErrQueueFull, r.cfg.Concurrency, r.cfg.Queue)
	}
	defer func() { <-r.admit }()
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	r.waiting.Add(1)
	select {
	case r.slots <- struct{}{}:
		r.waiting.Add(-1)
	case <-ctx.Done():
		r.waiting.Add(-1)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			r.timeouts.Add(1)
			return nil, 0, fmt.Errorf("%w: no slot within %s", ErrTimeout, r.cfg.Timeout)
		}
		return nil, 0, ctx.Err()
	}
	defer func() { <-r.slots }()
	r.running.Add(1)
	defer r.running.Add(-1)
	r.runs.Add(1)

	cmd := exec.CommandContext(ctx, c.Path, c.Args...)
	setGroup(cmd)
	cmd.WaitDelay = time.Second
	cmd.Env = c.Env
	cmd.Dir = c.Dir
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	out := &limited{max: r.cfg.MaxOutput}
	errTail := &tail{max: 2048}
	cmd.Stdout = out
	cmd.Stderr = errTail
	err = cmd.Run()
	if cmd.ProcessState != nil {
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	tool := c.Path
	if i := strings.LastIndexByte(tool, '/'); i >= 0 {
		tool = tool[i+1:]
	}
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		r.timeouts.Add(1)
		return nil, cpu, fmt.Errorf("%w: %s ran longer than %s", ErrTimeout, tool, r.cfg.Timeout)
	}
	if err != nil {
		r.ko.Add(1)
		if ctx.Err() != nil {
			return nil, cpu, ctx.Err()
		}
		return nil, cpu, &ExitError{Tool: tool, Err: err, Stderr: strings.TrimSpace(errTail.String())}
	}
	if out.over {
		r.ko.Add(1)
		return nil, cpu, &ExitError{Tool: tool, Err: fmt.Errorf("printed more than %d bytes", r.cfg.MaxOutput)}
	}
	return out.b.Bytes(), cpu, nil
}

// limited keeps at most max bytes and notes the overflow.
type limited struct {
	b    bytes.Buffer
	max  int
	over bool
}

func (l *limited) Write(p []byte) (int, error) {
	if l.b.Len()+len(p) > l.max {
		l.over = true
		return 0, io.ErrShortWrite
	}
	return l.b.Write(p)
}

// tail keeps the last max bytes written.
type tail struct {
	b   []byte
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 2*t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	if len(t.b) > t.max {
		return string(t.b[len(t.b)-t.max:])
	}
	return string(t.b)
}
