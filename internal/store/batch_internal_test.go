package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

func openBatchDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), Config{URL: filepath.Join(t.TempDir(), "batch.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if err := db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return db
}

func keys(t *testing.T, db *DB) string {
	t.Helper()
	var ks []string
	err := db.Read(context.Background(), func(tx *Tx) error {
		rows, err := tx.Query(context.Background(), `SELECT k FROM kv ORDER BY k`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			rows.Scan(&k)
			ks = append(ks, k)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(ks, ",")
}

// queued waits until n calls wait in the writer's queue.
func queued(t *testing.T, db *DB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(db.batch.reqs) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls queued, want %d", len(db.batch.reqs), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBatchIsolation holds one write open until eight others have queued
// behind it, so that all nine run in one shared transaction: the ones that
// return an error, panic or outlive their context leave nothing behind and
// run no AfterCommit; the others commit together, once, and each sees the
// writes of the calls before it.
func TestBatchIsolation(t *testing.T) {
	db := openBatchDB(t)
	ctx := context.Background()
	commits := db.batch.commits.Load()
	release := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	results := map[string]string{}
	after := map[string]bool{}
	n := 0
	write := func(name string, c context.Context, fn func(tx *Tx) error) {
		defer func() {
			// Queue in order behind a (once a is running).
			if name != "a" {
				n++
				queued(t, db, n)
			}
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					mu.Lock()
					results[name] = fmt.Sprint("panic: ", p)
					mu.Unlock()
				}
			}()
			err := db.Write(c, func(tx *Tx) error {
				tx.AfterCommit(func() { mu.Lock(); after[name] = true; mu.Unlock() })
				if _, err := tx.Exec(ctx, `INSERT INTO kv (k, v) VALUES ($1, 'x')`, name); err != nil {
					return err
				}
				return fn(tx)
			})
			mu.Lock()
			results[name] = fmt.Sprint(err)
			mu.Unlock()
		}()
	}
	started := make(chan struct{})
	write("a", ctx, func(*Tx) error { close(started); <-release; return nil })
	<-started
	write("b", ctx, func(*Tx) error { return nil })
	write("c", ctx, func(*Tx) error { return errors.New("c fails") })
	write("d", ctx, func(*Tx) error { panic("d panics") })
	cctx, cancel := context.WithCancel(ctx)
	write("e", cctx, func(*Tx) error { cancel(); return nil }) // ignores its context ending
	write("f", ctx, func(tx *Tx) error {
		// Sees a and b, which have not committed yet, but not c or d.
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM kv WHERE k IN ('a', 'b', 'c', 'd', 'e')`).Scan(&n); err != nil {
			return err
		}
		if n != 2 {
			return fmt.Errorf("f sees %d earlier rows, want 2", n)
		}
		return nil
	})
	write("g", ctx, func(tx *Tx) error { // a constraint violation, returned
		_, err := tx.Exec(ctx, `INSERT INTO kv (k, v) VALUES ('a', 'dup')`)
		return err
	})
	write("h", ctx, func(*Tx) error { return nil })
	queued(t, db, 7)
	close(release)
	wg.Wait()
	want := map[string]string{"a": "<nil>", "b": "<nil>", "c": "c fails", "d": "panic: d panics", "e": "context canceled",
		"f": "<nil>", "h": "<nil>"}
	for k, v := range want {
		if results[k] != v {
			t.Errorf("%s: %q, want %q", k, results[k], v)
		}
	}
	if !strings.Contains(results["g"], "UNIQUE") {
		t.Errorf("g: %q", results["g"])
	}
	if got := keys(t, db); got != "a,b,f,h" {
		t.Errorf("committed %s, want a,b,f,h", got)
	}
	var ran []string
	for k := range after {
		ran = append(ran, k)
	}
	sort.Strings(ran)
	if strings.Join(ran, ",") != "a,b,f,h" {
		t.Errorf("AfterCommit ran for %v", ran)
	}
	if n := db.batch.commits.Load() - commits; n != 1 {
		t.Errorf("%d commits for one batch", n)
	}
}

// TestBatchLost: a call that kills the shared transaction (here by ending
// it with ROLLBACK) loses the batch: the calls before it in the batch get
// an error instead of a commit, nothing of theirs is stored, and the calls
// queued after it run in the next transaction.
func TestBatchLost(t *testing.T) {
	db := openBatchDB(t)
	ctx := context.Background()
	release := make(chan struct{})
	errs := make(chan [2]string, 4)
	write := func(name string, fn func(tx *Tx) error) {
		go func() {
			err := db.Write(ctx, func(tx *Tx) error {
				if _, err := tx.Exec(ctx, `INSERT INTO kv (k, v) VALUES ($1, 'x')`, name); err != nil {
					return err
				}
				return fn(tx)
			})
			errs <- [2]string{name, fmt.Sprint(err)}
		}()
	}
	started := make(chan struct{})
	write("a", func(*Tx) error { close(started); <-release; return nil })
	<-started
	write("b", func(*Tx) error { return nil })
	queued(t, db, 1)
	write("c", func(tx *Tx) error { _, err := tx.Exec(ctx, `ROLLBACK`); return err })
	queued(t, db, 2)
	close(release)
	got := map[string]string{}
	for range 3 {
		e := <-errs
		got[e[0]] = e[1]
	}
	if !strings.Contains(got["a"], "transaction lost") || !strings.Contains(got["b"], "transaction lost") || got["c"] == "<nil>" {
		t.Errorf("results %v", got)
	}
	if k := keys(t, db); k != "" {
		t.Errorf("a lost batch left %s", k)
	}
	write("d", func(*Tx) error { return nil })
	if e := <-errs; e[1] != "<nil>" {
		t.Fatalf("write after a lost batch: %v", e)
	}
	if k := keys(t, db); k != "d" {
		t.Errorf("after a lost batch: %s", k)
	}
}

// TestBatchClose: Close lets the running and the queued writes finish and
// commit; Write after Close fails.
func TestBatchClose(t *testing.T) {
	db, err := Open(context.Background(), Config{URL: filepath.Join(t.TempDir(), "c.db")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)`)
		return err
	})
	started, release := make(chan struct{}), make(chan struct{})
	errs := make(chan error, 11)
	insert := func(k string, wait bool) {
		errs <- db.Write(ctx, func(tx *Tx) error {
			if wait {
				close(started)
				<-release
			}
			_, err := tx.Exec(ctx, `INSERT INTO kv (k, v) VALUES ($1, 'x')`, k)
			return err
		})
	}
	go insert("first", true)
	<-started
	for i := range 10 {
		go insert(fmt.Sprint(i), false)
	}
	queued(t, db, 10)
	closed := make(chan struct{})
	go func() { db.batch.close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("close returned while writes were queued")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	<-closed
	for range 11 {
		if err := <-errs; err != nil {
			t.Errorf("write queued before Close: %v", err)
		}
	}
	if err := db.Write(ctx, func(*Tx) error { return nil }); !errors.Is(err, errClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	var n int
	db.Read(ctx, func(tx *Tx) error { return tx.QueryRow(ctx, `SELECT COUNT(*) FROM kv`).Scan(&n) })
	if n != 11 {
		t.Errorf("%d rows committed, want 11", n)
	}
	db.Close()
}

// TestBatchFirstFails: a batch's first call runs without a savepoint, so
// when it fails (an error, a panic, its context ending) the writer rolls
// the whole transaction back: its writes are gone, its AfterCommit does
// not run, and the calls queued behind it commit all the same.
func TestBatchFirstFails(t *testing.T) {
	for _, how := range []string{"error", "panic", "context"} {
		t.Run(how, func(t *testing.T) {
			db := openBatchDB(t)
			ctx := context.Background()
			release := make(chan struct{})
			started := make(chan struct{})
			var wg sync.WaitGroup
			var mu sync.Mutex
			results := map[string]string{}
			afterA := false
			run := func(name string, c context.Context, fn func(tx *Tx) error) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() {
						if p := recover(); p != nil {
							mu.Lock()
							results[name] = fmt.Sprint("panic: ", p)
							mu.Unlock()
						}
					}()
					err := db.Write(c, func(tx *Tx) error {
						if _, err := tx.Exec(ctx, `INSERT INTO kv (k, v) VALUES ($1, 'x')`, name); err != nil {
							return err
						}
						return fn(tx)
					})
					mu.Lock()
					results[name] = fmt.Sprint(err)
					mu.Unlock()
				}()
			}
			actx, cancel := context.WithCancel(ctx)
			run("a", actx, func(tx *Tx) error {
				tx.AfterCommit(func() { afterA = true })
				close(started)
				<-release
				switch how {
				case "error":
					return errors.New("a fails")
				case "panic":
					panic("a panics")
				}
				cancel()
				return nil
			})
			<-started
			run("b", ctx, func(*Tx) error { return nil })
			queued(t, db, 1)
			run("c", ctx, func(*Tx) error { return nil })
			queued(t, db, 2)
			close(release)
			wg.Wait()
			want := map[string]string{"error": "a fails", "panic": "panic: a panics", "context": "context canceled"}[how]
			if results["a"] != want || results["b"] != "<nil>" || results["c"] != "<nil>" {
				t.Fatalf("results %v", results)
			}
			if got := keys(t, db); got != "b,c" {
				t.Errorf("committed %s, want b,c", got)
			}
			if afterA {
				t.Error("AfterCommit ran for the failed first call")
			}
		})
	}
}
