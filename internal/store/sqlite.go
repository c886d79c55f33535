package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// sqlitePath extracts the file path from "sqlite:///path", "file:path" or a
// bare path. Any query string is dropped: the store sets its own pragmas.
func sqlitePath(u string) string {
	path := strings.TrimPrefix(u, "sqlite://")
	path = strings.TrimPrefix(path, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return path
}

// sqliteDSN builds a modernc.org/sqlite DSN. The name is passed to SQLite as
// a URI filename, so the path is percent-encoded ('?', '#', '%' and spaces
// in a path would otherwise be misread).
func sqliteDSN(path string, params url.Values) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + params.Encode()
}

// openSQLite opens one write connection (BEGIN IMMEDIATE) and a read pool on
// the same file in WAL mode, each connection caching its compiled
// statements (sqlitestmts.go).
//
// Verified against modernc.org/sqlite v1.60.1 (see store_test.go): _pragma
// values run on every new connection (busy_timeout first), and
// _txlock=immediate makes BeginTx issue BEGIN IMMEDIATE for non-read-only
// transactions.
func openSQLite(ctx context.Context, cfg Config) (*DB, error) {
	path := sqlitePath(cfg.URL)
	if path == "" {
		return nil, fmt.Errorf("store: empty SQLite path in %q", cfg.URL)
	}
	if path == ":memory:" || strings.HasPrefix(path, ":memory:") {
		// Every connection would get its own empty database, so the read
		// pool would never see what the write connection wrote.
		return nil, fmt.Errorf("store: in-memory SQLite is not supported (the read pool needs a shared file); use a temporary file")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	busy := fmt.Sprintf("busy_timeout(%d)", cfg.BusyTimeout.Milliseconds())
	pragmas := url.Values{}
	pragmas.Add("_pragma", busy)
	pragmas.Add("_pragma", "journal_mode(WAL)")
	pragmas.Add("_pragma", "synchronous(NORMAL)")
	pragmas.Add("_pragma", "foreign_keys(ON)")
	// Statement journals and the savepoint journals of group-committed
	// writes (batch.go) stay in memory: by default they spill to a
	// temporary file past 64 KiB, a system call per page.
	pragmas.Add("_pragma", "temp_store(MEMORY)")
	if cfg.CheckpointInterval > 0 {
		// The background checkpointer (checkpoint.go) does it instead.
		pragmas.Add("_pragma", "wal_autocheckpoint(0)")
	}
	// The writer keeps its pages between transactions (no other
	// connection writes, so they stay valid): a page cache large enough
	// for the working set of every table the per-request writes touch
	// (sessions, utterance statistics, audit postings) saves a pread(2)
	// per page fetch, and keeps big transactions from spilling dirty
	// pages into the WAL mid-transaction. An upper bound, in KiB; pages
	// are allocated as used.
	pragmas.Add("_pragma", fmt.Sprintf("cache_size(%d)", -writerCacheKiB))
	pragmas.Set("_txlock", "immediate")
	wc, err := newStmtConnector(sqliteDSN(path, pragmas))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w := sql.OpenDB(wc)
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	n := cfg.MaxReadConns
	if n <= 0 {
		n = 8
	}
	r, err := openReadPool(ctx, path, busy, 0, n)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s (read pool): %w", path, err)
	}
	sc, err := openReadPool(ctx, path, busy, cfg.MmapSize, max(2, n/2))
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("store: open %s (scan pool): %w", path, err)
	}
	db := &DB{driver: DriverSQLite, write: w, read: r, scan: sc}
	db.batch = newBatcher(db)
	if cfg.CheckpointInterval > 0 {
		cp := url.Values{}
		cp.Add("_pragma", busy)
		c, err := sql.Open("sqlite", sqliteDSN(path, cp))
		if err == nil {
			c.SetMaxOpenConns(1)
			c.SetConnMaxIdleTime(0)
			err = c.PingContext(ctx)
			if err != nil {
				c.Close()
			}
		}
		if err != nil {
			db.batch.close()
			w.Close()
			r.Close()
			sc.Close()
			return nil, fmt.Errorf("store: open %s (checkpointer): %w", path, err)
		}
		db.ckpt = startCheckpointer(c, cfg.CheckpointInterval)
	}
	return db, nil
}

// writerCacheKiB is the write connection's page cache bound.
const writerCacheKiB = 64 << 10

// openReadPool opens n read-only connections, memory-mapping up to mmap
// bytes of the file when mmap > 0.
func openReadPool(ctx context.Context, path, busy string, mmap int64, n int) (*sql.DB, error) {
	rp := url.Values{}
	rp.Add("_pragma", busy)
	rp.Add("_pragma", "query_only(ON)")
	rp.Add("_pragma", "foreign_keys(ON)")
	rp.Add("_pragma", "temp_store(MEMORY)") // sorts of listings stay in memory too
	if mmap > 0 {
		rp.Add("_pragma", fmt.Sprintf("mmap_size(%d)", mmap))
	}
	rc, err := newStmtConnector(sqliteDSN(path, rp))
	if err != nil {
		return nil, err
	}
	r := sql.OpenDB(rc)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}
