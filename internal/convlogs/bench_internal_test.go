package convlogs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"lextrail/internal/services/lexruntime"
	"lextrail/internal/store"
	"lextrail/internal/testenv/cputime"
)

// BenchmarkDocument: building and rendering one turn's text document.
func BenchmarkDocument(b *testing.B) {
	tr := turn()
	b.ReportAllocs()
	b.ResetTimer()
	defer cputime.Report(b)()
	for i := 0; i < b.N; i++ {
		_ = NewDocument(tr, "").Marshal()
	}
}

// BenchmarkPrepareTurn: a logged turn's work on the request's goroutine.
func BenchmarkPrepareTurn(b *testing.B) {
	s := newTestService(b, Config{})
	tr := turn()
	b.ReportAllocs()
	b.ResetTimer()
	defer cputime.Report(b)()
	for i := 0; i < b.N; i++ {
		_ = s.PrepareTurn(tr)
	}
}

// wchar is the bytes this process has written (/proc/self/io), 0 when
// unknown.
func wchar() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "wchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkQueueTurns: logged turns queued three to a commit (as the
// runtime's group commit does under load) on SQLite and delivered from
// memory every 64 commits (a fake log group): the CPU and the bytes
// written (WAL, checkpoints) per turn.
func BenchmarkQueueTurns(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{URL: "sqlite://" + filepath.Join(b.TempDir(), "q.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	s, err := New(ctx, Config{DB: db})
	if err != nil {
		b.Fatal(err)
	}
	s.Bind(Deps{Sessions: fakeSessions{}, Logs: &fakeLogs{}})
	w := s.Worker()
	trs := make([]*lexruntime.Turn, 3)
	for i := range trs {
		trs[i] = turn()
		trs[i].RequestID = fmt.Sprintf("5f0c3e2a-9b1d-4c5e-8f7a-%012d", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	defer cputime.Report(b)()
	w0 := wchar()
	for i, commits := 0, 0; i < b.N; commits++ {
		ws := make([]lexruntime.TurnWrite, 0, 3)
		for k := 0; k < 3 && i < b.N; k, i = k+1, i+1 {
			trs[k].Timestamp = time.Now()
			ws = append(ws, s.PrepareTurn(trs[k]))
		}
		if err := db.Write(ctx, func(tx *store.Tx) error { return s.WriteTurns(ctx, tx, ws) }); err != nil {
			b.Fatal(err)
		}
		if commits%64 == 63 {
			if _, err := w.RunOnce(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := w.RunOnce(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(wchar()-w0)/float64(b.N), "written-B/op")
}
