package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"
)

// Migrations are embedded SQL files named NNNN_description.sql, applied in
// name order, each in its own transaction, recorded in schema_migrations.
// Files are never edited once landed; a change is a new file. A statement
// preceded by a line "-- driver: sqlite" or "-- driver: postgres" runs on
// that driver only (for what the portable dialect cannot say, such as
// SQLite's WITHOUT ROWID or each driver's JSON aggregate). Ranges by area:
// 0001-0099 core, 0100-0199 IAM/STS, 0200-0299 audit, 0300-0399 Lex models,
// 0400-0499 S3, 0500-0599 SNS, 0600-0699 KMS, 0700-0799 trails,
// 0800-0899 Lex runtime, 0900-0999 CloudWatch Logs, 1000-1099 conversation logs.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// lockID is the PostgreSQL advisory lock that serializes migrations across
// nodes starting at the same time.
const lockID = 7_310_000_001

// Migrations returns the names of the embedded migrations in the order they
// are applied (the values recorded in schema_migrations.name).
func Migrations() []string {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		panic(err) // the pattern is constant and valid
	}
	sort.Strings(names)
	for i, n := range names {
		names[i] = strings.TrimPrefix(n, "migrations/")
	}
	return names
}

func (db *DB) migrate(ctx context.Context) error {
	// On SQLite the single write connection (BEGIN IMMEDIATE, busy_timeout)
	// serializes migrating processes. On PostgreSQL an advisory lock does,
	// and everything, including creating schema_migrations (concurrent
	// CREATE TABLE IF NOT EXISTS can fail on pg_type), runs on the
	// connection that holds the lock, so migrating never needs a second
	// pooled connection.
	var on beginner = db.write
	if db.driver == DriverPostgres {
		conn, err := db.write.Conn(ctx)
		if err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, lockID); err != nil {
			return fmt.Errorf("store: migration lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockID)
		on = conn
	}
	err := db.run(ctx, on, false, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_ms BIGINT NOT NULL)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: migrations table: %w", err)
	}
	for _, base := range Migrations() {
		if db.migrateBefore != "" && base >= db.migrateBefore {
			break
		}
		body, err := migrationFS.ReadFile("migrations/" + base)
		if err != nil {
			return err
		}
		err = db.run(ctx, on, false, func(tx *Tx) error {
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE name = $1`, base).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			for _, stmt := range splitStatements(string(body)) {
				if stmt.driver != "" && stmt.driver != DriverSQLite && stmt.driver != DriverPostgres {
					return fmt.Errorf("%s: unknown driver %q", base, stmt.driver)
				}
				if stmt.driver != "" && stmt.driver != db.driver {
					continue
				}
				if _, err := tx.Exec(ctx, stmt.sql); err != nil {
					return fmt.Errorf("%s: %w", base, err)
				}
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name, applied_ms) VALUES ($1, $2)`, base, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
	}
	return nil
}

// statement is one statement of a migration; driver, if set, is the only
// driver it runs on.
type statement struct{ sql, driver string }

// splitStatements splits a migration on semicolons at line ends. Migrations
// keep to plain DDL, so no statement contains a semicolon inside a literal.
// A comment line "-- driver: NAME" restricts the statement that follows
// it to that driver.
func splitStatements(s string) []statement {
	var out []statement
	var cur strings.Builder
	driver := ""
	for _, line := range strings.Split(s, "\n") {
		trimmed := strings.TrimSpace(line)
		if d, ok := strings.CutPrefix(trimmed, "-- driver:"); ok && cur.Len() == 0 {
			driver = strings.TrimSpace(d)
			continue
		}
		if strings.HasPrefix(trimmed, "--") || trimmed == "" {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			stmt := strings.TrimSpace(cur.String())
			out = append(out, statement{strings.TrimSuffix(stmt, ";"), driver})
			cur.Reset()
			driver = ""
		}
	}
	if rest := strings.TrimSpace(cur.String()); rest != "" {
		out = append(out, statement{rest, driver})
	}
	return out
}
