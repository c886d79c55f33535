package digest

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"lextrail/internal/objstore"
	"lextrail/internal/objstore/localdir"
	"lextrail/internal/policy"
	"lextrail/internal/store"
	"lextrail/internal/trail"
)

// localObjects writes digests to a local-directory store.
type localObjects struct{ st *localdir.Store }

func (l localObjects) Authorize(context.Context, string, string, string, *policy.Principal, map[string][]string) error {
	return nil
}

func (l localObjects) Put(ctx context.Context, bucket, key string, r io.Reader, opts objstore.PutOptions) (objstore.Info, error) {
	return l.st.Put(ctx, bucket, key, r, opts)
}

// BenchmarkDigestHour measures one digest over an hour of 1,000 log
// files: claiming the files, building the JSON, signing (RSA-2048),
// gzip, the Put to the local store and the commit. Reports ms/digest.
//
//	go test ./internal/trail/digest/ -run XXX -bench DigestHour
func BenchmarkDigestHour(b *testing.B) {
	ctx := context.Background()
	db := openDB(b, false)
	st, err := localdir.Open(localdir.Config{Root: filepath.Join(b.TempDir(), "objects")})
	if err != nil {
		b.Fatal(err)
	}
	st.CreateBucket(ctx, "digest-bench")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	keys := NewKeys(KeysConfig{DB: db, Sealer: sealer(b)})
	w := NewWriter(WriterConfig{DB: db, Keys: keys, Objects: localObjects{st}, Interval: time.Hour, Now: func() time.Time { return now }})
	tr := &trail.Trail{ID: uuid.NewString(), AccountID: "111122223333", HomeRegion: "us-east-1", Name: "bench", ARN: trail.ARN("us-east-1", "111122223333", "bench"),
		Settings: trail.Settings{Bucket: "digest-bench", IncludeGlobal: true, Validation: true, Selectors: trail.DefaultSelectors()}}
	if err := db.Write(ctx, func(tx *store.Tx) error {
		if err := trail.Insert(ctx, tx, tr); err != nil {
			return err
		}
		return trail.StartLogging(ctx, tx, tr, now.UnixMilli())
	}); err != nil {
		b.Fatal(err)
	}
	if ok, err := trail.AcquireLease(ctx, db, tr.ID, "bench", 1, 1<<62); !ok || err != nil {
		b.Fatal("lease", err)
	}
	tr, _ = trail.Reload(ctx, db, tr.ID)
	// An hour's files for each iteration.
	addHour := func(h int) {
		err := db.Write(ctx, func(tx *store.Tx) error {
			for i := 0; i < 1000; i++ {
				key := trail.LogKey("", tr.AccountID, "us-east-1", now, trail.Unique(tr.ID, tr.AccountID, "us-east-1", int64(h*1000+i), 0))
				if _, err := tx.Exec(ctx, `INSERT INTO trail_files (trail_id, bucket, object_key, region, batch_no, events, hash, oldest_ms, newest_ms, delivered_ms, notified, digest_epoch_ms)
 VALUES ($1, 'digest-bench', $2, 'us-east-1', $3, 100, $4, $5, $5, $5, TRUE, $6)`, tr.ID, key, int64(h*1000+i), fmt.Sprintf("%064x", i), now.UnixMilli(), tr.DigestEpochMs); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if _, err := keys.Signing(ctx, "us-east-1", now.Add(time.Hour)); err != nil { // key generation is not part of a digest
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		addHour(i)
		now = now.Add(time.Hour)
		b.StartTimer()
		if _, err := w.Step(ctx, tr, "bench", true); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	chains, _ := trail.Chains(ctx, db, tr.ID)
	if c := chains["us-east-1"]; c == nil || c.LastEndMs != now.UnixMilli() {
		b.Fatalf("chain %+v", c)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/digest")
}
