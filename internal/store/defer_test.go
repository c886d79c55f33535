package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"lextrail/internal/store"
	"lextrail/internal/store/pgtest"
)

// TestDefer (both drivers): items queued with Tx.Defer are written by the
// Deferred's Flush just before their transaction commits, atomically with
// it: a call whose fn fails has neither its own rows nor its items, a
// failing Flush rolls its transaction back and fails the call (on SQLite
// every call of the batch), and AfterCommit functions Flush registers
// run after the commit. Concurrent calls on SQLite share flushes.
func TestDefer(t *testing.T) {
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			url := "sqlite://" + filepath.Join(t.TempDir(), "lextrail.db")
			if driver == "postgres" {
				url = pgtest.Start(t)
			}
			ctx := context.Background()
			db, err := store.Open(ctx, store.Config{URL: url})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Write(ctx, func(tx *store.Tx) error {
				_, err := tx.Exec(ctx, `CREATE TABLE defer_test (k TEXT PRIMARY KEY)`)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			var flushes, flushed, after atomic.Int64
			d := &store.Deferred{Flush: func(ctx context.Context, tx *store.Tx, items []any) error {
				flushes.Add(1)
				for _, it := range items {
					if it == "bad" {
						return errors.New("bad item")
					}
					if _, err := tx.Exec(ctx, `INSERT INTO defer_test (k) VALUES ($1)`, it); err != nil {
						return err
					}
					flushed.Add(1)
				}
				tx.AfterCommit(func() { after.Add(int64(len(items))) })
				return nil
			}}
			const calls = 40
			var wg sync.WaitGroup
			errs := make([]error, calls)
			for i := 0; i < calls; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = db.Write(ctx, func(tx *store.Tx) error {
						if _, err := tx.Exec(ctx, `INSERT INTO defer_test (k) VALUES ($1)`, fmt.Sprint("state-", i)); err != nil {
							return err
						}
						tx.Defer(d, fmt.Sprint("item-", i))
						if i%7 == 3 {
							return errors.New("call fails")
						}
						return nil
					})
				}()
			}
			wg.Wait()
			has := func(k string) bool {
				var n int
				db.Read(ctx, func(tx *store.Tx) error {
					return tx.QueryRow(ctx, `SELECT COUNT(*) FROM defer_test WHERE k = $1`, k).Scan(&n)
				})
				return n == 1
			}
			ok := 0
			for i, err := range errs {
				fails := i%7 == 3
				if (err != nil) != fails {
					t.Errorf("call %d: %v", i, err)
				}
				if has(fmt.Sprint("state-", i)) == fails || has(fmt.Sprint("item-", i)) == fails {
					t.Errorf("call %d (fails %v): state %v, item %v", i, fails, has(fmt.Sprint("state-", i)), has(fmt.Sprint("item-", i)))
				}
				if !fails {
					ok++
				}
			}
			if flushed.Load() != int64(ok) || after.Load() != int64(ok) {
				t.Errorf("%d items flushed, %d seen after commit; want %d", flushed.Load(), after.Load(), ok)
			}
			t.Logf("%d calls' items in %d flushes", ok, flushes.Load())

			// A failing flush: the call fails, nothing of it is committed.
			err = db.Write(ctx, func(tx *store.Tx) error {
				if _, err := tx.Exec(ctx, `INSERT INTO defer_test (k) VALUES ('state-bad')`); err != nil {
					return err
				}
				tx.Defer(d, "bad")
				return nil
			})
			if err == nil || has("state-bad") {
				t.Errorf("failing flush: %v, state committed %v", err, has("state-bad"))
			}
			// The database goes on working.
			if err := db.Write(ctx, func(tx *store.Tx) error { tx.Defer(d, "item-last"); return nil }); err != nil || !has("item-last") {
				t.Errorf("after a failed flush: %v", err)
			}
		})
	}
}
