package sns_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"lextrail/internal/testenv"
)

// counter is a minimal endpoint for benchmarks: it confirms by visiting
// SubscribeURL and counts notifications.
type counter struct {
	srv       *httptest.Server
	n         atomic.Int64
	confirmed chan struct{}
}

func newCounter(b *testing.B) *counter {
	c := &counter{confirmed: make(chan struct{}, 1)}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("x-amz-sns-message-type") {
		case "Notification":
			c.n.Add(1)
		case "SubscriptionConfirmation":
			var m snsMessage
			if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
				b.Error(err)
			}
			go func() {
				if resp, err := http.Get(m.SubscribeURL); err != nil || resp.StatusCode != 200 {
					b.Errorf("confirming: %v %v", err, resp)
				}
				c.confirmed <- struct{}{}
			}()
		}
		w.WriteHeader(200)
	}))
	b.Cleanup(c.srv.Close)
	return c
}

// benchTopic makes a topic with n confirmed counting subscribers.
func benchTopic(b *testing.B, e *testenv.Env, name string, n int) (string, []*counter) {
	c := client(e)
	arn := createTopic(b, c, name)
	var subs []*counter
	for i := 0; i < n; i++ {
		ct := newCounter(b)
		must(c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("http"), Endpoint: aws.String(ct.srv.URL + "/" + strconv.Itoa(i))}))
		select {
		case <-ct.confirmed:
		case <-time.After(30 * time.Second):
			b.Fatal("subscription not confirmed")
		}
		subs = append(subs, ct)
	}
	return arn, subs
}

func benchDrivers(b *testing.B, fn func(b *testing.B, e *testenv.Env)) {
	for _, d := range drivers {
		b.Run(d.name, func(b *testing.B) {
			fn(b, testenv.New(b, testenv.Options{DatabaseURL: d.url(b)}))
		})
	}
}

// BenchmarkPublish measures Publish over loopback with the Go SDK, 4 x
// GOMAXPROCS callers at once, to a topic without subscribers (nothing kept) and with
// one (the message is queued and delivered meanwhile).
func BenchmarkPublish(b *testing.B) {
	benchDrivers(b, func(b *testing.B, e *testenv.Env) {
		for _, subs := range []int{0, 1} {
			b.Run(fmt.Sprintf("subscribers=%d", subs), func(b *testing.B) {
				arn, _ := benchTopic(b, e, fmt.Sprintf("pub%d-%d", subs, b.N), subs)
				c := client(e)
				msg := aws.String(`{"s3Bucket":"trail-bucket","s3ObjectKey":["AWSLogs/123456789012/CloudTrail/us-east-1/2025/06/01/file.json.gz"]}`)
				b.SetParallelism(4) // GOMAXPROCS x 4 callers
				b.ResetTimer()
				start := time.Now()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: msg}); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
			})
		}
	})
}

// BenchmarkFanout measures delivery: b.N messages published to a topic
// with 20 subscribers, timed until every subscriber has every message.
func BenchmarkFanout(b *testing.B) {
	benchDrivers(b, func(b *testing.B, e *testenv.Env) {
		const n = 20
		arn, subs := benchTopic(b, e, fmt.Sprintf("fan-%d", b.N), n)
		c := client(e)
		msg := aws.String("fan-out benchmark message")
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: msg}); err != nil {
				b.Fatal(err)
			}
		}
		deadline := time.Now().Add(5 * time.Minute)
		for _, s := range subs {
			for s.n.Load() < int64(b.N) {
				if time.Now().After(deadline) {
					b.Fatalf("deliveries incomplete: %d of %d", s.n.Load(), b.N)
				}
				time.Sleep(time.Millisecond)
			}
		}
		el := time.Since(start)
		b.ReportMetric(float64(b.N*n)/el.Seconds(), "deliveries/s")
		for _, s := range subs {
			if got := s.n.Load(); got != int64(b.N) {
				b.Fatalf("a subscriber got %d messages, want %d", got, b.N)
			}
		}
	})
}
