package lexmodels

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"lextrail/internal/store"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openTestDB(t testing.TB, d TestDriver) *store.DB {
	url := d.URL(t)
	if url == "" {
		url = "sqlite://" + filepath.Join(t.TempDir(), "lex.db")
	}
	db, err := store.Open(context.Background(), store.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestBuildLease shows that builds are coordinated through the database:
// of two workers (two nodes) only one claims a build; the other takes it
// over once the lease has run out, and the first one's late result is
// discarded.
func TestBuildLease(t *testing.T) { EachDriver(t, testBuildLease) }

func testBuildLease(t *testing.T, d TestDriver) {
	ctx := context.Background()
	db := openTestDB(t, d)
	clock := &testClock{t: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)}
	s := New(Config{DB: db, Now: clock.Now, Lease: time.Minute})
	sc := scope{"123456789012", "us-east-1"}
	err := db.Write(ctx, func(tx *store.Tx) error {
		_, _, err := s.storeBot(ctx, tx, sc, "LeaseBot", &BotDef{Locale: "en-US", IdleSessionTTLInSeconds: 300}, nil, true, clock.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	a, b := s.Worker(), New(Config{DB: db, Now: clock.Now, Lease: time.Minute}).Worker()
	jobs, err := a.dueBuilds(ctx)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("due: %v %v", jobs, err)
	}
	j := jobs[0]
	if ok, err := a.claimBuild(ctx, j); !ok || err != nil {
		t.Fatalf("a claim: %v %v", ok, err)
	}
	if ok, err := b.claimBuild(ctx, j); ok || err != nil {
		t.Fatalf("b claimed a leased build: %v %v", ok, err)
	}
	if due, _ := b.dueBuilds(ctx); len(due) != 0 {
		t.Fatalf("leased build listed as due: %v", due)
	}
	clock.Advance(2 * time.Minute)
	if ok, err := b.claimBuild(ctx, j); !ok || err != nil {
		t.Fatalf("b could not take over an expired lease: %v %v", ok, err)
	}
	if err := a.runBuild(ctx, j); err != nil { // a's late result
		t.Fatal(err)
	}
	status := func() (st, reason string) {
		db.Read(ctx, func(tx *store.Tx) error {
			r, err := getResource(ctx, tx, sc, kindBot, "LeaseBot", latest)
			if err == nil {
				st, reason = r.Status, r.FailureReason
			}
			return err
		})
		return
	}
	if st, _ := status(); st != statusBuilding {
		t.Fatalf("a wrote its result without the lease: %s", st)
	}
	if err := b.runBuild(ctx, j); err != nil {
		t.Fatal(err)
	}
	if st, reason := status(); st != statusFailed || reason == "" {
		t.Fatalf("after b: %s %q", st, reason)
	}
}

// TestBuildSuperseded: a Put during a build makes the build's result stale.
func TestBuildSuperseded(t *testing.T) { EachDriver(t, testBuildSuperseded) }

func testBuildSuperseded(t *testing.T, d TestDriver) {
	ctx := context.Background()
	db := openTestDB(t, d)
	clock := &testClock{t: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)}
	s := New(Config{DB: db, Now: clock.Now})
	sc := scope{"123456789012", "us-east-1"}
	var ck string
	db.Write(ctx, func(tx *store.Tx) error {
		out, _, err := s.storeBot(ctx, tx, sc, "GenBot", &BotDef{Locale: "en-US", IdleSessionTTLInSeconds: 300}, nil, true, clock.Now())
		if err == nil {
			ck = out.Checksum
		}
		return err
	})
	w := s.Worker()
	jobs, _ := w.dueBuilds(ctx)
	if ok, _ := w.claimBuild(ctx, jobs[0]); !ok {
		t.Fatal("claim")
	}
	err := db.Write(ctx, func(tx *store.Tx) error {
		_, _, err := s.storeBot(ctx, tx, sc, "GenBot", &BotDef{Locale: "en-US", IdleSessionTTLInSeconds: 600}, &ck, true, clock.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.runBuild(ctx, jobs[0]); err != nil {
		t.Fatal(err)
	}
	jobs2, _ := w.dueBuilds(ctx)
	if len(jobs2) != 1 || jobs2[0].gen == jobs[0].gen {
		t.Fatalf("the new definition's build is not queued: %+v", jobs2)
	}
}
