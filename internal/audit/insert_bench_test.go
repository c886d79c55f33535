package audit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"lextrail/internal/store"
)

func BenchmarkInsertBatch(b *testing.B) {
	for _, n := range []int{1, 32} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ctx := context.Background()
			db, err := store.Open(ctx, store.Config{URL: filepath.Join(b.TempDir(), "x.db")})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if os.Getenv("DROPIDX") != "" {
				for _, ix := range strings.Split(os.Getenv("DROPIDX"), ",") {
					if err := db.Write(ctx, func(tx *store.Tx) error { _, err := tx.Exec(ctx, "DROP INDEX "+ix); return err }); err != nil {
						b.Fatal(err)
					}
				}
			}
			ev := sampleEvent()
			b.ResetTimer()
			for i := 0; i < b.N; i += n {
				evs := make([]*Event, n)
				for j := range evs {
					e := *ev
					e.EventID = newEventID()
					if os.Getenv("TINY") != "" {
						e.Record = []byte("x")
					}
					evs[j] = &e
				}
				if err := db.Write(ctx, func(tx *store.Tx) error { return Insert(ctx, tx, evs) }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
