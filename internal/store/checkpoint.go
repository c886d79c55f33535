package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// DefaultCheckpointInterval is Config.CheckpointInterval's default. A
// pass copies every page the WAL changed since the last one, however many
// times it changed: under a steady stream of turns the same hot pages
// (sessions, utterance statistics) are in every pass, so passes every
// second instead of every 200 ms copy them a fifth as often (the Lex
// runtime load: ~13 µs of CPU per turn less), for a WAL that grows to a
// second of commits (~10 MB at 3,000 turns/s) between passes.
const DefaultCheckpointInterval = time.Second

// checkpointer copies SQLite's write-ahead log back into the database
// file in the background. SQLite's own automatic checkpoint runs inside
// the commit that takes the WAL past 1,000 pages: that commit (and every
// write queued behind the single writer) waits while ~4 MB are copied and
// the database file is fsynced, which was most of the Lex runtime's
// latency tail. Here the writer connection has wal_autocheckpoint(0) and
// a connection of its own runs PRAGMA wal_checkpoint(PASSIVE) every
// interval (a pass with nothing new to copy returns at once, without a
// sync, so an idle database costs nothing): a passive checkpoint takes no
// writer lock, so commits go on while it copies, and it never waits for
// readers (what it cannot copy yet, a later pass does). When the database
// is closed, the last connection's close checkpoints what remains.
type checkpointer struct {
	conn     *sql.DB
	interval time.Duration
	stop     chan struct{}
	done     sync.WaitGroup
	closed   sync.Once
	mu       sync.Mutex
	// passes counts checkpoints run and backfilled is the last one's
	// count of WAL frames in the database file (tests).
	passes, backfilled int64
}

func startCheckpointer(conn *sql.DB, interval time.Duration) *checkpointer {
	c := &checkpointer{conn: conn, interval: interval, stop: make(chan struct{})}
	c.done.Add(1)
	go c.run()
	return c
}

func (c *checkpointer) run() {
	defer c.done.Done()
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		if err := c.checkpoint(context.Background()); err != nil {
			slog.Warn("store: background WAL checkpoint failed; the next pass retries", "err", err)
		}
	}
}

// checkpoint runs one passive checkpoint.
func (c *checkpointer) checkpoint(ctx context.Context) error {
	var busy, logFrames, done int64
	if err := c.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &done); err != nil {
		return fmt.Errorf("wal_checkpoint: %w", err)
	}
	c.mu.Lock()
	c.passes++
	c.backfilled = done
	c.mu.Unlock()
	return nil
}

// close stops the background passes and closes the connection (once:
// DB.Close may be called again).
func (c *checkpointer) close() error {
	var err error
	c.closed.Do(func() {
		close(c.stop)
		c.done.Wait()
		err = c.conn.Close()
	})
	return err
}

// Checkpoint runs one passive WAL checkpoint now, as the background
// checkpointer does every interval (benchmarks that charge the copy of
// what they wrote to themselves). Without a checkpointer (PostgreSQL, or
// SQLite with background checkpoints off) it does nothing.
func (db *DB) Checkpoint(ctx context.Context) error {
	if db.ckpt == nil {
		return nil
	}
	return db.ckpt.checkpoint(ctx)
}
