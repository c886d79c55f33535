package convlogs

import (
	"testing"

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
