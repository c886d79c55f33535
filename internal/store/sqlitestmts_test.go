package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"lextrail/internal/store"
)

// TestSQLiteStatementCache: compiled statements are reused safely — by a
// nested use of the same text while its rows are open, after an error,
// beyond the per-connection cap, and after a schema change.
func TestSQLiteStatementCache(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t, "sqlite://"+filepath.Join(t.TempDir(), "cache.db"))
	write := func(fn func(tx *store.Tx) error) {
		t.Helper()
		if err := db.Write(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	write(func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `CREATE TABLE sc (n BIGINT PRIMARY KEY, s TEXT NOT NULL)`)
		return err
	})
	const ins = `INSERT INTO sc (n, s) VALUES ($1, $2)`
	for i := 0; i < 200; i++ {
		write(func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, ins, i, fmt.Sprint("v", i))
			return err
		})
	}
	// A failing execution leaves the statement usable.
	if err := db.Write(ctx, func(tx *store.Tx) error { _, err := tx.Exec(ctx, ins, 7, "dup"); return err }); !store.IsUniqueViolation(err) {
		t.Fatalf("duplicate: %v", err)
	}
	write(func(tx *store.Tx) error { _, err := tx.Exec(ctx, ins, 200, "v200"); return err })

	// Nested use of one query text while its rows are open.
	const sel = `SELECT n, s FROM sc WHERE n < $1 ORDER BY n`
	if err := db.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, sel, 5)
		if err != nil {
			return err
		}
		defer rows.Close()
		i := 0
		for rows.Next() {
			var n int
			var s string
			if err := rows.Scan(&n, &s); err != nil {
				return err
			}
			inner, err := tx.Query(ctx, sel, 3)
			if err != nil {
				return err
			}
			m := 0
			for inner.Next() {
				m++
			}
			inner.Close()
			if n != i || s != fmt.Sprint("v", i) || m != 3 {
				return fmt.Errorf("row %d: n=%d s=%q inner=%d", i, n, s, m)
			}
			i++
		}
		if i != 5 {
			return fmt.Errorf("%d outer rows", i)
		}
		return rows.Err()
	}); err != nil {
		t.Fatal(err)
	}

	// More distinct texts than a connection caches.
	if err := db.Read(ctx, func(tx *store.Tx) error {
		for i := 0; i < 600; i++ {
			var s string
			if err := tx.QueryRow(ctx, fmt.Sprintf(`SELECT s FROM sc WHERE n = $1 AND %d = %d`, i, i), i%200).Scan(&s); err != nil {
				return err
			}
			if s != fmt.Sprint("v", i%200) {
				return fmt.Errorf("query %d: %q", i, s)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// A schema change recompiles a cached SELECT *.
	cols := func() int {
		var n int
		if err := db.Write(ctx, func(tx *store.Tx) error {
			rows, err := tx.Query(ctx, `SELECT * FROM sc WHERE n = 1`)
			if err != nil {
				return err
			}
			defer rows.Close()
			c, err := rows.Columns()
			n = len(c)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := cols(); n != 2 {
		t.Fatalf("%d columns", n)
	}
	write(func(tx *store.Tx) error { _, err := tx.Exec(ctx, `ALTER TABLE sc ADD COLUMN extra TEXT`); return err })
	if n := cols(); n != 3 {
		t.Fatalf("after ALTER TABLE: %d columns", n)
	}
	var count int
	if err := db.Read(ctx, func(tx *store.Tx) error { return tx.QueryRow(ctx, `SELECT COUNT(*) FROM sc`).Scan(&count) }); err != nil || count != 201 {
		t.Fatalf("count %d %v", count, err)
	}
}
