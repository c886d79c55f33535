package sns_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"lextrail/internal/accounts"
	"lextrail/internal/server"
	"lextrail/internal/store"
	"lextrail/internal/testenv"
)

// node is one lextrail process's lifetime on a data dir, behind a front
// URL that stays the same across restarts (as a fixed listen address does).
type node struct {
	srv  *server.Server
	stop func()
}

type cluster struct {
	t     *testing.T
	dir   string
	dbURL string
	root  accounts.Credentials
	clock *testenv.Clock
	front *httptest.Server
	cur   atomic.Pointer[server.Server]
}

func newCluster(t *testing.T, dbURL string) *cluster {
	cl := &cluster{t: t, dir: t.TempDir(), dbURL: dbURL, root: accounts.NewRootCredentials(), clock: &testenv.Clock{}}
	cl.clock.Set(time.Now().UTC().Truncate(time.Millisecond))
	cl.front = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := cl.cur.Load()
		if s == nil {
			http.Error(w, "lextrail is restarting", http.StatusServiceUnavailable)
			return
		}
		s.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(cl.front.Close)
	return cl
}

// start starts a lextrail process on the cluster's data dir and database.
func (cl *cluster) start() *node {
	cl.t.Helper()
	cfg := server.Config{
		DataDir:        cl.dir,
		DatabaseURL:    cl.dbURL,
		Bootstrap:      accounts.Bootstrap{AccountID: testenv.AccountID, AccessKeyID: cl.root.AccessKeyID, SecretAccessKey: cl.root.SecretAccessKey},
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:            cl.clock.Now,
		CredentialsOut: io.Discard,
		KeyCacheTTL:    -1,
	}
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		cl.t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.RunWorkers(wctx); close(done) }()
	cl.cur.Store(srv)
	n := &node{srv: srv}
	stopped := false
	n.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cl.cur.CompareAndSwap(srv, nil)
		cancel()
		<-done
		srv.Close()
	}
	cl.t.Cleanup(n.stop)
	return n
}

func (cl *cluster) client() *sns.Client {
	return sns.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: cl.root.AccessKeyID, SecretAccessKey: cl.root.SecretAccessKey}},
		BaseEndpoint:     aws.String(cl.front.URL),
		RetryMaxAttempts: 1,
	})
}

// TestRestart: messages queued for a failing endpoint survive a restart
// of lextrail on the same data dir and database, and are then delivered in
// order of publication, each exactly once, after those delivered before
// the restart and before those published after it; the signing
// certificate stays the same.
func TestRestart(t *testing.T) {
	eachDriver(t, func(t *testing.T, dbURL string) {
		cl := newCluster(t, dbURL)
		n1 := cl.start()
		c := cl.client()
		arn := createTopic(t, c, "durable")
		sub, hung := newSubscriber(t), newSubscriber(t)
		confirmed(t, c, arn, sub, n1.srv.SNS.Wake, nil)
		confirmed(t, c, arn, hung, n1.srv.SNS.Wake, nil)
		hung.Hang() // its delivery is in flight, its lease held, when n1 stops

		publish := func(from, to int) {
			for i := from; i < to; i++ {
				must(c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: aws.String(fmt.Sprintf("m%02d", i))}))
			}
		}
		publish(0, 5)
		before := sub.WaitGot(5, n1.srv.SNS.Wake)
		cert := before[0].SigningCertURL

		// The endpoint fails: m05..m09 stay queued (m05 has failed once).
		sub.SetStatus(503)
		publish(5, 10)
		sub.WaitAttempts(6, n1.srv.SNS.Wake)
		var leased int
		for deadline := time.Now().Add(10 * time.Second); leased == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			n1.srv.DB.Read(ctx, func(tx *store.Tx) error {
				return tx.QueryRow(ctx, `SELECT COUNT(*) FROM sns_subscriptions WHERE lease_owner <> '' AND endpoint = $1`, hung.URL()).Scan(&leased)
			})
		}
		if leased != 1 {
			t.Fatalf("the hanging endpoint's lease is not held before the stop")
		}
		n1.stop()

		// A new process on the same data: once the endpoint is back and the
		// retry is due, the queue drains in order.
		sub.SetStatus(200)
		// The stopped process gave its leases back.
		url := cl.dbURL
		if url == "" {
			url = "sqlite://" + filepath.Join(cl.dir, "lextrail.db")
		}
		db, err := store.Open(ctx, store.Config{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		db.Read(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `SELECT COUNT(*) FROM sns_subscriptions WHERE lease_owner <> ''`).Scan(&leased)
		})
		db.Close()
		if leased != 0 {
			t.Fatalf("%d delivery leases still held after a clean shutdown", leased)
		}
		n2 := cl.start()
		cl.clock.Set(cl.clock.Now().Add(time.Minute))
		got := sub.WaitGot(10, n2.srv.SNS.Wake)
		publish(10, 15)
		got = sub.WaitGot(15, n2.srv.SNS.Wake)
		if len(got) != 15 {
			t.Fatalf("received %d messages, want exactly 15", len(got))
		}
		for i, m := range got {
			if m.Message != fmt.Sprintf("m%02d", i) {
				t.Fatalf("message %d is %q: out of order or duplicated", i, m.Message)
			}
		}
		if got[14].SigningCertURL != cert {
			t.Errorf("SigningCertURL changed across the restart: %s -> %s", cert, got[14].SigningCertURL)
		}
		// Nothing more arrives: each was delivered once.
		n2.srv.SNS.Wake()
		time.Sleep(200 * time.Millisecond)
		if n := len(sub.Got()); n != 15 {
			t.Fatalf("%d messages after the queue drained, want 15", n)
		}
	})
}
