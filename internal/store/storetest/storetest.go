// Package storetest is the conformance suite every store driver passes.
//
// Usage, from a driver's test:
//
//	storetest.Run(t, func(t *testing.T) *store.DB { ... })
//
// open must return a newly opened handle to the SAME database every time it
// is called within one Run (the suite reopens it to check that migrations
// are idempotent, and opens several handles at once to check concurrent
// start-up), and should close the handle in t.Cleanup. open may be called
// from several goroutines at once, so on failure it should report with
// t.Error (not t.Fatal) and return nil. The suite creates its
// own table, storetest_kv, with CREATE TABLE IF NOT EXISTS, and each subtest
// uses its own keys, so subtests do not depend on each other.
package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"lextrail/internal/store"
)

const kvTable = `CREATE TABLE IF NOT EXISTS storetest_kv (
    k     TEXT PRIMARY KEY,
    v     TEXT NOT NULL,
    n     BIGINT NOT NULL DEFAULT 0,
    flag  BOOLEAN NOT NULL DEFAULT FALSE,
    ts_ms BIGINT NOT NULL DEFAULT 0
)`

// Run runs the conformance suite against the database open returns.
func Run(t *testing.T, open func(t *testing.T) *store.DB) {
	db := open(t)
	if db == nil {
		t.Fatal("open failed")
	}
	ctx := context.Background()
	if err := db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, kvTable)
		return err
	}); err != nil {
		t.Fatalf("create storetest_kv: %v", err)
	}
	s := &suite{db: db, open: open}
	t.Run("Migrations", s.migrations)
	t.Run("Ping", s.ping)
	t.Run("Dialect", s.dialect)
	t.Run("LargeText", s.largeText)
	t.Run("Commit", s.commit)
	t.Run("ErrorRollsBack", s.errorRollsBack)
	t.Run("PanicRollsBack", s.panicRollsBack)
	t.Run("UniqueViolation", s.uniqueViolation)
	t.Run("ForeignKeys", s.foreignKeys)
	t.Run("ReadTx", s.readTx)
	t.Run("ConcurrentWriters", s.concurrentWriters)
	t.Run("ReadersDuringLongWrite", s.readersDuringLongWrite)
	t.Run("ContextCancel", s.contextCancel)
}

type suite struct {
	db   *store.DB
	open func(t *testing.T) *store.DB
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func (s *suite) put(t *testing.T, k, v string) {
	t.Helper()
	ctx := ctxT(t)
	if err := s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO storetest_kv (k, v) VALUES ($1, $2)`, k, v)
		return err
	}); err != nil {
		t.Fatalf("put %s: %v", k, err)
	}
}

// get returns v for k via a Read tx, and whether the row exists.
func (s *suite) get(t *testing.T, k string) (string, bool) {
	t.Helper()
	ctx := ctxT(t)
	var v string
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `SELECT v FROM storetest_kv WHERE k = $1`, k).Scan(&v)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return "", false
	}
	if err != nil {
		t.Fatalf("get %s: %v", k, err)
	}
	return v, true
}

func (s *suite) count(t *testing.T, prefix string) int {
	t.Helper()
	ctx := ctxT(t)
	var n int
	if err := s.db.Read(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM storetest_kv WHERE k LIKE $1`, prefix+"%").Scan(&n)
	}); err != nil {
		t.Fatalf("count %s: %v", prefix, err)
	}
	return n
}

func (s *suite) migrations(t *testing.T) {
	ctx := ctxT(t)
	want := store.Migrations()
	if len(want) == 0 {
		t.Fatal("store.Migrations() is empty")
	}
	applied := func(db *store.DB) map[string]int64 {
		t.Helper()
		got := map[string]int64{}
		err := db.Read(ctx, func(tx *store.Tx) error {
			rows, err := tx.Query(ctx, `SELECT name, applied_ms FROM schema_migrations`)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var name string
				var ms int64
				if err := rows.Scan(&name, &ms); err != nil {
					return err
				}
				got[name] = ms
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatalf("read schema_migrations: %v", err)
		}
		return got
	}
	before := applied(s.db)
	if len(before) != len(want) {
		t.Fatalf("schema_migrations has %d rows %v, want %v", len(before), before, want)
	}
	for _, name := range want {
		if before[name] <= 0 {
			t.Errorf("migration %s not recorded (applied_ms=%d)", name, before[name])
		}
	}
	// The schema of 0001 is usable.
	if err := s.db.Read(ctx, func(tx *store.Tx) error {
		var n int
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM accounts`).Scan(&n)
	}); err != nil {
		t.Fatalf("accounts table: %v", err)
	}

	// Reopening applies nothing again, also when several nodes start at once.
	var wg sync.WaitGroup
	dbs := make([]*store.DB, 4)
	for i := range dbs {
		wg.Go(func() { dbs[i] = s.open(t) })
	}
	wg.Wait()
	for i, db := range dbs {
		if db == nil {
			t.Fatalf("concurrent open %d failed", i)
		}
		after := applied(db)
		if fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("reopen %d changed schema_migrations: before %v, after %v", i, before, after)
		}
	}
	// The suite's own table survives reopening.
	k := "migrations/after-reopen"
	if err := dbs[0].Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO storetest_kv (k, v) VALUES ($1, 'x')`, k)
		return err
	}); err != nil {
		t.Fatalf("write through reopened handle: %v", err)
	}
	if _, ok := s.get(t, k); !ok {
		t.Fatal("write through reopened handle not visible through the first handle")
	}
}

func (s *suite) ping(t *testing.T) {
	if err := s.db.Ping(ctxT(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if d := s.db.Driver(); d != store.DriverSQLite && d != store.DriverPostgres {
		t.Fatalf("Driver() = %q", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.db.Ping(ctx); err == nil {
		t.Fatal("Ping with a cancelled context succeeded")
	}
}

func (s *suite) dialect(t *testing.T) {
	ctx := ctxT(t)
	const unicode = "héllo — 世界 🚀 \u00a0 'quoted' \"dq\" \\ %_ $1"
	now := time.Now()
	ms := store.Millis(now)
	const big = int64(1)<<62 + 12345

	// INSERT ... RETURNING, BOOLEAN true, BIGINT.
	var n int64
	var flag bool
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `INSERT INTO storetest_kv (k, v, n, flag, ts_ms) VALUES ($1, $2, $3, $4, $5) RETURNING n, flag`,
			"dialect/a", unicode, big, true, ms).Scan(&n, &flag)
	})
	if err != nil {
		t.Fatalf("INSERT RETURNING: %v", err)
	}
	if n != big || !flag {
		t.Fatalf("RETURNING gave n=%d flag=%v, want %d true", n, flag, big)
	}
	if err := s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO storetest_kv (k, v, n, flag, ts_ms) VALUES ($1, $2, $3, $4, $5)`,
			"dialect/b", "", int64(-7), false, int64(0))
		return err
	}); err != nil {
		t.Fatalf("INSERT: %v", err)
	}

	// Round trip through a Read tx.
	type row struct {
		v    string
		n    int64
		flag bool
		ts   int64
	}
	read := func(k string) row {
		t.Helper()
		var r row
		if err := s.db.Read(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `SELECT v, n, flag, ts_ms FROM storetest_kv WHERE k = $1`, k).Scan(&r.v, &r.n, &r.flag, &r.ts)
		}); err != nil {
			t.Fatalf("SELECT %s: %v", k, err)
		}
		return r
	}
	a := read("dialect/a")
	if a.v != unicode || a.n != big || !a.flag || a.ts != ms {
		t.Fatalf("row a = %+v, want v=%q n=%d flag=true ts=%d", a, unicode, big, ms)
	}
	if got := store.FromMillis(a.ts); !got.Equal(now.Truncate(time.Millisecond)) || got.Location() != time.UTC {
		t.Fatalf("FromMillis = %v, want %v in UTC", got, now.Truncate(time.Millisecond))
	}
	b := read("dialect/b")
	if b.v != "" || b.n != -7 || b.flag || b.ts != 0 {
		t.Fatalf("row b = %+v", b)
	}
	if !store.FromMillis(0).IsZero() || store.Millis(time.Time{}) != 0 {
		t.Fatal("zero time does not map to 0")
	}

	// WHERE on a BOOLEAN parameter.
	var nTrue int
	if err := s.db.Read(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM storetest_kv WHERE k LIKE 'dialect/%' AND flag = $1`, true).Scan(&nTrue)
	}); err != nil || nTrue != 1 {
		t.Fatalf("flag = true matched %d rows (err %v), want 1", nTrue, err)
	}

	// INSERT ... ON CONFLICT DO UPDATE ... RETURNING, on both a new and an existing key.
	upsert := func(k, v string, add int64) int64 {
		t.Helper()
		var got int64
		if err := s.db.Write(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `INSERT INTO storetest_kv (k, v, n) VALUES ($1, $2, $3)
				ON CONFLICT (k) DO UPDATE SET v = excluded.v, n = storetest_kv.n + excluded.n
				RETURNING n`, k, v, add).Scan(&got)
		}); err != nil {
			t.Fatalf("upsert: %v", err)
		}
		return got
	}
	if got := upsert("dialect/c", "one", 5); got != 5 {
		t.Fatalf("upsert new: n=%d, want 5", got)
	}
	if got := upsert("dialect/c", "two", 3); got != 8 {
		t.Fatalf("upsert existing: n=%d, want 8", got)
	}
	if c := read("dialect/c"); c.v != "two" || c.n != 8 {
		t.Fatalf("after upsert: %+v", c)
	}
	// ON CONFLICT DO NOTHING.
	if err := s.db.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `INSERT INTO storetest_kv (k, v) VALUES ($1, 'three') ON CONFLICT (k) DO NOTHING`, "dialect/c")
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 0 {
			return fmt.Errorf("DO NOTHING affected %d rows (%v)", n, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// UPDATE ... RETURNING, DELETE, RowsAffected, no rows.
	if err := s.db.Write(ctx, func(tx *store.Tx) error {
		var flag bool
		if err := tx.QueryRow(ctx, `UPDATE storetest_kv SET flag = NOT flag WHERE k = $1 RETURNING flag`, "dialect/b").Scan(&flag); err != nil {
			return err
		}
		if !flag {
			return errors.New("UPDATE RETURNING: flag still false")
		}
		res, err := tx.Exec(ctx, `DELETE FROM storetest_kv WHERE k = $1`, "dialect/c")
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("DELETE affected %d rows (%v)", n, err)
		}
		var v string
		if err := tx.QueryRow(ctx, `SELECT v FROM storetest_kv WHERE k = $1`, "dialect/c").Scan(&v); !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("deleted row: got %v, want sql.ErrNoRows", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if b := read("dialect/b"); !b.flag {
		t.Fatal("BOOLEAN update not persisted")
	}
}

func (s *suite) largeText(t *testing.T) {
	ctx := ctxT(t)
	var sb strings.Builder
	for sb.Len() < 1<<20 {
		sb.WriteString("lextrail ünïcödé 日本語 ")
	}
	big := sb.String()
	if err := s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO storetest_kv (k, v) VALUES ($1, $2)`, "large/1", big)
		return err
	}); err != nil {
		t.Fatalf("insert 1 MB: %v", err)
	}
	if got, ok := s.get(t, "large/1"); !ok || got != big {
		t.Fatalf("1 MB text round trip: ok=%v len=%d, want len=%d", ok, len(got), len(big))
	}
}

func (s *suite) commit(t *testing.T) {
	ctx := ctxT(t)
	var order []string
	var seenInAfter bool
	var wasReadOnly = true
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		wasReadOnly = tx.ReadOnly()
		tx.AfterCommit(func() {
			order = append(order, "first")
			// Runs after commit: another connection sees the data.
			_, seenInAfter = s.get(t, "commit/1")
		})
		tx.AfterCommit(func() { order = append(order, "second") })
		if len(order) != 0 {
			return errors.New("AfterCommit ran before commit")
		}
		_, err := tx.Exec(ctx, `INSERT INTO storetest_kv (k, v) VALUES ($1, 'x'), ($2, 'y')`, "commit/1", "commit/2")
		return err
	})
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	if wasReadOnly {
		t.Error("Write tx reports ReadOnly")
	}
	if strings.Join(order, ",") != "first,second" {
		t.Fatalf("AfterCommit order = %v", order)
	}
	if !seenInAfter {
		t.Fatal("AfterCommit ran before the data was visible to readers")
	}
	if n := s.count(t, "commit/"); n != 2 {
		t.Fatalf("committed rows = %d, want 2", n)
	}
}

func (s *suite) errorRollsBack(t *testing.T) {
	ctx := ctxT(t)
	s.put(t, "rollback/existing", "old")
	errBoom := errors.New("boom")
	after := false
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		tx.AfterCommit(func() { after = true })
		if _, err := tx.Exec(ctx, `INSERT INTO storetest_kv (k, v) VALUES ($1, 'x')`, "rollback/1"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE storetest_kv SET v = 'new' WHERE k = $1`, "rollback/existing"); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", errBoom)
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Write returned %v, want fn's error", err)
	}
	if after {
		t.Fatal("AfterCommit ran on rollback")
	}
	if _, ok := s.get(t, "rollback/1"); ok {
		t.Fatal("insert of a failed tx is visible")
	}
	if v, _ := s.get(t, "rollback/existing"); v != "old" {
		t.Fatalf("update of a failed tx is visible: v=%q", v)
	}
	// A failed statement inside the tx (here a duplicate key) also rolls
	// back everything before it when fn returns the error.
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO storetest_kv (k, v) VALUES ($1, 'x')`, "rollback/2"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO storetest_kv (k, v) VALUES ($1, 'x')`, "rollback/existing")
		return err
	})
	if !store.IsUniqueViolation(err) {
		t.Fatalf("Write returned %v, want a unique violation", err)
	}
	if _, ok := s.get(t, "rollback/2"); ok {
		t.Fatal("statement before the failing one was committed")
	}
	s.put(t, "rollback/3", "x") // the connection is usable afterwards
}

func (s *suite) panicRollsBack(t *testing.T) {
	ctx := ctxT(t)
	after := false
	recovered := func() (p any) {
		defer func() { p = recover() }()
		_ = s.db.Write(ctx, func(tx *store.Tx) error {
			tx.AfterCommit(func() { after = true })
			if _, err := tx.Exec(ctx, `INSERT INTO storetest_kv (k, v) VALUES ($1, 'x')`, "panic/1"); err != nil {
				t.Errorf("insert: %v", err)
			}
			panic("storetest boom")
		})
		return nil
	}()
	if recovered != "storetest boom" {
		t.Fatalf("recovered %v, want the original panic value", recovered)
	}
	if after {
		t.Fatal("AfterCommit ran after a panic")
	}
	if _, ok := s.get(t, "panic/1"); ok {
		t.Fatal("write of a panicking tx is visible")
	}
	// The (on SQLite, single) write connection was released.
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.put(t, "panic/2", "x")
	}()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("Write after a panicking tx did not complete: connection leaked")
	}
	// Same for a Read tx.
	func() {
		defer func() { _ = recover() }()
		_ = s.db.Read(ctx, func(tx *store.Tx) error { panic("read boom") })
	}()
	if _, ok := s.get(t, "panic/2"); !ok {
		t.Fatal("Read after a panicking read tx failed")
	}
}

func (s *suite) uniqueViolation(t *testing.T) {
	ctx := ctxT(t)
	s.put(t, "unique/1", "x")
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO storetest_kv (k, v) VALUES ($1, 'y')`, "unique/1")
		return err
	})
	if err == nil {
		t.Fatal("duplicate primary key inserted")
	}
	if !store.IsUniqueViolation(err) {
		t.Fatalf("IsUniqueViolation(%v) = false", err)
	}
	if !store.IsUniqueViolation(fmt.Errorf("create thing: %w", err)) {
		t.Fatal("IsUniqueViolation false for a wrapped violation")
	}
	if v, _ := s.get(t, "unique/1"); v != "x" {
		t.Fatalf("original row changed: %q", v)
	}
	// Other errors are not unique violations.
	if store.IsUniqueViolation(nil) || store.IsUniqueViolation(errors.New("x")) || store.IsUniqueViolation(sql.ErrNoRows) {
		t.Fatal("IsUniqueViolation true for a non-violation")
	}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO storetest_kv (k, v) VALUES ($1, NULL)`, "unique/2")
		return err
	})
	if err == nil || store.IsUniqueViolation(err) {
		t.Fatalf("NOT NULL violation: err=%v, IsUniqueViolation=%v", err, store.IsUniqueViolation(err))
	}
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `SELECT no_such_column FROM storetest_kv`)
		return err
	})
	if err == nil || store.IsUniqueViolation(err) {
		t.Fatalf("syntax error: err=%v, IsUniqueViolation=%v", err, store.IsUniqueViolation(err))
	}
}

func (s *suite) foreignKeys(t *testing.T) {
	ctx := ctxT(t)
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO access_keys (access_key_id, account_id, principal_type, secret_sealed, created_ms)
			VALUES ($1, $2, 'Root', 'sealed', 1)`, "AKIASTORETESTFK00001", "999999999999")
		return err
	})
	if err == nil {
		t.Fatal("access key for a missing account inserted: foreign keys are not enforced")
	}
	if store.IsUniqueViolation(err) {
		t.Fatalf("foreign key error reported as unique violation: %v", err)
	}
}

func (s *suite) readTx(t *testing.T) {
	ctx := ctxT(t)
	s.put(t, "read/1", "committed")
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		if !tx.ReadOnly() {
			return errors.New("Read tx does not report ReadOnly")
		}
		var v string
		if err := tx.QueryRow(ctx, `SELECT v FROM storetest_kv WHERE k = $1`, "read/1").Scan(&v); err != nil {
			return err
		}
		if v != "committed" {
			return fmt.Errorf("read %q", v)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	for _, stmt := range []string{
		`INSERT INTO storetest_kv (k, v) VALUES ('read/2', 'x')`,
		`UPDATE storetest_kv SET v = 'changed' WHERE k = 'read/1'`,
		`DELETE FROM storetest_kv WHERE k = 'read/1'`,
	} {
		var execErr error
		err := s.db.Read(ctx, func(tx *store.Tx) error {
			_, execErr = tx.Exec(ctx, stmt)
			return nil // even if fn swallows the error, nothing may be written
		})
		if execErr == nil {
			t.Errorf("Read tx accepted %q", stmt)
		}
		_ = err // PostgreSQL reports the aborted tx at commit; SQLite does not
	}
	if _, ok := s.get(t, "read/2"); ok {
		t.Fatal("Read tx inserted a row")
	}
	if v, ok := s.get(t, "read/1"); !ok || v != "committed" {
		t.Fatalf("Read tx modified a row: %q %v", v, ok)
	}
}

func (s *suite) concurrentWriters(t *testing.T) {
	const workers, iters = 8, 50
	ctx := ctxT(t)
	hammer := func(t *testing.T, key string, fn func(tx *store.Tx) error) {
		t.Helper()
		s.put(t, key, "counter")
		var wg sync.WaitGroup
		errs := make(chan error, workers*iters)
		for range workers {
			wg.Go(func() {
				for range iters {
					if err := s.db.Write(ctx, fn); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent Write: %v", err)
		}
		var n int64
		if err := s.db.Read(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `SELECT n FROM storetest_kv WHERE k = $1`, key).Scan(&n)
		}); err != nil {
			t.Fatal(err)
		}
		if n != workers*iters {
			t.Fatalf("counter = %d, want %d", n, workers*iters)
		}
	}
	t.Run("Increment", func(t *testing.T) {
		hammer(t, "concurrent/inc", func(tx *store.Tx) error {
			var n int64
			return tx.QueryRow(ctx, `UPDATE storetest_kv SET n = n + 1 WHERE k = $1 RETURNING n`, "concurrent/inc").Scan(&n)
		})
	})
	t.Run("Upsert", func(t *testing.T) {
		hammer(t, "concurrent/upsert", func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO storetest_kv (k, v, n) VALUES ($1, 'counter', 1)
				ON CONFLICT (k) DO UPDATE SET n = storetest_kv.n + 1`, "concurrent/upsert")
			return err
		})
	})
	// Read-then-write in separate statements is only atomic where Write
	// serializes transactions (SQLite); PostgreSQL's Write is READ COMMITTED
	// and documents the single-statement forms above instead.
	t.Run("ReadThenWrite", func(t *testing.T) {
		if s.db.Driver() != store.DriverSQLite {
			t.Skip("Write on PostgreSQL is READ COMMITTED: read-then-write must be one statement")
		}
		hammer(t, "concurrent/rtw", func(tx *store.Tx) error {
			var n int64
			if err := tx.QueryRow(ctx, `SELECT n FROM storetest_kv WHERE k = $1`, "concurrent/rtw").Scan(&n); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE storetest_kv SET n = $1 WHERE k = $2`, n+1, "concurrent/rtw")
			return err
		})
	})
}

func (s *suite) readersDuringLongWrite(t *testing.T) {
	ctx := ctxT(t)
	s.put(t, "long/1", "before")
	inTx := make(chan struct{})
	release := make(chan struct{})
	writerDone := make(chan error, 1)
	go func() {
		writerDone <- s.db.Write(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(ctx, `UPDATE storetest_kv SET v = 'after' WHERE k = $1`, "long/1"); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO storetest_kv (k, v) VALUES ($1, 'x')`, "long/2"); err != nil {
				return err
			}
			close(inTx)
			<-release
			return nil
		})
	}()
	select {
	case <-inTx:
	case err := <-writerDone:
		t.Fatalf("writer: %v", err)
	}
	// While the writer holds its transaction, readers proceed and see the
	// last committed state.
	var wg sync.WaitGroup
	readErrs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			readErrs <- s.db.Read(rctx, func(tx *store.Tx) error {
				var v string
				if err := tx.QueryRow(rctx, `SELECT v FROM storetest_kv WHERE k = $1`, "long/1").Scan(&v); err != nil {
					return err
				}
				if v != "before" {
					return fmt.Errorf("reader saw uncommitted v=%q", v)
				}
				var n int
				if err := tx.QueryRow(rctx, `SELECT COUNT(*) FROM storetest_kv WHERE k = $1`, "long/2").Scan(&n); err != nil {
					return err
				}
				if n != 0 {
					return errors.New("reader saw an uncommitted insert")
				}
				return nil
			})
		})
	}
	wg.Wait()
	close(readErrs)
	for err := range readErrs {
		if err != nil {
			t.Errorf("reader during long write: %v", err)
		}
	}
	close(release)
	if err := <-writerDone; err != nil {
		t.Fatalf("writer: %v", err)
	}
	if v, _ := s.get(t, "long/1"); v != "after" {
		t.Fatalf("after commit v=%q", v)
	}
}

func (s *suite) contextCancel(t *testing.T) {
	// Already cancelled: fn does not run.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := s.db.Write(ctx, func(tx *store.Tx) error { ran = true; return nil })
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("Write with cancelled ctx: err=%v, want context.Canceled", err)
	}
	if ran {
		t.Fatal("fn ran with a cancelled context")
	}
	if err := s.db.Read(ctx, func(tx *store.Tx) error { return nil }); err == nil {
		t.Fatal("Read with cancelled ctx succeeded")
	}

	// Cancelled mid-transaction, and fn ignores it: the commit fails and
	// nothing is written.
	ctx, cancel = context.WithCancel(context.Background())
	after := false
	var stmtErr error
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		tx.AfterCommit(func() { after = true })
		if _, err := tx.Exec(ctx, `INSERT INTO storetest_kv (k, v) VALUES ($1, 'x')`, "cancel/1"); err != nil {
			return err
		}
		cancel()
		_, stmtErr = tx.Exec(ctx, `INSERT INTO storetest_kv (k, v) VALUES ($1, 'x')`, "cancel/2")
		return nil
	})
	if err == nil {
		t.Fatal("Write whose context was cancelled mid-way committed")
	}
	if stmtErr == nil {
		t.Error("statement after cancel succeeded")
	}
	if after {
		t.Fatal("AfterCommit ran for a cancelled tx")
	}
	if n := s.count(t, "cancel/"); n != 0 {
		t.Fatalf("%d rows of a cancelled tx are visible", n)
	}

	// Deadline during the transaction, fn returns the error.
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO storetest_kv (k, v) VALUES ($1, 'x')`, "cancel/3"); err != nil {
			return err
		}
		<-ctx.Done()
		_, err := tx.Exec(ctx, `INSERT INTO storetest_kv (k, v) VALUES ($1, 'x')`, "cancel/4")
		return err
	})
	if err == nil {
		t.Fatal("Write past its deadline succeeded")
	}
	if n := s.count(t, "cancel/"); n != 0 {
		t.Fatalf("%d rows of a timed-out tx are visible", n)
	}
	// The store is still usable.
	s.put(t, "cancel/5", "x")
	if n := s.count(t, "cancel/"); n != 1 {
		t.Fatalf("after recovery: %d rows, want 1", n)
	}
}
