package delivery

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"lextrail/internal/audit"
	"lextrail/internal/awserr"
	"lextrail/internal/objstore"
	"lextrail/internal/policy"
	"lextrail/internal/store"
	"lextrail/internal/store/pgtest"
	"lextrail/internal/trail"
)

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil))) // the workers' retry warnings
	pgtest.Main(m)
}

var bg = context.Background()

// memBuckets is an in-memory bucket that records every Put.
type memBuckets struct {
	mu   sync.Mutex
	objs map[string][]byte
	puts map[string]int
	at   map[string][]int64 // key -> clock of each put
	deny atomic.Bool
	now  func() time.Time
}

func newBuckets(now func() time.Time) *memBuckets {
	return &memBuckets{objs: map[string][]byte{}, puts: map[string]int{}, at: map[string][]int64{}, now: now}
}

func (m *memBuckets) Authorize(_ context.Context, bucket, key, action string, p *policy.Principal, cond map[string][]string) error {
	if m.deny.Load() {
		return awserr.New(403, "AccessDenied", "Access Denied")
	}
	if p.Service != trail.ServicePrincipal || action != "s3:PutObject" || cond["s3:x-amz-acl"][0] != "bucket-owner-full-control" || len(cond["aws:sourcearn"]) != 1 {
		return awserr.New(403, "AccessDenied", "Access Denied")
	}
	return nil
}

func (m *memBuckets) Put(_ context.Context, bucket, key string, r io.Reader, opts objstore.PutOptions) (objstore.Info, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return objstore.Info{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objs[bucket+"/"+key] = b
	m.puts[bucket+"/"+key]++
	m.at[bucket+"/"+key] = append(m.at[bucket+"/"+key], m.now().UnixMilli())
	return objstore.Info{Key: key, Size: int64(len(b))}, nil
}

// events returns eventID -> number of log files holding it.
func (m *memBuckets) events(t testing.TB) map[string]int { return m.eventsUnder(t, "") }

// eventsUnder counts the events of the log files under bucket/prefix.
func (m *memBuckets) eventsUnder(t testing.TB, prefix string) map[string]int {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int{}
	for k, b := range m.objs {
		if strings.Contains(k, "CloudTrail-Digest") || !strings.HasPrefix(k, prefix) {
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(zr)
		var f struct {
			Records []struct {
				EventID string `json:"eventID"`
			} `json:"Records"`
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		for _, r := range f.Records {
			out[r.EventID]++
		}
	}
	return out
}

// clock is a settable clock shared by a test's workers.
type clock struct{ ms atomic.Int64 }

func (c *clock) Now() time.Time          { return time.UnixMilli(c.ms.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

func newClock() *clock {
	c := &clock{}
	c.ms.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	return c
}

func openDB(t testing.TB, pg bool) (*store.DB, string) {
	url := filepath.Join(t.TempDir(), "d.db")
	if pg {
		url = pgtest.Start(t)
	}
	db, err := store.Open(bg, store.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, url
}

const acct = "123456789012"

// newEvent builds an event of acct with a ~1 KB record.
func newEvent(region string, at time.Time, pad int) *audit.Event {
	id := uuid.NewString()
	rec := fmt.Sprintf(`{"eventVersion":"1.08","eventTime":%q,"eventSource":"lex.amazonaws.com","eventName":"PutBot","awsRegion":%q,"eventID":%q,"requestParameters":{"pad":%q},"readOnly":false,"recipientAccountId":%q,"eventCategory":"Management"}`,
		at.UTC().Format(audit.EventTimeLayout), region, id, strings.Repeat("x", pad), acct)
	return &audit.Event{EventID: id, RequestID: id, AccountID: acct, Region: region, TimeMs: at.Truncate(time.Second).UnixMilli(),
		Category: audit.CategoryManagement, EventName: "PutBot", EventSource: "lex.amazonaws.com", Username: "root", Record: []byte(rec)}
}

func insert(t testing.TB, db *store.DB, evs ...*audit.Event) {
	t.Helper()
	if err := db.Write(bg, func(tx *store.Tx) error { return audit.Insert(bg, db, tx, evs) }); err != nil {
		t.Fatal(err)
	}
}

// newTrail creates a logging trail delivering to bucket b under prefix
// name.
func newTrail(t testing.TB, db *store.DB, name string, multi bool, now time.Time) *trail.Trail {
	t.Helper()
	tr := &trail.Trail{ID: uuid.NewString(), AccountID: acct, HomeRegion: "us-east-1", Name: name, ARN: trail.ARN("us-east-1", acct, name),
		Settings: trail.Settings{Bucket: "b", Prefix: name, IncludeGlobal: true, MultiRegion: multi, Selectors: trail.DefaultSelectors()}, CreatedMs: now.UnixMilli()}
	err := db.Write(bg, func(tx *store.Tx) error {
		if err := trail.Insert(bg, tx, tr); err != nil {
			return err
		}
		return trail.StartLogging(bg, tx, tr, now.UnixMilli())
	})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func drivers(t *testing.T, f func(t *testing.T, pg bool)) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) { f(t, pg) })
	}
}

// TestCrashReplay: a worker dies between writing a batch's objects (in
// several parts and regions) and committing the delivery; the next worker
// (after the lease expires) rewrites exactly the same objects, commits
// once, and every event is in exactly one file.
func TestCrashReplay(t *testing.T) {
	drivers(t, func(t *testing.T, pg bool) {
		db, _ := openDB(t, pg)
		clk := newClock()
		tr := newTrail(t, db, "crashy", true, clk.Now())
		var ids []string
		for i := 0; i < 60; i++ {
			ev := newEvent([]string{"us-east-1", "eu-west-1"}[i%2], clk.Now(), 900)
			ids = append(ids, ev.EventID)
			insert(t, db, ev)
		}
		buckets := newBuckets(clk.Now)
		crashed := false
		a := New(Config{DB: db, Buckets: buckets, Interval: time.Minute, MaxFileBytes: 8000, Owner: "a", Now: clk.Now,
			FailPoint: func(p string) error {
				if p == "after-put" && !crashed {
					crashed = true
					return ErrCrash
				}
				return nil
			}})
		clk.Advance(time.Minute)
		if err := a.Pass(bg); !errors.Is(err, ErrCrash) {
			t.Fatalf("pass: %v", err)
		}
		first := map[string][]byte{}
		for k, v := range buckets.objs {
			first[k] = v
		}
		if len(first) < 6 {
			t.Fatalf("%d objects before the crash; want several parts per region", len(first))
		}
		files, _ := trail.Files(bg, db, tr.ID)
		if len(files) != 0 {
			t.Fatalf("%d files recorded though the worker crashed before committing", len(files))
		}
		// Another process, before the lease expired: hands off.
		b := New(Config{DB: db, Buckets: buckets, Interval: time.Minute, MaxFileBytes: 8000, Owner: "b", Now: clk.Now})
		clk.Advance(30 * time.Second)
		b.Pass(bg)
		if files, _ := trail.Files(bg, db, tr.ID); len(files) != 0 {
			t.Fatal("another worker delivered a leased trail")
		}
		clk.Advance(2 * time.Minute)
		if err := b.Pass(bg); err != nil {
			t.Fatal(err)
		}
		if len(buckets.objs) != len(first) {
			t.Fatalf("replay wrote %d objects, the crashed attempt %d", len(buckets.objs), len(first))
		}
		for k, v := range first {
			if !bytes.Equal(buckets.objs[k], v) || buckets.puts[k] != 2 {
				t.Fatalf("%s: replay differs or was not rewritten (%d puts)", k, buckets.puts[k])
			}
		}
		got := buckets.events(t)
		for _, id := range ids {
			if got[id] != 1 {
				t.Fatalf("event %s in %d files", id, got[id])
			}
		}
		files, _ = trail.Files(bg, db, tr.ID)
		if len(files) != len(first) {
			t.Fatalf("%d files recorded, %d written", len(files), len(first))
		}
		// The crashed worker comes back: it cannot commit anything twice.
		clk.Advance(3 * time.Minute)
		a.Pass(bg)
		if got := buckets.events(t); len(got) != len(ids) {
			t.Fatalf("after the crashed worker's return: %d events", len(got))
		}
		for _, id := range ids {
			if buckets.events(t)[id] != 1 {
				t.Fatal("duplicate after the crashed worker's return")
			}
		}
	})
}

// TestLateCommit (PostgreSQL): an event whose transaction took its
// sequence number but commits after a delivery pass is delivered by the
// next pass, not skipped; writers behind it wait for it.
func TestLateCommit(t *testing.T) {
	db, _ := openDB(t, true)
	clk := newClock()
	newTrail(t, db, "late", false, clk.Now())
	insert(t, db, newEvent("us-east-1", clk.Now(), 10))
	buckets := newBuckets(clk.Now)
	w := New(Config{DB: db, Buckets: buckets, Interval: time.Second, Owner: "w", Now: clk.Now})

	late := newEvent("us-east-1", clk.Now(), 10)
	inTx, release := make(chan struct{}), make(chan struct{})
	lateDone := make(chan error, 1)
	go func() {
		lateDone <- db.Write(bg, func(tx *store.Tx) error {
			if err := audit.Insert(bg, db, tx, []*audit.Event{late}); err != nil {
				return err
			}
			close(inTx)
			<-release // commit late
			return nil
		})
	}()
	<-inTx
	after := newEvent("us-east-1", clk.Now(), 10)
	afterDone := make(chan error, 1)
	go func() {
		afterDone <- db.Write(bg, func(tx *store.Tx) error { return audit.Insert(bg, db, tx, []*audit.Event{after}) })
	}()
	clk.Advance(time.Second)
	if err := w.Pass(bg); err != nil {
		t.Fatal(err)
	}
	got := buckets.events(t)
	if len(got) != 1 || got[late.EventID] != 0 || got[after.EventID] != 0 {
		t.Fatalf("first pass delivered %v: past an uncommitted event", got)
	}
	select {
	case err := <-afterDone:
		t.Fatalf("a later writer committed before the late one: %v", err)
	default:
	}
	close(release)
	if err := <-lateDone; err != nil {
		t.Fatal(err)
	}
	if err := <-afterDone; err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if err := w.Pass(bg); err != nil {
		t.Fatal(err)
	}
	got = buckets.events(t)
	if len(got) != 3 || got[late.EventID] != 1 || got[after.EventID] != 1 {
		t.Fatalf("second pass: %v", got)
	}
}

// TestTwoWorkersOnePostgres: two workers with their own connections (two
// processes) pass concurrently over many windows while events are
// written; workers pause at random so leases expire and change hands.
// Every event is delivered once, every object written once, and no trail
// has two batches in one window.
func TestTwoWorkersOnePostgres(t *testing.T) {
	_, url := openDB(t, true)
	dbA, err := store.Open(bg, store.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer dbA.Close()
	dbB, err := store.Open(bg, store.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer dbB.Close()
	clk := newClock()
	trails := []*trail.Trail{newTrail(t, dbA, "one", true, clk.Now()), newTrail(t, dbA, "two", false, clk.Now())}
	buckets := newBuckets(clk.Now)
	var putsA, putsB atomic.Int64
	mk := func(db *store.DB, owner string, n *atomic.Int64) *Worker {
		return New(Config{DB: db, Buckets: counting{buckets, n}, Interval: time.Second, LeaseTTL: 1500 * time.Millisecond, Owner: owner, Now: clk.Now})
	}
	a, b := mk(dbA, "a", &putsA), mk(dbB, "b", &putsB)
	var ids sync.Map // event ID -> region
	var writers sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 3; w++ {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(3 * time.Millisecond):
				}
				ev := newEvent([]string{"us-east-1", "eu-west-1"}[rand.IntN(2)], clk.Now(), 200)
				if err := dbA.Write(bg, func(tx *store.Tx) error { return audit.Insert(bg, dbA, tx, []*audit.Event{ev}) }); err != nil {
					t.Error(err)
					return
				}
				ids.Store(ev.EventID, ev.Region)
			}
		}()
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rounds := 60
	for r := 0; r < rounds+5; r++ {
		if r == rounds {
			close(stop)
			writers.Wait()
		}
		clk.Advance(time.Second)
		var wg sync.WaitGroup
		for _, w := range []*Worker{a, b} {
			if rng.IntN(4) == 0 && r < rounds {
				continue // this process is paused this round
			}
			wg.Add(1)
			go func() { defer wg.Done(); w.Pass(bg) }()
		}
		wg.Wait()
		time.Sleep(5 * time.Millisecond)
	}
	// Trail one (multi-region) has every event once, trail two (us-east-1)
	// every us-east-1 event once.
	one, two := buckets.eventsUnder(t, "b/one/"), buckets.eventsUnder(t, "b/two/")
	n, east := 0, 0
	ids.Range(func(k, v any) bool {
		n++
		id := k.(string)
		want := 0
		if v.(string) == "us-east-1" {
			want = 1
			east++
		}
		if one[id] != 1 || two[id] != want {
			t.Errorf("event %s (%s) delivered %d and %d times", id, v, one[id], two[id])
		}
		return true
	})
	if len(one) != n || len(two) != east {
		t.Errorf("%d and %d events delivered, %d (%d in us-east-1) written", len(one), len(two), n, east)
	}
	for k, c := range buckets.puts {
		if c != 1 {
			t.Errorf("%s written %d times", k, c)
		}
	}
	// Each window (a second of the clock) delivered once per trail: all
	// the files of a window come from one batch.
	leases := map[string]int{}
	for _, tr := range trails {
		files, err := trail.Files(bg, dbA, tr.ID)
		if err != nil {
			t.Fatal(err)
		}
		perWindow := map[int64]map[int64]bool{} // put time -> batches
		for _, f := range files {
			at := buckets.at["b/"+f.Key][0]
			if perWindow[at] == nil {
				perWindow[at] = map[int64]bool{}
			}
			perWindow[at][f.BatchNo] = true
		}
		for at, batches := range perWindow {
			if len(batches) > 1 {
				t.Errorf("trail %s: %d batches in the window at %d", tr.Name, len(batches), at)
			}
		}
		leases[tr.Name] = len(perWindow)
	}
	t.Logf("%d events (%d in us-east-1) in %d objects; windows delivered per trail %v", n, east, len(buckets.objs), leases)
	if n < 100 || putsA.Load() == 0 || putsB.Load() == 0 {
		t.Fatalf("%d events written; objects put by a: %d, by b: %d (both should have worked)", n, putsA.Load(), putsB.Load())
	}
}

// counting counts a worker's puts.
type counting struct {
	*memBuckets
	n *atomic.Int64
}

func (c counting) Put(ctx context.Context, bucket, key string, r io.Reader, opts objstore.PutOptions) (objstore.Info, error) {
	c.n.Add(1)
	return c.memBuckets.Put(ctx, bucket, key, r, opts)
}

// TestDeniedThenAllowed: a bucket that refuses writes keeps the batch
// (status shows the error code, retries back off), and once it accepts
// them everything is delivered once.
func TestDeniedThenAllowed(t *testing.T) {
	db, _ := openDB(t, false)
	clk := newClock()
	tr := newTrail(t, db, "denied", false, clk.Now())
	buckets := newBuckets(clk.Now)
	w := New(Config{DB: db, Buckets: buckets, Interval: time.Minute, Owner: "w", Now: clk.Now, MinBackoff: time.Second, MaxBackoff: 4 * time.Minute})
	buckets.deny.Store(true)
	var ids []string
	for i := 0; i < 60; i++ {
		ev := newEvent("us-east-1", clk.Now(), 50)
		ids = append(ids, ev.EventID)
		insert(t, db, ev)
		clk.Advance(time.Minute)
		w.Pass(bg)
	}
	cur, _ := trail.Reload(bg, db, tr.ID)
	if cur.Status.LatestDeliveryError != "AccessDenied" || cur.Status.LatestDeliveryMs != 0 || cur.Status.LatestDeliveryAttemptMs == 0 || cur.CursorSeq != 0 {
		t.Fatalf("status while denied: %+v cursor %d", cur.Status, cur.CursorSeq)
	}
	b, _ := trail.PendingBatch(bg, db, tr.ID)
	if b == nil || b.Attempts < 10 || b.Attempts > 40 {
		t.Fatalf("pending batch %+v: retries should back off (1s doubling to 4m, over an hour)", b)
	}
	buckets.deny.Store(false)
	for i := 0; i < 10; i++ {
		clk.Advance(time.Minute)
		w.Pass(bg)
	}
	got := buckets.events(t)
	for _, id := range ids {
		if got[id] != 1 {
			t.Fatalf("event %s delivered %d times", id, got[id])
		}
	}
	cur, _ = trail.Reload(bg, db, tr.ID)
	if cur.Status.LatestDeliveryError != "" || cur.Status.LatestDeliveryMs == 0 {
		t.Fatalf("status after recovery: %+v", cur.Status)
	}
}

// TestFileRecordPruned: the record of delivered files is kept for
// FileRecord, then forgotten (the objects stay).
func TestFileRecordPruned(t *testing.T) {
	db, _ := openDB(t, false)
	clk := newClock()
	tr := newTrail(t, db, "pruned", false, clk.Now())
	insert(t, db, newEvent("us-east-1", clk.Now(), 10))
	buckets := newBuckets(clk.Now)
	w := New(Config{DB: db, Buckets: buckets, Interval: time.Minute, Owner: "w", Now: clk.Now, FileRecord: time.Hour})
	clk.Advance(time.Minute)
	w.Pass(bg)
	if files, _ := trail.Files(bg, db, tr.ID); len(files) != 1 {
		t.Fatalf("%d files recorded", len(files))
	}
	clk.Advance(30 * time.Minute)
	w.Pass(bg)
	if files, _ := trail.Files(bg, db, tr.ID); len(files) != 1 {
		t.Fatal("record dropped early")
	}
	clk.Advance(time.Hour)
	w.Pass(bg)
	if files, _ := trail.Files(bg, db, tr.ID); len(files) != 0 || len(buckets.objs) != 1 {
		t.Fatalf("after FileRecord: %d records, %d objects", len(files), len(buckets.objs))
	}
}
