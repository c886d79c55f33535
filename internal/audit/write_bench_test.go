package audit

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"lextrail/internal/catalog"
	"lextrail/internal/store"
)

// The write path over HTTP is measured with the load generator, which
// starts the default server (SQLite, WAL, synchronous=NORMAL, group
// commit) in process:
//
//	go build -o /tmp/lload ./cmd/lextrail-load
//	/tmp/lload -duration 6s -audit=false                      # GetCallerIdentity, no auditor
//	/tmp/lload -duration 6s                                   # GetCallerIdentity, audited (group committer)
//	/tmp/lload -duration 6s -op CreateDeleteUser -audit=false # IAM writes, no auditor
//	/tmp/lload -duration 6s -op CreateDeleteUser              # IAM writes, event in the call's transaction
//	/tmp/lload -duration 6s -op PutSlotType                   # Lex writes (also -op PutIntent)
//
// Measured 2026-12-01 at load average 3-8 (other builds on the 2 cores;
// the benchmark's scheduling group raised with /proc/self/autogroup):
// CreateDeleteUser 2,015-2,700/s audited vs 7,250-7,700/s not;
// PutSlotType 1,900 vs 3,520; PutIntent 1,740 vs 3,250;
// GetCallerIdentity 5,800 vs 23,300. Audited writes use ~0.9 of the 2
// cores: they are bound by the single SQLite writer's serial section, of
// which the audit takes (profile of audited PutSlotType) the event row
// with its 8 index entries and 3 attribute
// rows, about as much as the handler's own writes, plus their pages in
// the commit.
//
// The benchmarks below isolate the storage costs.

// BenchmarkRecordParallel measures the group committer: many goroutines
// each recording one event and waiting until it is durable (SQLite, WAL,
// synchronous=NORMAL), with the default BatchWait and without waiting
// (nowait). ns/op is the amortized cost per event; events/commit the
// average batch.
func BenchmarkRecordParallel(b *testing.B) {
	b.Run("wait", func(b *testing.B) { benchRecordParallel(b, 0) })
	b.Run("nowait", func(b *testing.B) { benchRecordParallel(b, -1) })
}

func benchRecordParallel(b *testing.B, wait time.Duration) {
	db := openSQLite(b)
	defer cpuPerOp(b)()
	r := New(Config{DB: db, BatchWait: wait})
	c0 := commits.Load()
	defer func() { b.ReportMetric(float64(b.N)/float64(max(commits.Load()-c0, 1)), "events/commit") }()
	defer r.Close()
	at := time.Unix(1767225600, 0)
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := r.Record(bg, testEvent("111122223333", at)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkInsertBatch measures Insert alone: one transaction per batch of
// 64 events on SQLite. ns/op is per event.
func BenchmarkInsertBatch(b *testing.B) {
	db := openSQLite(b)
	defer cpuPerOp(b)()
	at := time.Unix(1767225600, 0)
	const size = 64
	evs := make([]*Event, size)
	b.ResetTimer()
	for done := 0; done < b.N; done += size {
		b.StopTimer()
		for i := range evs {
			evs[i] = testEvent("111122223333", at)
		}
		b.StartTimer()
		if err := db.Write(bg, func(tx *store.Tx) error { return Insert(bg, db, tx, evs) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInsertOne measures Insert of a single event in its own write
// transaction, as a mutating call does (SQLite).
func BenchmarkInsertOne(b *testing.B) {
	db := openSQLite(b)
	defer cpuPerOp(b)()
	at := time.Unix(1767225600, 0)
	for i := 0; i < b.N; i++ {
		ev := testEvent("111122223333", at)
		if err := db.Write(bg, func(tx *store.Tx) error { return Insert(bg, db, tx, []*Event{ev}) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIndexPending measures the indexer: events written 32 per
// transaction (as the group committer does), then indexed in batches of
// 256 (the Recorder's batch at ~2,500 events/s and IndexDelay 100ms) to
// 16384. ns/op and cpu-ns/op are per event indexed.
func BenchmarkIndexPending(b *testing.B) {
	for _, index := range []int{256, 1024, 4096, 16384} {
		b.Run(fmt.Sprint(index), func(b *testing.B) { benchIndexPending(b, index, false) })
	}
	// Every event names a resource of its own (CreateUser of distinct
	// users): its entries land on scattered index pages.
	for _, index := range []int{256, 1024} {
		b.Run(fmt.Sprint(index, "-distinct"), func(b *testing.B) { benchIndexPending(b, index, true) })
	}
}

func benchIndexPending(b *testing.B, index int, distinct bool) {
	db := openSQLite(b)
	var cpu time.Duration
	at := time.Unix(1767225600, 0)
	const write = 32
	for done := 0; done < b.N; {
		evs := make([]*Event, 0, index)
		for len(evs) < index && done < b.N {
			ev := testEvent("111122223333", at)
			if distinct {
				ev.Resources = []catalog.Resource{{ARN: fmt.Sprintf("arn:aws:iam::111122223333:user/load-%d-%d", done%32, done/32), Type: "AWS::IAM::User"}}
			}
			evs = append(evs, ev)
			done++
		}
		b.StopTimer()
		for i := 0; i < len(evs); i += write {
			if err := db.Write(bg, func(tx *store.Tx) error { return Insert(bg, db, tx, evs[i:min(i+write, len(evs))]) }); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		c0 := processCPU()
		if err := db.Write(bg, func(tx *store.Tx) error { _, err := IndexPending(bg, db, tx, 0); return err }); err != nil {
			b.Fatal(err)
		}
		cpu += processCPU() - c0
	}
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
}

// cpuPerOp reports the process CPU time (user and system, all threads)
// per op from now until the returned func runs: on a shared machine it
// varies less than ns/op.
func cpuPerOp(b *testing.B) func() {
	start := processCPU()
	return func() { b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op") }
}

// processCPU is the process's CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
