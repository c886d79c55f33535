package lexmodels

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"lextrail/internal/store"
)

// BenchmarkListLatest10k measures listLatest alone over 10,000 bots
// (SQLite): a page after a token, and a nameContains scan matching a few.
// A write commits between calls, as the audit event of the previous call
// does in the server: it discards the read connections' page caches (WAL
// mode), so every call reads its pages again. cpu-ns/op is the process's
// CPU time per call.
func BenchmarkListLatest10k(b *testing.B) {
	db := openTestDB(b, TestDrivers[0])
	ctx := context.Background()
	sc := scope{"111122223333", "us-east-1"}
	fillBots(b, db, sc, 10000)
	s := New(Config{DB: db})
	for _, tc := range []struct {
		name string
		in   func(i int) *ListInput
	}{
		{"page", func(i int) *ListInput {
			tok := encodeToken(benchBotName(i * 50 % 9900))
			return &ListInput{MaxResults: ptr(50), NextToken: tok}
		}},
		{"nameContains", func(int) *ListInput { return &ListInput{MaxResults: ptr(50), NameContains: ptr("zz")} }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c0 := benchCPU()
			for i := 0; i < b.N; i++ {
				if err := db.Write(ctx, func(tx *store.Tx) error {
					_, err := tx.Exec(ctx, `UPDATE audit_counter SET n = n WHERE id = 1`)
					return err
				}); err != nil {
					b.Fatal(err)
				}
				err := db.Read(ctx, func(tx *store.Tx) error {
					out, _, err := s.listLatest(ctx, tx, sc, kindBot, tc.in(i))
					if err == nil && len(out) == 0 {
						err = fmt.Errorf("empty page")
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(benchCPU()-c0)/float64(b.N), "cpu-ns/op")
		})
	}
}

func benchBotName(i int) string {
	b := []byte{}
	for n := i; ; n /= 26 {
		b = append(b, byte('a'+n%26))
		if n < 26 {
			break
		}
	}
	return "Bot" + string(b)
}

func fillBots(tb testing.TB, db *store.DB, sc scope, n int) {
	ctx := context.Background()
	now := store.Millis(time.Now())
	err := db.Write(ctx, func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			name := benchBotName(i)
			if _, err := tx.Exec(ctx, `INSERT INTO lex_resources (account_id, region, kind, name, version, version_num, name_lower, checksum, description, doc, content_hash, status, created_ms, updated_ms)
				VALUES ($1,$2,'bot',$3,'$LATEST',0,lower($3),'ck','A bot for the benchmark', '{"locale":"en-US","idleSessionTTLInSeconds":300,"intents":[]}','h','NOT_BUILT',$4,$4)`, sc.acct, sc.region, name, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func benchCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ptr[T any](v T) *T { return &v }
