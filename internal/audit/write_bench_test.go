package audit

import (
	"testing"
	"time"

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
// synchronous=NORMAL). ns/op is the amortized cost per event.
func BenchmarkRecordParallel(b *testing.B) {
	db := openSQLite(b)
	r := New(Config{DB: db})
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
	at := time.Unix(1767225600, 0)
	for i := 0; i < b.N; i++ {
		ev := testEvent("111122223333", at)
		if err := db.Write(bg, func(tx *store.Tx) error { return Insert(bg, db, tx, []*Event{ev}) }); err != nil {
			b.Fatal(err)
		}
	}
}
