package convlogs

import (
	"context"
	"encoding/base64"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"

	"lextrail/internal/store"
	"lextrail/internal/store/pgtest"
)

// TestMigrationQueueSeq: rows queued before migration 1010 (text id
// primary key, base64-of-S2 bodies) survive it with a seq each, are found
// due and taken (deleted and returned) by the worker, and a new row queues
// after them.
func TestMigrationQueueSeq(t *testing.T) {
	ctx := context.Background()
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			url := "sqlite://" + filepath.Join(t.TempDir(), "q.db")
			if driver == "postgres" {
				url = pgtest.Start(t)
			}
			old, err := store.Open(ctx, store.Config{URL: url, MigrationsBefore: "1010_"})
			if err != nil {
				t.Fatal(err)
			}
			legacy := base64.StdEncoding.EncodeToString(s2.Encode(nil, []byte("1764616801123\t{\"a\":1}\n1764616801124\t{\"b\":2}\n")))
			err = old.Write(ctx, func(tx *store.Tx) error {
				if _, err := tx.Exec(ctx, destQuery, "g1", kindText, "123456789012", "us-east-1", "Shop", "prod", "arn:aws:iam::1:role/r", "src",
					"arn:aws:logs:us-east-1:1:log-group:lex", "aws/lex/Shop/prod/1/", ""); err != nil {
					return err
				}
				for i, id := range []string{"1764616801123/req-1/text", "1764616801125/req-3/text"} {
					if _, err := tx.Exec(ctx, `INSERT INTO convlogs_queue (id, kind, group_key, body, docs, turn_ms, enqueued_ms, next_ms)
						VALUES ($1, 'text', 'g1', $2, $3, $4, $4, $4)`, id, legacy, 2-i, int64(1764616801123+2*i)); err != nil {
						return err
					}
				}
				return nil
			})
			old.Close()
			if err != nil {
				t.Fatal(err)
			}
			db, err := store.Open(ctx, store.Config{URL: url})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			now := time.UnixMilli(1764616802000)
			s, err := New(ctx, Config{DB: db, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			// A turn queued after the migration.
			p := &prepared{reqID: "req-9", turnMS: 1764616801900, text: &entry{d: &dest{group: "g1"}}}
			if err := db.Write(ctx, func(tx *store.Tx) error {
				return s.insertRow(ctx, tx, p, kindText, p.text, encodeDocs([]textDoc{{1764616801900, `{"c":3}`}}), 1, store.Millis(now))
			}); err != nil {
				t.Fatal(err)
			}
			w := s.Worker()
			rows, more, err := w.due(ctx, now)
			if err != nil || more || len(rows) != 3 {
				t.Fatalf("due: %d rows, more %v, %v", len(rows), more, err)
			}
			seen := map[int64]bool{}
			for _, r := range rows {
				if r.seq <= 0 || seen[r.seq] || r.d == nil || r.d.prefix != "aws/lex/Shop/prod/1/" {
					t.Fatalf("due rows %+v", rows)
				}
				seen[r.seq] = true
			}
			var msgs []string
			if err := db.Write(ctx, func(tx *store.Tx) error {
				mine, err := w.take(ctx, tx, rows, now)
				if err != nil {
					return err
				}
				for _, r := range mine {
					evs, err := decodeDocs(r.body)
					if err != nil {
						return err
					}
					for _, e := range evs {
						msgs = append(msgs, e.Message)
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(msgs) != 5 {
				t.Errorf("taken documents %q, want 5 (2+2 legacy, 1 new)", msgs)
			}
			if rows, _, err := w.due(ctx, now); err != nil || len(rows) != 0 {
				t.Errorf("after take: %d rows due, %v", len(rows), err)
			}
		})
	}
}
