package store

import (
	"context"
	"database/sql/driver"
	"reflect"
	"strings"

	"modernc.org/sqlite"
)

// Prepared-statement caching for SQLite.
//
// database/sql hands a query without prepared statement to the driver's
// ExecContext/QueryContext, and modernc.org/sqlite then compiles
// (sqlite3_prepare) and finalizes the statement on every call: for the
// small transactions lextrail runs (a key lookup, an AssumeRole with its
// event) compiling is a large share of the cost. stmtConn keeps, per
// physical connection, the compiled statement of each query text it runs
// and reuses it (modernc resets a statement after Exec and when its Rows
// close). A statement whose rows are still open is not shared: a nested use
// of the same text gets a one-off statement. Only single SELECT, INSERT,
// UPDATE and DELETE statements are cached, up to maxConnStmts per
// connection; SQLite recompiles a cached statement by itself after a schema
// change. (pgx caches statements per connection on its own.)

const (
	maxConnStmts   = 512
	maxCachedQuery = 4096
)

// stmtConnector wraps modernc.org/sqlite's connector so that every
// connection caches its statements.
type stmtConnector struct{ driver.Connector }

func newStmtConnector(dsn string) (driver.Connector, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return stmtConnector{c}, nil
}

func (c stmtConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return newStmtConn(conn)
}

// innerConn is what modernc.org/sqlite's connection implements and
// database/sql uses.
type innerConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type cachedStmt struct {
	st   driver.Stmt
	exec driver.StmtExecContext
	qry  driver.StmtQueryContext
	busy bool // its rows are open
}

type stmtConn struct {
	innerConn
	stmts map[string]*cachedStmt
}

func newStmtConn(c driver.Conn) (driver.Conn, error) {
	ic, ok := c.(innerConn)
	if !ok {
		c.Close()
		return nil, errNoStmtCache(c)
	}
	return &stmtConn{innerConn: ic, stmts: map[string]*cachedStmt{}}, nil
}

type errNoStmtCacheT struct{ t string }

func (e errNoStmtCacheT) Error() string {
	return "store: the SQLite driver's connection (" + e.t + ") lacks an interface the statement cache needs"
}

func errNoStmtCache(c driver.Conn) error { return errNoStmtCacheT{reflect.TypeOf(c).String()} }

// cacheable reports whether a query text is worth keeping compiled.
func cacheable(query string) bool {
	if len(query) > maxCachedQuery {
		return false
	}
	q := strings.TrimSuffix(strings.TrimSpace(query), ";")
	if len(q) < 6 || strings.IndexByte(q, ';') >= 0 {
		return false
	}
	switch strings.ToUpper(q[:6]) {
	case "SELECT", "INSERT", "UPDATE", "DELETE":
		return true
	}
	return false
}

// stmt returns the connection's compiled statement for query, compiling it
// on first use; nil when the query is not to be cached or the statement is
// in use (the caller runs the query uncached).
func (c *stmtConn) stmt(ctx context.Context, query string) (*cachedStmt, error) {
	if cs, ok := c.stmts[query]; ok {
		if cs.busy {
			return nil, nil
		}
		return cs, nil
	}
	if len(c.stmts) >= maxConnStmts || !cacheable(query) {
		return nil, nil
	}
	st, err := c.innerConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	ex, ok1 := st.(driver.StmtExecContext)
	qr, ok2 := st.(driver.StmtQueryContext)
	if !ok1 || !ok2 {
		st.Close()
		return nil, nil
	}
	cs := &cachedStmt{st: st, exec: ex, qry: qr}
	c.stmts[query] = cs
	return cs, nil
}

func (c *stmtConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.innerConn.ExecContext(ctx, query, args)
	}
	return cs.exec.ExecContext(ctx, args)
}

func (c *stmtConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.innerConn.QueryContext(ctx, query, args)
	}
	r, err := cs.qry.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	cs.busy = true
	return &stmtRows{Rows: r, cs: cs}, nil
}

// Close finalizes the cached statements and closes the connection.
func (c *stmtConn) Close() error {
	for q, cs := range c.stmts {
		cs.st.Close()
		delete(c.stmts, q)
	}
	return c.innerConn.Close()
}

// stmtRows releases its statement for reuse when closed. It forwards the
// column-type methods modernc.org/sqlite's rows implement.
type stmtRows struct {
	driver.Rows
	cs *cachedStmt
}

func (r *stmtRows) Close() error {
	err := r.Rows.Close()
	if r.cs != nil {
		r.cs.busy = false
		r.cs = nil
	}
	return err
}

func (r *stmtRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *stmtRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *stmtRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *stmtRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *stmtRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}
