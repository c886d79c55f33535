package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"lextrail/internal/services/logs"
	"lextrail/internal/testenv"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLogsTail runs `lextrail logs tail` against an in-process server:
// the recent events in order, a filter pattern, following new events
// without repeating any, credentials from the data dir, and a bad pattern
// refused before any call.
func TestLogsTail(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	svc := env.Server.Logs
	groupARN := "arn:aws:logs:us-east-1:" + env.AccountID + ":log-group:lex-text-logs"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := svc.Append(ctx, logs.AppendInput{Region: "us-east-1", Group: groupARN, Stream: "x", Events: nil})
	if err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("append to a missing group: %v", err)
	}
	createGroup(t, env, "lex-text-logs")
	now := time.Now()
	appendTurns := func(stream string, at time.Time, msgs ...string) {
		t.Helper()
		var evs []logs.Event
		for i, m := range msgs {
			evs = append(evs, logs.Event{Timestamp: at.Add(time.Duration(i) * time.Millisecond), Message: m})
		}
		_, err := svc.Append(ctx, logs.AppendInput{Region: "us-east-1", Group: groupARN, Stream: stream, CreateStream: true, Events: evs})
		must(err)
	}
	appendTurns("aws/lex/OrderFlowers/prod/1/a", now.Add(-2*time.Hour), `{"inputTranscript":"too long ago","missedUtterance":true}`)
	appendTurns("aws/lex/OrderFlowers/prod/1/a", now.Add(-5*time.Minute), `{"inputTranscript":"i want roses","missedUtterance":false}`, `{"inputTranscript":"what is the weather","missedUtterance":true}`)
	appendTurns("aws/lex/OrderFlowers/prod/1/b", now.Add(-4*time.Minute), `{"inputTranscript":"sing","missedUtterance":true}`)

	t.Setenv("AWS_ACCESS_KEY_ID", env.Root.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", env.Root.SecretAccessKey)
	var out, errs bytes.Buffer
	must(logsTail(ctx, []string{"lex-text-logs", "--follow=false", "--endpoint-url", env.URL}, &out, &errs))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], " aws/lex/OrderFlowers/prod/1/a {\"inputTranscript\":\"i want roses\"") ||
		!strings.Contains(lines[2], " aws/lex/OrderFlowers/prod/1/b ") || !strings.HasSuffix(lines[0][:24], "Z") {
		t.Fatalf("tail output:\n%s", out.String())
	}
	out.Reset()
	must(logsTail(ctx, []string{"lex-text-logs", "--follow=false", "--endpoint-url", env.URL, "--filter", "{ $.missedUtterance IS TRUE }", "--format", "short", "--since", "3h"}, &out, &errs))
	if got := out.String(); strings.Count(got, "\n") != 3 || !strings.Contains(got, "too long ago") || strings.Contains(got, "roses") {
		t.Fatalf("filtered:\n%s", got)
	}

	// Follow: new events appear once each.
	fctx, cancel := context.WithCancel(ctx)
	var live syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- logsTail(fctx, []string{"--endpoint-url", env.URL, "lex-text-logs", "--poll", "20ms", "--format", "json"}, &live, &errs)
	}()
	waitFor := func(substr string, n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for strings.Count(live.String(), substr) < n {
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %d of %q in:\n%s", n, substr, live.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(`"eventId"`, 3)
	at := time.Now()
	appendTurns("aws/lex/OrderFlowers/prod/1/a", at, `{"inputTranscript":"new one"}`)
	appendTurns("aws/lex/OrderFlowers/prod/1/b", at, `{"inputTranscript":"same millisecond"}`)
	waitFor("new one", 1)
	waitFor("same millisecond", 1)
	time.Sleep(100 * time.Millisecond) // several more polls
	cancel()
	must(<-done)
	if got := live.String(); strings.Count(got, "\n") != 5 || strings.Count(got, "new one") != 1 || strings.Count(got, "same millisecond") != 1 {
		t.Fatalf("followed:\n%s", got)
	}

	// Credentials from the data dir when the environment has none.
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("LEXTRAIL_ACCOUNT_ID", env.AccountID)
	out.Reset()
	must(logsTail(ctx, []string{"lex-text-logs", "--follow=false", "--endpoint-url", env.URL, "--data-dir", env.DataDir}, &out, &errs))
	if strings.Count(out.String(), "\n") != 5 {
		t.Fatalf("with data-dir credentials:\n%s", out.String())
	}
	// Errors.
	if err := logsTail(ctx, []string{"lex-text-logs", "--endpoint-url", "http://127.0.0.1:1", "--filter", "foo.bar"}, &out, &errs); err == nil || !strings.Contains(err.Error(), "Invalid character(s) in term") {
		t.Fatalf("bad pattern: %v", err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", env.Root.AccessKeyID)
	if err := logsTail(ctx, []string{"nope", "--follow=false", "--endpoint-url", env.URL}, &out, &errs); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("missing group: %v", err)
	}
	if code := run([]string{"logs"}, &out, &errs); code != 2 {
		t.Fatalf("lextrail logs: exit %d", code)
	}
	if code := run([]string{"logs", "tail"}, &out, &errs); code != 2 {
		t.Fatalf("lextrail logs tail: exit %d", code)
	}
}

func createGroup(t *testing.T, env *testenv.Env, name string) {
	t.Helper()
	c := cwl.NewFromConfig(env.Config())
	if _, err := c.CreateLogGroup(context.Background(), &cwl.CreateLogGroupInput{LogGroupName: &name}); err != nil {
		t.Fatalf("CreateLogGroup: %v", err)
	}
}
