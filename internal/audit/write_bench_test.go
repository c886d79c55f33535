package audit

import (
	"testing"
	"time"

	"lextrail/internal/store"
)

// The write path over HTTP is measured with the load generator, which
// starts the default server (SQLite, WAL, synchronous=NORMAL) in process:
//
//	go build -o /tmp/lload ./cmd/lextrail-load
//	/tmp/lload -duration 6s -audit=false                 # GetCallerIdentity, no auditor
//	/tmp/lload -duration 6s                              # GetCallerIdentity, audited (group committer)
//	/tmp/lload -duration 6s -op PutSlotType -audit=false # mutating, no auditor
//	/tmp/lload -duration 6s -op PutSlotType              # mutating, event in the call's transaction
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
