package cloudtrail_test

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	mrand "math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"lextrail/internal/objstore/localdir"
	"lextrail/internal/server"
	"lextrail/internal/store/pgtest"
	"lextrail/internal/testenv"
	"lextrail/internal/trail"
	"lextrail/internal/trail/delivery"
)

// startedTrail creates bucket b with the policy and a logging trail; it
// returns the sequence number of the StartLogging event.
func startedTrail(t *testing.T, e *trailEnv, name string) (policy string, startReq string) {
	t.Helper()
	arn := trail.ARN("us-east-1", e.AccountID, name)
	policy = trailPolicy("ct-faults", grant{e.AccountID, arn, ""})
	e.bucket("ct-faults", policy)
	ct := e.ct("us-east-1")
	must(t, errOf(ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String(name), S3BucketName: aws.String("ct-faults")})))
	out, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return policy, reqID(out)
}

// TestBucketDeniesForAnHour: the bucket policy stops allowing CloudTrail
// for an hour (injected clock): GetTrailStatus shows AccessDenied and the
// attempts, nothing is lost; once the policy is back every event of the
// hour is delivered, each once, and the error is gone.
func TestBucketDeniesForAnHour(t *testing.T) {
	e := newTrailEnv(t)
	policy, start := startedTrail(t, e, "patient")
	ct := e.ct("us-east-1")
	must(t, errOf(ct.ListTrails(ctx, &cloudtrail.ListTrailsInput{})))
	e.tick(time.Minute)
	st, _ := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("patient")})
	if st.LatestDeliveryTime == nil || st.LatestDeliveryError != nil {
		t.Fatalf("first delivery: %+v", st)
	}
	firstDelivery := *st.LatestDeliveryTime
	must(t, errOf(e.s3().DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String("ct-faults")})))
	var attempts []time.Time
	for i := 0; i < 12; i++ {
		must(t, errOf(ct.ListTrails(ctx, &cloudtrail.ListTrailsInput{})))
		e.tick(5 * time.Minute)
		st, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("patient")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(st.LatestDeliveryError) != "AccessDenied" || !st.LatestDeliveryTime.Equal(firstDelivery) || !aws.ToBool(st.IsLogging) {
			t.Fatalf("status while denied: %+v", st)
		}
		attempts = append(attempts, mustTime(t, aws.ToString(st.LatestDeliveryAttemptTime)))
	}
	if !attempts[len(attempts)-1].After(attempts[0]) {
		t.Fatalf("no retries: %v", attempts)
	}
	e.setPolicy("ct-faults", policy)
	hist := e.history()
	e.tick(5 * time.Minute) // the pending batch
	e.tick(time.Minute)     // the events since
	st, _ = ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("patient")})
	if st.LatestDeliveryError != nil || !st.LatestDeliveryTime.After(firstDelivery) {
		t.Fatalf("status after recovery: %+v", st)
	}
	s := seqOf(t, hist, start)
	expectExactly(t, "after an hour of AccessDenied", delivered(t, e, "ct-faults", "AWSLogs/", hist), hist, func(h histEvent) bool {
		return h.ev.EventCategory == "Management" && h.ev.RecipientAccountID == e.AccountID && h.seq >= s && h.ev.AWSRegion == "us-east-1"
	})
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return v
}

// TestKilledDuringDelivery: the server dies after writing a batch's
// objects and before committing the delivery (an injected failure point
// stands for the kill: nothing after it runs, the lease is not given
// back). A new server on the same data directory takes the trail over
// once the lease expires, rewrites the same objects and commits once: no
// event lost, none doubled.
func TestKilledDuringDelivery(t *testing.T) {
	dir := t.TempDir()
	var root struct{ id, secret string }
	var start string
	var crashedAt time.Time
	atCrash := map[string][]byte{}
	t.Run("killed", func(t *testing.T) {
		e := newTrailEnv(t, func(c *server.Config) {
			c.DataDir = dir
			c.TrailHooks.Owner = "first"
			c.TrailHooks.FailPoint = func(p string) error {
				if p == "after-put" {
					return delivery.ErrCrash
				}
				return nil
			}
		})
		root.id, root.secret = e.Root.AccessKeyID, e.Root.SecretAccessKey
		_, start = startedTrail(t, e, "survivor")
		for i := 0; i < 5; i++ {
			must(t, errOf(e.ct([]string{"us-east-1", "eu-west-1"}[i%2]).ListTrails(ctx, &cloudtrail.ListTrailsInput{})))
		}
		e.Clock.Advance(time.Minute)
		if err := e.Server.Trails.Pass(ctx); !errors.Is(err, delivery.ErrCrash) {
			t.Fatalf("pass: %v", err)
		}
		crashedAt = e.Clock.Now()
		for _, o := range e.objects("ct-faults", "AWSLogs/") {
			atCrash[o.Key] = o.Body
		}
		st, _ := e.ct("us-east-1").GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("survivor")})
		if len(atCrash) == 0 || st.LatestDeliveryTime != nil {
			t.Fatalf("at the crash: %d objects, status %+v", len(atCrash), st)
		}
	})
	// The restarted server.
	e := newTrailEnv(t, func(c *server.Config) {
		c.DataDir = dir
		c.TrailHooks.Owner = "second"
	})
	e.Root.AccessKeyID, e.Root.SecretAccessKey = root.id, root.secret
	e.Clock.Set(crashedAt.Add(30 * time.Second))
	e.pass()
	if st, _ := e.ct("us-east-1").GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("survivor")}); st.LatestDeliveryTime != nil {
		t.Fatal("delivered while the dead server's lease was still valid")
	}
	hist := e.history()
	e.tick(3 * time.Minute)
	// The crashed batch's objects, rewritten under the same keys with the
	// same bytes (gzip included), and a new file for the calls since.
	after := map[string][]byte{}
	for _, o := range e.objects("ct-faults", "AWSLogs/") {
		after[o.Key] = o.Body
	}
	for k, b := range atCrash {
		if got, ok := after[k]; !ok || string(got) != string(b) {
			t.Fatalf("%s: not rewritten identically by the replay", k)
		}
	}
	if len(after) != len(atCrash)+1 {
		t.Fatalf("%d objects after the replay, %d at the crash", len(after), len(atCrash))
	}
	s := seqOf(t, hist, start)
	last := hist[len(hist)-1].seq
	expectExactly(t, "after the kill", delivered(t, e, "ct-faults", "AWSLogs/", hist), hist, func(h histEvent) bool {
		return h.ev.EventCategory == "Management" && h.ev.RecipientAccountID == e.AccountID && h.seq >= s && h.seq <= last && h.ev.AWSRegion == "us-east-1"
	})
}

// TestTwoServersOnePostgres: two lextrail servers (separate database
// pools, one PostgreSQL, one object store) receive calls and run their
// delivery workers side by side, pausing at random so the trail's lease
// changes hands: every event is delivered once and every window once.
func TestTwoServersOnePostgres(t *testing.T) {
	url := pgtest.Start(t)
	key := make([]byte, 32)
	rand.Read(key)
	objects, err := localdir.Open(localdir.Config{Root: filepath.Join(t.TempDir(), "objects")})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	worked := map[string]int{} // batches delivered, by server
	mk := func(owner string) *trailEnv {
		e := newTrailEnv(t, func(c *server.Config) {
			c.DatabaseURL = url
			c.MasterKey = base64.StdEncoding.EncodeToString(key)
			c.ObjectStore = objects
			c.TrailHooks.Owner = owner
			c.TrailHooks.FailPoint = func(p string) error {
				mu.Lock()
				worked[owner]++
				mu.Unlock()
				return nil
			}
		})
		return e
	}
	a, b := mk("server-a"), mk("server-b")
	_, start := startedTrail(t, a, "shared")
	rng := mrand.New(mrand.NewPCG(3, 4))
	paused := [2]int{}
	for round := 0; round < 30; round++ {
		for _, e := range []*trailEnv{a, b} {
			e.Clock.Advance(time.Minute)
			region := []string{"us-east-1", "eu-west-1"}[rng.IntN(2)]
			must(t, errOf(e.ct(region).ListTrails(ctx, &cloudtrail.ListTrailsInput{})))
		}
		var wg sync.WaitGroup
		for i, e := range []*trailEnv{a, b} {
			// A server pauses now and then for three minutes, longer
			// than its lease (two minutes): the other takes over.
			if paused[i] > 0 {
				paused[i]--
				continue
			}
			if rng.IntN(5) == 0 {
				paused[i] = 2
				continue
			}
			wg.Add(1)
			go func() { defer wg.Done(); e.Server.Trails.Pass(ctx) }()
		}
		wg.Wait()
	}
	hist := a.history()
	for i := 0; i < 4; i++ {
		a.Clock.Advance(time.Minute)
		b.Clock.Advance(time.Minute)
		a.pass()
	}
	s := seqOf(t, hist, start)
	last := hist[len(hist)-1].seq
	expectExactly(t, "two servers", delivered(t, a, "ct-faults", "AWSLogs/", hist), hist, func(h histEvent) bool {
		return h.ev.EventCategory == "Management" && h.ev.RecipientAccountID == a.AccountID && h.seq >= s && h.seq <= last && h.ev.AWSRegion == "us-east-1"
	})
	// One file per window (delivery minute) and region: no window twice.
	seen := map[string]bool{}
	for _, o := range a.objects("ct-faults", "AWSLogs/") {
		m := logKeyRE.FindStringSubmatch(o.Key)
		w := m[3] + " " + m[9] + m[10]
		if seen[w] {
			t.Errorf("window %s delivered twice", w)
		}
		seen[w] = true
	}
	if worked["server-a"] == 0 || worked["server-b"] == 0 {
		t.Errorf("deliveries per server %v: the lease should have changed hands", worked)
	}
	t.Logf("deliveries per server: %v", worked)
}

var _ = testenv.AccountID
