package localdir

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"lextrail/internal/objstore"
	"lextrail/internal/testenv/cputime"
)

// BenchmarkPut1MB: the driver alone (no HTTP, no SigV4): 1 MiB objects
// over 64 keys, serial and with 8 writers, fsync on and off.
func BenchmarkPut1MB(b *testing.B) {
	data := bytes.Repeat([]byte("x"), 1<<20)
	for _, sync := range []bool{true, false} {
		for _, par := range []int{1, 8} {
			b.Run(fmt.Sprintf("sync=%v/par=%d", sync, par), func(b *testing.B) {
				s, err := Open(Config{Root: b.TempDir(), NoSync: !sync})
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				if err := s.CreateBucket(ctx, "bench"); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(data)))
				var i atomic.Int64
				b.SetParallelism(par)
				defer cputime.Report(b)()
				if par == 1 {
					for b.Loop() {
						if _, err := s.Put(ctx, "bench", fmt.Sprint("k", i.Add(1)%64), bytes.NewReader(data), objstore.PutOptions{}); err != nil {
							b.Fatal(err)
						}
					}
					return
				}
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := s.Put(ctx, "bench", fmt.Sprint("k", i.Add(1)%64), bytes.NewReader(data), objstore.PutOptions{}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
