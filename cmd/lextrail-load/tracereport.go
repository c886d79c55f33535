package main

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// -trace-report: a summary of a -trace file's tail sources, read from the
// text `go tool trace -d=parsed FILE` prints (the standard toolchain's
// parser; golang.org/x/exp/trace is not a dependency):
//
//	go tool trace -d=parsed /tmp/t.out | lextrail-load -trace-report -
//
// It reports the turns logged slower than 10 ms, the GC's stop-the-world
// pauses, mark phases and assists, how long runnable goroutines waited
// for a P, and the blocking syscalls over 1 ms by call site with how long
// the blocked goroutine kept its P before another thread took it over
// (the runtime's sysmon hands a P in a syscall off only after a delay, up
// to 10 ms and more when it has backed off: time during which GOMAXPROCS
// is one P short).

// traceEvent is one parsed event line: "M=.. P=.. G=.. Kind Time=N rest".
type traceEvent struct {
	m, p, kind, rest string
	t                int64
}

func parseTraceLine(line string) (traceEvent, bool) {
	f := strings.SplitN(line, " ", 6)
	if len(f) < 5 || !strings.HasPrefix(f[0], "M=") || !strings.HasPrefix(f[1], "P=") || !strings.HasPrefix(f[4], "Time=") {
		return traceEvent{}, false
	}
	t, err := strconv.ParseInt(f[4][5:], 10, 64)
	if err != nil {
		return traceEvent{}, false
	}
	e := traceEvent{m: f[0][2:], p: f[1][2:], kind: f[3], t: t}
	if len(f) == 6 {
		e.rest = f[5]
	}
	return e, true
}

// transition splits "GoID=12 Running->Syscall ..." (or ProcID=).
func transition(rest, prefix string) (id, from, to string, ok bool) {
	if !strings.HasPrefix(rest, prefix) {
		return "", "", "", false
	}
	f := strings.Fields(rest[len(prefix):])
	if len(f) < 2 {
		return "", "", "", false
	}
	from, to, ok = strings.Cut(f[1], "->")
	return f[0], from, to, ok
}

// syscallSite names a stack by its innermost lextrail frame and the
// innermost SQLite or net/http frame.
func syscallSite(frames []string) string {
	var own, lib string
	for _, f := range frames {
		if own == "" && strings.HasPrefix(f, "lextrail/") {
			own = f
		}
		if lib == "" && (strings.Contains(f, "sqlite/lib._") || strings.HasPrefix(f, "net/http.")) {
			lib = f
		}
	}
	switch {
	case own != "" && lib != "":
		return lib + " < " + own
	case own != "" || lib != "":
		return own + lib
	case len(frames) > 0:
		return frames[0]
	}
	return "?"
}

type openSyscall struct {
	g, m, p, site string
	start, held   int64 // held: -1 until another M runs on p
}

type siteStats struct {
	n                int
	total, held, max int64
}

// traceReport reads `go tool trace -d=parsed` output and writes the
// summary.
func traceReport(r io.Reader, w io.Writer) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var (
		first, last               int64 = -1, 0
		slow                      int
		slowDur                   []int64
		stwN, markN, assistN      int
		stw, mark, assist, stwMax int64
		ranges                    = map[string]int64{}
		runnableSince             = map[string]int64{}
		waits                     []int64
		bySyscallG                = map[string]*openSyscall{}
		byP                       = map[string]*openSyscall{}
		sites                     = map[string]*siteStats{}
		pending                   *openSyscall
		frames                    []string
		inStack                   bool
	)
	flush := func() {
		if pending != nil {
			pending.site = syscallSite(frames)
		}
		pending, frames, inStack = nil, frames[:0], false
	}
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "Stack=") {
			inStack = true
			continue
		}
		if strings.HasPrefix(line, "\t") {
			if inStack && pending != nil && !strings.HasPrefix(line, "\t\t") {
				fn, _, _ := strings.Cut(strings.TrimSpace(line), " @ ")
				frames = append(frames, fn)
			}
			continue
		}
		e, ok := parseTraceLine(line)
		if !ok {
			continue
		}
		flush()
		if first < 0 {
			first = e.t
		}
		last = e.t
		if o := byP[e.p]; o != nil && o.m != e.m {
			o.held = e.t - o.start // another thread runs on the P: handed off
			delete(byP, e.p)
		}
		switch e.kind {
		case "Log":
			if strings.Contains(e.rest, `Category="slow"`) {
				slow++
				if i := strings.Index(e.rest, "dur="); i >= 0 {
					d, _ := strconv.ParseInt(strings.Fields(e.rest[i+4:])[0], 10, 64)
					slowDur = append(slowDur, d)
				}
			}
		case "RangeBegin", "RangeEnd":
			name := e.rest
			if i := strings.Index(name, `Name="`); i >= 0 {
				name = name[i+6:]
				name = name[:strings.IndexByte(name, '"')]
			}
			key := name
			if i := strings.Index(e.rest, "Scope="); i >= 0 {
				key += " " + strings.Fields(e.rest[i:])[0]
			}
			if e.kind == "RangeBegin" {
				ranges[key] = e.t
				continue
			}
			b, ok := ranges[key]
			if !ok {
				continue
			}
			delete(ranges, key)
			d := e.t - b
			switch {
			case strings.HasPrefix(name, "stop-the-world"):
				stwN++
				stw += d
				stwMax = max(stwMax, d)
			case name == "GC concurrent mark phase":
				markN++
				mark += d
			case name == "GC mark assist":
				assistN++
				assist += d
			}
		case "StateTransition":
			g, from, to, ok := transition(e.rest, "GoID=")
			if !ok {
				continue
			}
			if from == "Runnable" {
				if s, ok := runnableSince[g]; ok {
					waits = append(waits, e.t-s)
					delete(runnableSince, g)
				}
			}
			if to == "Runnable" {
				runnableSince[g] = e.t
			}
			if from == "Syscall" {
				if o := bySyscallG[g]; o != nil {
					delete(bySyscallG, g)
					if byP[o.p] == o {
						delete(byP, o.p)
					}
					d := e.t - o.start
					if d > int64(time.Millisecond) {
						held := o.held
						if held < 0 {
							held = d
						}
						st := sites[o.site]
						if st == nil {
							st = &siteStats{}
							sites[o.site] = st
						}
						st.n++
						st.total += d
						st.held += held
						st.max = max(st.max, d)
					}
				}
			}
			if to == "Syscall" {
				o := &openSyscall{g: g, m: e.m, p: e.p, start: e.t, held: -1}
				bySyscallG[g] = o
				if e.p != "-1" {
					byP[e.p] = o
				}
				pending = o
			}
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		return err
	}
	if first < 0 {
		return fmt.Errorf("no trace events: feed it the output of go tool trace -d=parsed FILE")
	}
	ms := func(ns int64) string { return (time.Duration(ns)).Round(10 * time.Microsecond).String() }
	span := time.Duration(last - first)
	fmt.Fprintf(w, "trace %v; turns logged slower than %v: %d", span.Round(time.Millisecond), slowTurn, slow)
	if len(slowDur) > 0 {
		sort.Slice(slowDur, func(a, b int) bool { return slowDur[a] < slowDur[b] })
		fmt.Fprintf(w, " (median %s, max %s)", ms(slowDur[len(slowDur)/2]), ms(slowDur[len(slowDur)-1]))
	}
	fmt.Fprintf(w, "\nGC: %d mark phases, %s (%.1f%% of the time); %d stop-the-world pauses, %s in all, max %s; %d mark assists, %s in all\n",
		markN, ms(mark), 100*float64(mark)/float64(span), stwN, ms(stw), ms(stwMax), assistN, ms(assist))
	if len(waits) > 0 {
		sort.Slice(waits, func(a, b int) bool { return waits[a] < waits[b] })
		q := func(p float64) string { return ms(waits[min(len(waits)-1, int(float64(len(waits))*p))]) }
		var over1, over5 int
		for _, d := range waits {
			if d > int64(time.Millisecond) {
				over1++
			}
			if d > int64(5*time.Millisecond) {
				over5++
			}
		}
		fmt.Fprintf(w, "waits for a P (runnable to running): %d, p50 %s p90 %s p99 %s p99.9 %s max %s; > 1ms %d, > 5ms %d\n",
			len(waits), q(.5), q(.9), q(.99), q(.999), ms(waits[len(waits)-1]), over1, over5)
	}
	type row struct {
		site string
		*siteStats
	}
	var rows []row
	for s, st := range sites {
		rows = append(rows, row{s, st})
	}
	sort.Slice(rows, func(a, b int) bool { return rows[a].total > rows[b].total })
	fmt.Fprintf(w, "blocking syscalls over 1ms by site (P held: time the blocked goroutine kept its P):\n")
	for i, r := range rows {
		if i == 10 {
			break
		}
		fmt.Fprintf(w, "  %5d  total %9s  P held %9s  max %8s  %s\n", r.n, ms(r.total), ms(r.held), ms(r.max), r.site)
	}
	return nil
}
