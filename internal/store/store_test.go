package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"lextrail/internal/store"
	"lextrail/internal/store/pgtest"
	"lextrail/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// opener returns a storetest open func for one database URL.
func opener(url string) func(t *testing.T) *store.DB {
	return func(t *testing.T) *store.DB {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		db, err := store.Open(ctx, store.Config{URL: url})
		if err != nil {
			t.Errorf("Open(%s): %v", url, err)
			return nil
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, opener("sqlite://"+filepath.Join(t.TempDir(), "lextrail.db")))
}

func TestPostgres(t *testing.T) {
	start := time.Now()
	url := pgtest.Start(t)
	t.Logf("PostgreSQL %s cluster + database ready in %v", pgtest.Version(), time.Since(start).Round(time.Millisecond))
	storetest.Run(t, opener(url))
}

// TestPostgresSmallPool: migrating holds the advisory lock on one
// connection and must not need a second one from the pool.
func TestPostgresSmallPool(t *testing.T) {
	url := pgtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range 2 { // fresh database, then already migrated
		db, err := store.Open(ctx, store.Config{URL: url, MaxReadConns: 1})
		if err != nil {
			t.Fatalf("Open %d with a one-connection pool: %v", i, err)
		}
		if err := db.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
}

func openSQLite(t testing.TB, url string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.Config{URL: url})
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestSQLitePragmas checks that the DSN settings really take effect on the
// write connection and on read-pool connections with modernc.org/sqlite.
func TestSQLitePragmas(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{URL: filepath.Join(t.TempDir(), "p.db"), BusyTimeout: 1234 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pragma := func(tx *store.Tx, name string) string {
		t.Helper()
		var v string
		if err := tx.QueryRow(ctx, "PRAGMA "+name).Scan(&v); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return v
	}
	want := map[string]string{"journal_mode": "wal", "busy_timeout": "1234", "foreign_keys": "1", "synchronous": "1", "query_only": "0", "temp_store": "2", "mmap_size": "0"}
	if err := db.Write(ctx, func(tx *store.Tx) error {
		for k, v := range want {
			if got := pragma(tx, k); got != v {
				t.Errorf("write conn: PRAGMA %s = %s, want %s", k, got, v)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Read connections are not memory-mapped, scan connections are.
	for _, pool := range []struct {
		name string
		run  func(context.Context, func(*store.Tx) error) error
		mmap string
	}{{"read", db.Read, "0"}, {"scan", db.Scan, fmt.Sprint(store.DefaultMmapSize)}} {
		want = map[string]string{"journal_mode": "wal", "busy_timeout": "1234", "foreign_keys": "1", "query_only": "1", "temp_store": "2", "mmap_size": pool.mmap}
		// Several concurrent reads so more than one pool connection is checked.
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if err := pool.run(ctx, func(tx *store.Tx) error {
					for k, v := range want {
						if got := pragma(tx, k); got != v {
							t.Errorf("%s conn: PRAGMA %s = %s, want %s", pool.name, k, got, v)
						}
					}
					time.Sleep(20 * time.Millisecond)
					return nil
				}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
}

// rawConn opens a plain modernc connection to path with no busy timeout.
func rawConn(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	t.Cleanup(func() { raw.Close() })
	return raw
}

func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return -1
}

// TestSQLiteMmapDisabled: a negative MmapSize leaves scans unmapped.
func TestSQLiteMmapDisabled(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{URL: filepath.Join(t.TempDir(), "p.db"), MmapSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int64
	if err := db.Scan(ctx, func(tx *store.Tx) error { return tx.QueryRow(ctx, "PRAGMA mmap_size").Scan(&v) }); err != nil {
		t.Fatal(err)
	}
	if v != 0 {
		t.Fatalf("mmap_size = %d, want 0", v)
	}
}

// TestSQLiteBeginImmediate checks that _txlock=immediate is honoured: a
// Write tx holds the RESERVED lock from BEGIN, before it has written, so a
// second writer cannot start.
func TestSQLiteBeginImmediate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "imm.db")
	db := openSQLite(t, path)
	raw := rawConn(t, path)
	probe := func() error {
		tx, err := raw.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		_, err = tx.ExecContext(ctx, `INSERT INTO accounts (account_id, created_ms) VALUES ('123456789012', 1)`)
		return err
	}
	if err := db.Write(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n); err != nil {
			return err
		}
		// Only read so far: with a deferred BEGIN, the probe would succeed.
		err := probe()
		if err == nil {
			return errors.New("another connection wrote while a Write tx was open: BEGIN was not IMMEDIATE")
		}
		if c := sqliteCode(err) & 0xff; c != sqlite3.SQLITE_BUSY {
			return fmt.Errorf("probe: want SQLITE_BUSY, got %v (code %d)", err, sqliteCode(err))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := probe(); err != nil {
		t.Fatalf("probe after the Write tx: %v", err)
	}
	// Read txs are not IMMEDIATE: a writer proceeds while one is open.
	if err := db.Read(ctx, func(tx *store.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n); err != nil {
			return err
		}
		return db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO accounts (account_id, created_ms) VALUES ('210987654321', 1)`)
			return err
		})
	}); err != nil {
		t.Fatal(err)
	}
}

// TestSQLiteTwoHandles runs read-then-write increments through two store
// handles on one file (as two processes would): BEGIN IMMEDIATE plus
// busy_timeout make them queue instead of failing with SQLITE_BUSY, and no
// increment is lost.
func TestSQLiteTwoHandles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "two.db")
	dbs := []*store.DB{openSQLite(t, path), openSQLite(t, path)}
	if err := dbs[0].Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO accounts (account_id, alias, created_ms) VALUES ('c', '', 0)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	const workers, iters = 4, 50
	var wg sync.WaitGroup
	for w := range workers {
		db := dbs[w%2]
		wg.Go(func() {
			for range iters {
				err := db.Write(ctx, func(tx *store.Tx) error {
					var n int64
					if err := tx.QueryRow(ctx, `SELECT created_ms FROM accounts WHERE account_id = 'c'`).Scan(&n); err != nil {
						return err
					}
					_, err := tx.Exec(ctx, `UPDATE accounts SET created_ms = $1 WHERE account_id = 'c'`, n+1)
					return err
				})
				if err != nil {
					t.Errorf("Write: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	var n int64
	if err := dbs[1].Read(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `SELECT created_ms FROM accounts WHERE account_id = 'c'`).Scan(&n)
	}); err != nil {
		t.Fatal(err)
	}
	if n != workers*iters {
		t.Fatalf("counter = %d, want %d", n, workers*iters)
	}
}

func TestSQLiteURLForms(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	for _, u := range []string{
		"sqlite://" + filepath.Join(dir, "a.db"),
		filepath.Join(dir, "b.db"),
		"file:" + filepath.Join(dir, "c.db") + "?ignored=1",
		"sqlite://" + filepath.Join(dir, "sub dir", "d #1 100%.db"),
	} {
		db, err := store.Open(ctx, store.Config{URL: u})
		if err != nil {
			t.Errorf("Open(%q): %v", u, err)
			continue
		}
		if err := db.Ping(ctx); err != nil {
			t.Errorf("Ping(%q): %v", u, err)
		}
		db.Close()
	}
	if _, err := os.Stat(filepath.Join(dir, "sub dir", "d #1 100%.db")); err != nil {
		t.Errorf("special-character path not created literally: %v", err)
	}
	for _, u := range []string{"sqlite://", "sqlite://:memory:", ":memory:"} {
		if db, err := store.Open(ctx, store.Config{URL: u}); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", u)
		}
	}
}

func TestIsUniqueViolationFallback(t *testing.T) {
	for _, s := range []string{
		"UNIQUE constraint failed: t.k",
		`ERROR: duplicate key value violates unique constraint "t_pkey" (SQLSTATE 23505)`,
	} {
		if !store.IsUniqueViolation(errors.New(s)) {
			t.Errorf("IsUniqueViolation(%q) = false", s)
		}
	}
	if store.IsUniqueViolation(errors.New("FOREIGN KEY constraint failed")) {
		t.Error("foreign key failure reported as unique violation")
	}
}

func TestMigrationsList(t *testing.T) {
	m := store.Migrations()
	if len(m) == 0 || m[0] != "0001_core.sql" {
		t.Fatalf("Migrations() = %v", m)
	}
	for i := 1; i < len(m); i++ {
		if m[i-1] >= m[i] {
			t.Fatalf("Migrations() not sorted: %v", m)
		}
	}
	for _, name := range m {
		if !strings.HasSuffix(name, ".sql") || strings.Contains(name, "/") {
			t.Fatalf("bad migration name %q", name)
		}
	}
}

func benchDB(b *testing.B) *store.DB {
	b.Helper()
	db := openSQLite(b, "sqlite://"+filepath.Join(b.TempDir(), "bench.db"))
	ctx := context.Background()
	if err := db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS bench (k TEXT PRIMARY KEY, v TEXT NOT NULL, n BIGINT NOT NULL)`)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	return db
}

var payload = strings.Repeat("x", 200)

// BenchmarkWriteTx: one single-row INSERT per Write tx (SQLite, WAL,
// synchronous=NORMAL).
func BenchmarkWriteTx(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		if err := db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO bench (k, v, n) VALUES ($1, $2, $3)`, fmt.Sprintf("k%09d", i), payload, i)
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteTxParallel: the same from GOMAXPROCS goroutines (they queue
// on the single write connection).
func BenchmarkWriteTxParallel(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	var mu sync.Mutex
	i := 0
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			i++
			k := i
			mu.Unlock()
			if err := db.Write(ctx, func(tx *store.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO bench (k, v, n) VALUES ($1, $2, $3)`, fmt.Sprintf("k%09d", k), payload, k)
				return err
			}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func seedBench(b *testing.B, db *store.DB, rows int) {
	b.Helper()
	ctx := context.Background()
	if err := db.Write(ctx, func(tx *store.Tx) error {
		for i := range rows {
			if _, err := tx.Exec(ctx, `INSERT INTO bench (k, v, n) VALUES ($1, $2, $3)`, fmt.Sprintf("k%09d", i), payload, i); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkReadTx: one primary-key lookup per Read tx.
func BenchmarkReadTx(b *testing.B) {
	db := benchDB(b)
	const rows = 10000
	seedBench(b, db, rows)
	ctx := context.Background()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		var v string
		if err := db.Read(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `SELECT v FROM bench WHERE k = $1`, fmt.Sprintf("k%09d", i%rows)).Scan(&v)
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadTxParallel: the same from GOMAXPROCS goroutines over the read pool.
func BenchmarkReadTxParallel(b *testing.B) {
	db := benchDB(b)
	const rows = 10000
	seedBench(b, db, rows)
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			var v string
			if err := db.Read(ctx, func(tx *store.Tx) error {
				return tx.QueryRow(ctx, `SELECT v FROM bench WHERE k = $1`, fmt.Sprintf("k%09d", i%rows)).Scan(&v)
			}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
