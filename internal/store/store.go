// Package store owns lextrail's relational state: opening the database
// (embedded SQLite by default, PostgreSQL by URL), applying the embedded
// migrations, and running transactions. All SQL in lextrail is written in
// one portable dialect that both drivers accept: $N placeholders, TEXT,
// BIGINT and BOOLEAN columns, timestamps as BIGINT epoch milliseconds,
// ON CONFLICT and RETURNING. Application packages own their own queries;
// this package owns only connections, transactions and the schema.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Driver names.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// ErrNotFound is returned by helpers when a row does not exist.
var ErrNotFound = errors.New("store: not found")

// Config says which database to open.
type Config struct {
	// URL is "sqlite:///path/to/file.db", a bare file path (SQLite), or
	// "postgres://..." / "postgresql://..." (PostgreSQL). Required.
	URL string
	// BusyTimeout is SQLite's busy_timeout. Default 5s.
	BusyTimeout time.Duration
	// MaxReadConns caps the read pool. Default 8 for SQLite, 16 for PostgreSQL.
	MaxReadConns int
	// MigrationsBefore, for tests of a migration, applies only the
	// migrations whose names sort before it (the schema as it was before
	// that migration landed). Default: all.
	MigrationsBefore string
	// MmapSize is SQLite's mmap_size on the scan connections (DB.Scan):
	// reads of up to that many bytes of the database file are served from
	// a shared memory map instead of one read(2) per page, which is most
	// of the cost of reading large rows (log blocks overflow dozens of
	// pages). Only there: a connection with a map unmaps it (munmap, ~0.75
	// ms for a database of tens of MB) at the start of every read
	// transaction after another connection wrote, a price a short read
	// pays in full and a long scan amortizes. Default 1 GiB; negative
	// disables. Writes never go through the map.
	MmapSize int64
	// CheckpointInterval is how often SQLite's write-ahead log is copied
	// back into the database file by a background connection
	// (checkpoint.go), instead of inside the commit that fills it.
	// Default 1s; negative leaves checkpoints to SQLite's own
	// automatic one in the commit.
	CheckpointInterval time.Duration
}

// DefaultMmapSize is Config.MmapSize's default.
const DefaultMmapSize = 1 << 30

// DB is an open database with its schema migrated.
type DB struct {
	driver string
	write  *sql.DB // SQLite: a single connection, so writers queue here instead of failing busy
	read   *sql.DB // SQLite: a pool of read-only connections; PostgreSQL: same as write
	scan   *sql.DB // SQLite: read-only connections for long scans (memory-mapped); PostgreSQL: same as write
	// SQLite only: the group committer that runs write transactions
	// (batch.go), and the background WAL checkpointer (checkpoint.go; nil
	// when SQLite checkpoints in the commit).
	batch *batcher
	ckpt  *checkpointer
	// writeSeq counts the write fns started on SQLite (WriteSeq).
	writeSeq atomic.Uint64
	// migrateBefore is Config.MigrationsBefore.
	migrateBefore string
}

// WriteSeq is, on SQLite, how many Write functions this DB has started
// (0 on PostgreSQL). They run one at a time on the one write connection,
// so a Write function that reads WriteSeq, and finds it one more than an
// earlier function of its own read, knows that no other Write function of
// this process ran in between — and so, with PRAGMA data_version
// unchanged (no other process committed), that what the earlier one read
// is still what the database holds, bar its own writes.
func (db *DB) WriteSeq() uint64 { return db.writeSeq.Load() }

// Open opens the database named by cfg.URL and applies pending migrations.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.BusyTimeout == 0 {
		cfg.BusyTimeout = 5 * time.Second
	}
	if cfg.CheckpointInterval == 0 {
		cfg.CheckpointInterval = DefaultCheckpointInterval
	}
	if cfg.MmapSize == 0 {
		cfg.MmapSize = DefaultMmapSize
	}
	var db *DB
	var err error
	switch {
	case strings.HasPrefix(cfg.URL, "postgres://"), strings.HasPrefix(cfg.URL, "postgresql://"):
		db, err = openPostgres(ctx, cfg)
	default:
		db, err = openSQLite(ctx, cfg)
	}
	if err != nil {
		return nil, err
	}
	db.migrateBefore = cfg.MigrationsBefore
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Driver returns DriverSQLite or DriverPostgres.
func (db *DB) Driver() string { return db.driver }

// Close waits for queued write transactions, then closes all connections.
func (db *DB) Close() error {
	if db.batch != nil {
		db.batch.close()
	}
	var err error
	if db.ckpt != nil {
		err = db.ckpt.close()
	}
	if e := db.write.Close(); err == nil {
		err = e
	}
	for _, p := range []*sql.DB{db.read, db.scan} {
		if p != db.write && p != nil {
			if e := p.Close(); err == nil {
				err = e
			}
		}
	}
	return err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return err
	}
	var one int
	return db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Tx is a transaction. Its methods take SQL in the portable dialect.
type Tx struct {
	tx       *sql.Tx
	readOnly bool
	after    []func()
	deferred []deferredItem
	// shared: a SQLite write transaction that this Tx shares with other
	// calls of its batch (batch.go). Its statements check the caller's
	// context before they run but are not interrupted once running: an
	// interrupted write would roll the whole shared transaction back.
	shared bool
}

// ctx is the context a statement runs with (see shared).
func (t *Tx) ctx(ctx context.Context) context.Context {
	if t.shared && ctx.Err() == nil {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// Exec runs a statement.
func (t *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(t.ctx(ctx), query, args...)
}

// Query runs a query returning rows.
func (t *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(t.ctx(ctx), query, args...)
}

// QueryRow runs a query returning at most one row.
func (t *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(t.ctx(ctx), query, args...)
}

// ReadOnly reports whether the transaction was opened by DB.Read.
func (t *Tx) ReadOnly() bool { return t.readOnly }

// AfterCommit registers fn to run once the transaction has committed (for
// cache invalidation and wake-ups). It does not run on rollback.
func (t *Tx) AfterCommit(fn func()) { t.after = append(t.after, fn) }

// Deferred is a write that transactions queue items for (Tx.Defer) and
// that runs once per commit, just before it, with every item queued in
// the committing transaction: on SQLite, with the items of every call of
// a group commit (batch.go) whose fn succeeded, in call order, outside
// their savepoints. Writes that every call makes at its end (the audit
// trail's event rows) are so made in one statement for the whole batch,
// atomically with the calls' own writes.
type Deferred struct {
	// Flush writes items in tx. Its error rolls the transaction back (on
	// SQLite the whole batch: every call of it fails with the error).
	// Flush may register AfterCommit functions on tx.
	Flush func(ctx context.Context, tx *Tx, items []any) error
}

type deferredItem struct {
	d    *Deferred
	item any
}

// Defer queues item for d's Flush before the transaction commits. Nothing
// of it is written before then: statements of the transaction (and, on
// SQLite, of later calls of its batch) do not see it.
func (t *Tx) Defer(d *Deferred, item any) {
	t.deferred = append(t.deferred, deferredItem{d, item})
}

// flushDeferred runs the Flush of every Deferred with items in items, in
// the order each was first queued, in t.
func flushDeferred(ctx context.Context, t *Tx, items []deferredItem) error {
	for len(items) > 0 {
		d := items[0].d
		var mine []any
		rest := items[:0:0]
		for _, it := range items {
			if it.d == d {
				mine = append(mine, it.item)
			} else {
				rest = append(rest, it)
			}
		}
		if err := d.Flush(ctx, t, mine); err != nil {
			return err
		}
		items = rest
	}
	return nil
}

// Write runs fn in a read-write transaction and commits if fn returns nil.
// If fn returns an error or panics, the transaction is rolled back (and the
// panic re-raised). On SQLite, write transactions are serialized on one
// connection and start with BEGIN IMMEDIATE, so a transaction never fails
// half-way for lack of the write lock and read-then-write is safe. On
// PostgreSQL they run at READ COMMITTED in parallel: a read-then-write must
// be expressed as one statement (UPDATE ... SET n = n + 1, INSERT ... ON
// CONFLICT DO UPDATE, or a conditional UPDATE checking RowsAffected).
//
// On SQLite, write transactions that queue up behind each other are
// committed together (group commit, see batch.go): each fn runs in a
// savepoint of one shared transaction (the batch's first fn in the
// transaction itself), so it sees the writes of the fns before it exactly
// as if they had committed, its error or panic rolls back only its own
// work, and Write returns once the whole batch has committed. A commit writes every page the batch changed once, instead
// of once per call.
func (db *DB) Write(ctx context.Context, fn func(*Tx) error) error {
	if db.batch != nil {
		return db.batch.write(ctx, fn)
	}
	return db.run(ctx, db.write, false, fn)
}

// Read runs fn in a read-only transaction. Reads never block on writers.
func (db *DB) Read(ctx context.Context, fn func(*Tx) error) error {
	return db.run(ctx, db.read, true, fn)
}

// Scan is Read for transactions that read much of the database (log event
// scans): on SQLite they run on connections that memory-map the file (see
// Config.MmapSize); on PostgreSQL it is Read.
func (db *DB) Scan(ctx context.Context, fn func(*Tx) error) error {
	return db.run(ctx, db.scan, true, fn)
}

// beginner is a *sql.DB or a *sql.Conn.
type beginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

func (db *DB) run(ctx context.Context, pool beginner, readOnly bool, fn func(*Tx) error) (err error) {
	// On SQLite, read-only-ness comes from the read pool's query_only pragma;
	// passing ReadOnly there would only change the BEGIN mode.
	opts := &sql.TxOptions{ReadOnly: readOnly && db.driver == DriverPostgres}
	stx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	t := &Tx{tx: stx, readOnly: readOnly}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
	}()
	if err := fn(t); err != nil {
		_ = stx.Rollback()
		return err
	}
	if len(t.deferred) > 0 {
		if err := flushDeferred(ctx, t, t.deferred); err != nil {
			_ = stx.Rollback()
			return err
		}
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	for _, f := range t.after {
		f()
	}
	return nil
}

// IsUniqueViolation reports whether err is a unique or primary key violation
// on either driver.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		c := sqErr.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	// Fallback for errors that lost their type (e.g. flattened with %v).
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || // SQLite
		strings.Contains(s, "SQLSTATE 23505") || // PostgreSQL (pgx)
		strings.Contains(s, "constraint failed: UNIQUE")
}

// Millis converts a time to the stored representation (epoch milliseconds).
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// FromMillis converts a stored epoch-milliseconds value back to a UTC time.
func FromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
