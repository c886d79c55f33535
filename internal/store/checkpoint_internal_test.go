package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBackgroundCheckpoint: with the checkpointer the write connection
// never checkpoints in a commit (wal_autocheckpoint 0), the background
// passes copy the WAL into the database file while writes go on, and
// everything written is there after a reopen; with a negative interval
// SQLite's automatic checkpoint is left on.
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ckpt.db")
	db, err := Open(ctx, Config{URL: path, CheckpointInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var auto int
	if err := db.write.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("writer wal_autocheckpoint = %d (%v), want 0", auto, err)
	}
	if err := db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `CREATE TABLE blobs (id BIGINT PRIMARY KEY, v TEXT NOT NULL)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 8000) // two pages a row
	const rows = 1500
	for i := 0; i < rows; i++ {
		if err := db.Write(ctx, func(tx *Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO blobs (id, v) VALUES ($1, $2)`, i, big)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		db.ckpt.mu.Lock()
		passes, backfilled := db.ckpt.passes, db.ckpt.backfilled
		db.ckpt.mu.Unlock()
		if passes > 0 && backfilled > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no background checkpoint copied anything (passes %d, backfilled %d)", passes, backfilled)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The database file itself holds the rows now (3,000+ pages).
	if fi, err := os.Stat(path); err != nil || fi.Size() < 1<<20 {
		t.Fatalf("database file after checkpoints: %v %v", fi, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil { // a second Close is harmless
		t.Fatal(err)
	}
	db, err = Open(ctx, Config{URL: path, CheckpointInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.ckpt != nil {
		t.Fatal("a negative CheckpointInterval started the checkpointer")
	}
	if err := db.write.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&auto); err != nil || auto != 1000 {
		t.Fatalf("writer wal_autocheckpoint = %d (%v), want SQLite's 1000", auto, err)
	}
	var n int
	if err := db.Read(ctx, func(tx *Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM blobs WHERE length(v) = 8000`).Scan(&n)
	}); err != nil || n != rows {
		t.Fatalf("rows after reopen: %d (%v), want %d", n, err, rows)
	}
}

// TestCheckpointNow: DB.Checkpoint copies what was written at once, with
// the background passes far apart.
func TestCheckpointNow(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, Config{URL: filepath.Join(t.TempDir(), "now.db"), CheckpointInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT NOT NULL)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if err := db.Write(ctx, func(tx *Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO t (id, v) VALUES ($1, $2)`, i, strings.Repeat("y", 5000))
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	db.ckpt.mu.Lock()
	before := db.ckpt.passes
	db.ckpt.mu.Unlock()
	if err := db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	db.ckpt.mu.Lock()
	passes, done := db.ckpt.passes, db.ckpt.backfilled
	db.ckpt.mu.Unlock()
	if passes != before+1 || done < 20 {
		t.Errorf("after Checkpoint: %d passes (was %d), %d frames copied; want one more pass, >= 20 frames", passes, before, done)
	}
}
