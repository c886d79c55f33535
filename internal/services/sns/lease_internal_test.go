package sns

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"lextrail/internal/secrets"
	"lextrail/internal/store"
	"lextrail/internal/store/pgtest"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func eachDB(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	for _, d := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "db") }},
		{"postgres", func(t *testing.T) string { return pgtest.Start(t) }},
	} {
		t.Run(d.name, func(t *testing.T) {
			db, err := store.Open(context.Background(), store.Config{URL: d.url(t)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			fn(t, db)
		})
	}
}

// fixture makes a topic with one confirmed subscription to endpoint.
func fixture(t *testing.T, s *Service, endpoint string) (topicARN, subARN string) {
	t.Helper()
	ctx := context.Background()
	topicARN = TopicARN("us-east-1", "123456789012", "leased")
	subARN = topicARN + ":0b9a4a6e-3c1f-4f0e-9b7a-1d2e3f4a5b6c"
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sns_topics (arn, account_id, region, name, created_ms) VALUES ($1, '123456789012', 'us-east-1', 'leased', 0)`, topicARN); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO sns_subscriptions (arn, topic_arn, account_id, region, protocol, endpoint, status, token_hash, token_sealed,
			token_expires_ms, base_url, created_ms) VALUES ($1, $2, '123456789012', 'us-east-1', 'http', $3, $4, '', '', 0, 'http://lextrail', 0)`,
			subARN, topicARN, endpoint, statusConfirmed)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return topicARN, subARN
}

func newTestService(t *testing.T, db *store.DB, clock *fakeClock) *Service {
	sealer, err := secrets.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	return New(Config{DB: db, Sealer: sealer, Now: clock.Now, Lease: time.Minute, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// TestLease: deliveries are coordinated through the database. While one
// worker holds a subscription's lease another cannot claim it; once the
// lease has run out another takes over, and the first one's late update
// is refused. Two workers draining one queue concurrently deliver every
// message exactly once, in order.
func TestLease(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
		var mu sync.Mutex
		var got []string
		ep := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var m wireMessage
			json.NewDecoder(r.Body).Decode(&m)
			mu.Lock()
			got = append(got, m.Message)
			mu.Unlock()
		}))
		defer ep.Close()
		s := newTestService(t, db, clock)
		topicARN, subARN := fixture(t, s, ep.URL)
		publish := func(text string) {
			err := db.Write(ctx, func(tx *store.Tx) error {
				_, err := s.enqueue(ctx, tx, topicARN, &outgoing{Message: text}, clock.Now())
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		publish("first")

		a, b := s.Worker(), newTestService(t, db, clock).Worker()
		if ok, err := a.claim(ctx, subARN); !ok || err != nil {
			t.Fatalf("a could not claim: %v %v", ok, err)
		}
		if ok, err := b.claim(ctx, subARN); ok || err != nil {
			t.Fatalf("b claimed a leased subscription: %v %v", ok, err)
		}
		if due, _ := b.due(ctx, 10); len(due) != 0 {
			t.Fatalf("leased subscription listed as due: %v", due)
		}
		clock.Advance(time.Minute + time.Millisecond)
		if ok, err := b.claim(ctx, subARN); !ok || err != nil {
			t.Fatalf("b could not take over an expired lease: %v %v", ok, err)
		}
		if ok, err := a.leased(ctx, subARN, `cursor_seq = $1`, int64(1)); ok || err != nil {
			t.Fatalf("a updated after losing its lease: %v %v", ok, err)
		}
		if err := b.process(ctx, subARN); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != "first" {
			t.Fatalf("got %v", got)
		}

		// Both drain a queue of 60 at once.
		var want []string
		for i := 0; i < 60; i++ {
			text := "m" + string(rune('A'+i/26)) + string(rune('a'+i%26))
			want = append(want, text)
			publish(text)
		}
		var wg sync.WaitGroup
		for _, w := range []*Worker{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := w.RunOnce(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if err := a.RunOnce(ctx); err != nil { // whatever a lost race left
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 61 {
			t.Fatalf("delivered %d messages, want 61", len(got))
		}
		for i, w := range want {
			if got[i+1] != w {
				t.Fatalf("message %d is %s, want %s", i, got[i+1], w)
			}
		}
		// Delivered messages are purged.
		if err := a.Purge(ctx); err != nil {
			t.Fatal(err)
		}
		var left int
		db.Read(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(ctx, `SELECT COUNT(*) FROM sns_messages`).Scan(&left)
		})
		if left != 0 {
			t.Fatalf("%d delivered messages kept after the purge", left)
		}
	})
}
