package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Stmt is a statement of a hot path, prepared once per connection instead
// of parsed on every use (modernc SQLite has no statement cache; pgx has
// one, so on PostgreSQL this changes little). Prepare it when the service
// is built, outside any transaction — on SQLite the write pool has a
// single connection, which a transaction in progress holds — and use it
// in transactions through Tx.QueryRowStmt, Tx.QueryStmt and Tx.ExecStmt;
// each connection prepares it the first time it runs it.
type Stmt struct {
	read, write *sql.Stmt
	query       string
}

// Prepare prepares query (portable SQL, like every other statement) for
// both pools. It must not be called inside a transaction.
func (db *DB) Prepare(ctx context.Context, query string) (*Stmt, error) {
	w, err := db.write.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("store: prepare: %w", err)
	}
	s := &Stmt{write: w, read: w, query: query}
	if db.read != db.write {
		if s.read, err = db.read.PrepareContext(ctx, query); err != nil {
			w.Close()
			return nil, fmt.Errorf("store: prepare: %w", err)
		}
	}
	return s, nil
}

func (t *Tx) stmt(ctx context.Context, s *Stmt) *sql.Stmt {
	if t.readOnly {
		return t.tx.StmtContext(ctx, s.read)
	}
	return t.tx.StmtContext(ctx, s.write)
}

// QueryRowStmt runs a prepared query returning at most one row.
func (t *Tx) QueryRowStmt(ctx context.Context, s *Stmt, args ...any) *sql.Row {
	ctx = t.ctx(ctx)
	return t.stmt(ctx, s).QueryRowContext(ctx, args...)
}

// QueryStmt runs a prepared query returning rows.
func (t *Tx) QueryStmt(ctx context.Context, s *Stmt, args ...any) (*sql.Rows, error) {
	ctx = t.ctx(ctx)
	return t.stmt(ctx, s).QueryContext(ctx, args...)
}

// ExecStmt runs a prepared statement.
func (t *Tx) ExecStmt(ctx context.Context, s *Stmt, args ...any) (sql.Result, error) {
	ctx = t.ctx(ctx)
	return t.stmt(ctx, s).ExecContext(ctx, args...)
}
