package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared statements of one SQLite pool by their SQL
// text, so that the statements a server runs over and over (an event
// insert, a resource lookup) are parsed and planned once per connection
// instead of once per call. modernc.org/sqlite keeps a single-statement
// prepared statement's compiled program between executions; database/sql
// prepares a cached *sql.Stmt on each connection that runs it and reuses
// it there (Tx.StmtContext).
//
// Only Tx.Exec and Tx.QueryRow use it. Tx.Query does not: a prepared
// statement has one cursor, and a caller iterating rows may run the same
// query again before closing them (a nested lookup); QueryRow's row is
// scanned at once by every caller in lextrail (a *sql.Row must be scanned
// before the same query runs again in the transaction).
//
// A statement is prepared once it has been seen twice (one-off SQL such as
// a purge's IN list stays out), after its transaction ended: preparing
// needs a free connection, and the write pool has only one. The cache
// stops growing at maxCached statements.
type stmtCache struct {
	pool *sql.DB
	mu   sync.RWMutex
	m    map[string]*sql.Stmt
	seen map[string]struct{}
}

const (
	maxCached = 1024
	maxSeen   = 8192
)

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, m: map[string]*sql.Stmt{}, seen: map[string]struct{}{}}
}

// get returns the prepared statement for q, or nil.
func (c *stmtCache) get(q string) *sql.Stmt {
	c.mu.RLock()
	st := c.m[q]
	c.mu.RUnlock()
	return st
}

// missed notes that q ran unprepared and reports whether it should be
// prepared now (the second time it is seen).
func (c *stmtCache) missed(q string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[q]; ok || len(c.m) >= maxCached {
		return false
	}
	if _, ok := c.seen[q]; ok {
		delete(c.seen, q)
		return true
	}
	if len(c.seen) >= maxSeen {
		clear(c.seen)
	}
	c.seen[q] = struct{}{}
	return false
}

// prepare prepares the queries on the pool (outside any transaction) and
// caches them. Failures are ignored: the query then keeps running
// unprepared.
func (c *stmtCache) prepare(queries []string) {
	for _, q := range queries {
		st, err := c.pool.PrepareContext(context.Background(), q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if _, ok := c.m[q]; ok || len(c.m) >= maxCached {
			c.mu.Unlock()
			st.Close()
			continue
		}
		c.m[q] = st
		c.mu.Unlock()
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}
