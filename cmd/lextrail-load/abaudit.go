package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"lextrail/internal/audit"
	"lextrail/internal/server"
)

// RunABAudit alternates rounds of o.Op on the in-process server srv with
// its gateway without and with the audit trail, each slice
// -duration/(2·rounds) long (fresh IAM user names per slice), every call
// counted. After each audited slice it has the events the slice wrote
// indexed (the indexer runs in the background as in production) and waits
// for that; after every slice it checkpoints the WAL the slice wrote; each
// slice is charged that CPU and time (settle), so that neither pays for
// the other's work. Interleaving cancels most of the drift of a shared
// machine; the per-round ratios show what is left of it.
func RunABAudit(srv *server.Server, o Options, rounds int) (string, error) {
	slice := o.Duration / time.Duration(2*rounds)
	var off, on Result
	add := func(dst *Result, r Result) {
		dst.Requests += r.Requests
		dst.Errors += r.Errors
		dst.Elapsed += r.Elapsed
		dst.CPU += r.CPU
		if dst.FirstError == "" {
			dst.FirstError = r.FirstError
		}
	}
	var drain time.Duration
	var ratios []float64 // each round's audited throughput over its unaudited one
	ctx := context.Background()
	for i := 0; i < rounds; i++ {
		so := o
		so.Duration, so.Warmup = slice, 0
		if i == 0 {
			so.Warmup = o.Warmup
		}
		// No request is in flight between slices: the gateway is switched
		// while the server is idle.
		srv.Gateway = unauditedGateway
		so.UserPrefix = fmt.Sprintf("off%d", i)
		r, err := Run(so)
		if err != nil {
			return "", err
		}
		if err := settle(&r, func() error { return srv.DB.Checkpoint(ctx) }); err != nil {
			return "", err
		}
		add(&off, r)
		offRound := r
		srv.Gateway = auditedGateway
		so.UserPrefix = fmt.Sprintf("on%d", i)
		if r, err = Run(so); err != nil {
			return "", err
		}
		t0 := time.Now()
		err = settle(&r, func() error {
			srv.Audit.IndexNow()
			for {
				n, err := audit.Pending(ctx, srv.DB)
				if err != nil {
					return err
				}
				if n == 0 || time.Since(t0) > time.Minute {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			drain += time.Since(t0)
			return srv.DB.Checkpoint(ctx)
		})
		if err != nil {
			return "", err
		}
		ratios = append(ratios, perSecond(r)/perSecond(offRound))
		add(&on, r)
	}
	return fmt.Sprintf("%s A/B, %d rounds of %v + %v, %d connections\n"+
		"unaudited: %d calls, %.0f calls/s, CPU %v per call, errors %d\n"+
		"audited:   %d calls, %.0f calls/s, CPU %v per call (indexing included; %v waited for it), errors %d\n"+
		"audit cost: CPU per call +%v (+%.1f%%); throughput %.1f%% of unaudited\n"+
		"per round: %s\n",
		o.Op, rounds, slice, slice, o.Connections,
		off.Requests, perSecond(off), cpuPer(off).Round(100*time.Nanosecond), off.Errors,
		on.Requests, perSecond(on), cpuPer(on).Round(100*time.Nanosecond), drain.Round(time.Millisecond), on.Errors,
		(cpuPer(on) - cpuPer(off)).Round(100*time.Nanosecond), 100*(float64(cpuPer(on))/float64(cpuPer(off))-1), 100*perSecond(on)/perSecond(off), spread(ratios)), nil
}

// spread describes per-round throughput ratios: their median and range,
// in percent.
func spread(ratios []float64) string {
	if len(ratios) == 0 {
		return "none"
	}
	r := slices.Clone(ratios)
	slices.Sort(r)
	med := r[len(r)/2]
	if len(r)%2 == 0 {
		med = (r[len(r)/2-1] + r[len(r)/2]) / 2
	}
	return fmt.Sprintf("median %.1f%%, %.1f%% to %.1f%% over %d rounds", 100*med, 100*r[0], 100*r[len(r)-1], len(r))
}

// settle runs fn, the work a round leaves behind (indexing its events,
// copying its WAL into the database file), and charges its CPU and time
// to the round's r.
func settle(r *Result, fn func() error) error {
	cpu0, t0 := processCPU(), time.Now()
	err := fn()
	r.CPU += processCPU() - cpu0
	r.Elapsed += time.Since(t0)
	return err
}

// perSecond is r's rate of requests.
func perSecond(r Result) float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// cpuPer is r's process CPU per request (zero for no requests).
func cpuPer(r Result) time.Duration {
	if r.Requests == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Requests)
}
