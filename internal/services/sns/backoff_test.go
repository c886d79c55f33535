package sns_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	snssvc "lextrail/internal/services/sns"
)

// TestDeadSubscriber: a failing endpoint is retried on the retry policy's
// schedule (exponential backoff, with the injected clock), then its message
// is dropped and the next one tried; meanwhile a healthy subscriber of the
// same topic gets every message at once, and a hanging one delays nobody.
// Publishers are never held up.
func TestDeadSubscriber(t *testing.T) {
	eachDriver(t, func(t *testing.T, dbURL string) {
		e := env(t, dbURL)
		c := client(e)
		wake := e.Server.SNS.Wake
		arn := createTopic(t, c, "flaky")
		healthy, dead, hung := newSubscriber(t), newSubscriber(t), newSubscriber(t)
		confirmed(t, c, arn, healthy, wake, nil)
		confirmed(t, c, arn, dead, wake, nil)
		confirmed(t, c, arn, hung, wake, nil)
		dead.mu.Lock()
		dead.clock = e.Clock.Now // record the injected time of each attempt
		dead.mu.Unlock()
		dead.SetStatus(503)
		hung.Hang()

		start := time.Now()
		for i := 0; i < 3; i++ {
			must(c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: aws.String(fmt.Sprintf("m%d", i))}))
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("publishing 3 messages to a topic with a dead and a hanging subscriber took %s", d)
		}
		if got := healthy.WaitGot(3, wake); got[0].Message != "m0" || got[2].Message != "m2" {
			t.Fatalf("healthy subscriber got %+v", got)
		}

		// The dead endpoint: m0 at once, then retries exactly when the
		// policy says, never before.
		p := snssvc.DefaultRetryPolicy
		dead.WaitAttempts(1, wake)
		t0 := e.Clock.Now()
		elapsed := time.Duration(0)
		for k := 1; k <= p.NumRetries; k++ {
			delay := p.Delay(k)
			if k <= 2 {
				// Just before the retry is due nothing happens.
				e.Clock.Set(t0.Add(elapsed + delay - time.Millisecond))
				wake()
				time.Sleep(150 * time.Millisecond)
				if n := len(dead.Attempts()); n != k {
					t.Fatalf("retry %d came before its delay: %d attempts", k, n)
				}
			}
			elapsed += delay
			e.Clock.Set(t0.Add(elapsed))
			atts := dead.WaitAttempts(k+1, wake)
			if atts[k].Message != "m0" {
				t.Fatalf("attempt %d carried %q, want m0 (in order)", k+1, atts[k].Message)
			}
			dead.mu.Lock()
			at := dead.times[k] // times[0] is m0's first attempt
			dead.mu.Unlock()
			if got := at.Sub(t0); got != elapsed {
				t.Fatalf("retry %d at +%s, want +%s", k, got, elapsed)
			}
		}
		// Retries exhausted: m0 is dropped and m1 is tried next.
		atts := dead.WaitAttempts(p.NumRetries+2, wake)
		if atts[p.NumRetries+1].Message != "m1" {
			t.Fatalf("after m0's retries, attempt carried %q, want m1", atts[p.NumRetries+1].Message)
		}
		if elapsed < 150*time.Second || elapsed > 170*time.Second {
			t.Errorf("default policy retried over %s; expected about 163 s", elapsed)
		}
		// The endpoint recovers: m1 and m2 arrive in order, once each.
		dead.SetStatus(200)
		e.Clock.Set(t0.Add(elapsed + p.Delay(1)))
		got := dead.WaitGot(2, wake)
		if len(got) != 2 || got[0].Message != "m1" || got[1].Message != "m2" {
			t.Fatalf("recovered subscriber got %+v", got)
		}
		// The healthy one got each message exactly once despite all that.
		must(c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: aws.String("m3")}))
		if g := healthy.WaitGot(4, wake); len(g) != 4 || g[3].Message != "m3" {
			t.Fatalf("healthy subscriber got %+v", g)
		}
		// The hanging endpoint holds its own queue only.
		if n := len(hung.Got()); n != 0 {
			t.Fatalf("hanging endpoint answered %d", n)
		}
	})
}

// TestDeliveryPolicy: a topic's DeliveryPolicy sets the schedule (linear,
// 2 retries 20 s apart), and 4xx answers other than 408/429 are not
// retried.
func TestDeliveryPolicy(t *testing.T) {
	e := env(t, "")
	c := client(e)
	wake := e.Server.SNS.Wake
	arn := createTopic(t, c, "policy")
	must(c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &arn, AttributeName: aws.String("DeliveryPolicy"),
		AttributeValue: aws.String(`{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":2,"backoffFunction":"linear"},"defaultRequestPolicy":{"headerContentType":"application/json"}}}`)}))
	sub := newSubscriber(t)
	confirmed(t, c, arn, sub, wake, nil)
	sub.SetStatus(500)
	must(c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: aws.String("a")}))
	t0 := e.Clock.Now()
	a := sub.WaitAttempts(1, wake)
	if ct := a[0].Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want the policy's application/json", ct)
	}
	e.Clock.Set(t0.Add(20 * time.Second))
	sub.WaitAttempts(2, wake)
	e.Clock.Set(t0.Add(40 * time.Second))
	sub.WaitAttempts(3, wake)
	// Two retries, then the message is dropped: the next one is a 404,
	// which is not retried.
	sub.SetStatus(404)
	must(c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: aws.String("b")}))
	e.Clock.Set(t0.Add(60 * time.Second))
	sub.WaitAttempts(4, wake)
	// x and y published together while the endpoint fails: x gets its
	// three attempts; y, having waited behind x, only what is left of its
	// window (total retry time 40 s plus one maximum delay, 20 s: attempts
	// at +40 s and +60 s).
	sub.SetStatus(500)
	t1 := t0.Add(100 * time.Second)
	e.Clock.Set(t1)
	must(c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: aws.String("x")}))
	must(c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: aws.String("y")}))
	sub.WaitAttempts(5, wake) // x at t1
	for _, step := range []struct {
		at       time.Duration
		attempts int
	}{{20, 6}, {40, 8}, {60, 9}} { // x; x then y; y
		e.Clock.Set(t1.Add(step.at * time.Second))
		sub.WaitAttempts(step.attempts, wake)
	}
	sub.SetStatus(200)
	e.Clock.Set(t1.Add(80 * time.Second))
	must(c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: aws.String("c")}))
	got := sub.WaitGot(1, wake)
	var seq []string
	for _, a := range sub.Attempts() {
		seq = append(seq, a.Message)
	}
	if got[0].Message != "c" || strings.Join(seq, ",") != "a,a,a,b,x,x,x,y,y,c" {
		t.Fatalf("got %q; attempts %v", got[0].Message, seq)
	}
}
