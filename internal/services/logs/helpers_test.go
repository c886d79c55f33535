package logs_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"

	"lextrail/internal/server"
	"lextrail/internal/services/logs"
	"lextrail/internal/store"
	"lextrail/internal/testenv"
)

// recorder keeps the last raw response the SDK received.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	last struct {
		target string
		status int
		body   []byte
	}
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	r.mu.Lock()
	r.last.target, r.last.status, r.last.body = req.Header.Get("X-Amz-Target"), resp.StatusCode, b
	r.mu.Unlock()
	return resp, nil
}

type fixture struct {
	t   testing.TB
	env *testenv.Env
	c   *cwl.Client
	rec *recorder
	ctx context.Context
	now time.Time // the server's (frozen) clock
}

// newFixture starts a server on the driver's database with its clock
// frozen at the current second (SigV4 allows 15 minutes of skew).
func newFixture(t testing.TB, d ...logs.TestDriver) *fixture {
	drv := logs.TestDrivers[0]
	if len(d) > 0 {
		drv = d[0]
	}
	return newFixtureWith(t, drv, nil)
}

// newFixtureWith also sets the logs service's options.
func newFixtureWith(t testing.TB, drv logs.TestDriver, configure func(*logs.Config)) *fixture {
	env := testenv.New(t, testenv.Options{DatabaseURL: drv.URL(t), Configure: func(c *server.Config) {
		if configure != nil {
			configure(&c.Logs)
		}
	}})
	now := time.Now().UTC().Truncate(time.Second)
	env.Clock.Set(now)
	cfg := env.Config()
	hc := env.HTTP.Client()
	rec := &recorder{next: hc.Transport}
	hc.Transport = rec
	cfg.HTTPClient = hc
	return &fixture{t: t, env: env, c: cwl.NewFromConfig(cfg), rec: rec, ctx: context.Background(), now: now}
}

func (f *fixture) client(creds aws.Credentials) *cwl.Client {
	cfg := f.env.Config(creds)
	return cwl.NewFromConfig(cfg)
}

func (f *fixture) lastBody() []byte {
	f.rec.mu.Lock()
	defer f.rec.mu.Unlock()
	return f.rec.last.body
}

func (f *fixture) status() int {
	f.rec.mu.Lock()
	defer f.rec.mu.Unlock()
	return f.rec.last.status
}

// ms is the server's now plus d, in epoch milliseconds.
func (f *fixture) ms(d time.Duration) int64 { return f.now.Add(d).UnixMilli() }

func (f *fixture) group(name string) {
	f.t.Helper()
	if _, err := f.c.CreateLogGroup(f.ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(name)}); err != nil {
		f.t.Fatalf("CreateLogGroup %s: %v", name, err)
	}
}

func (f *fixture) stream(group, name string) {
	f.t.Helper()
	if _, err := f.c.CreateLogStream(f.ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(name)}); err != nil {
		f.t.Fatalf("CreateLogStream %s/%s: %v", group, name, err)
	}
}

// ev is an event at now+d.
func (f *fixture) ev(d time.Duration, msg string) types.InputLogEvent {
	return types.InputLogEvent{Timestamp: aws.Int64(f.ms(d)), Message: aws.String(msg)}
}

func (f *fixture) put(group, stream string, evs ...types.InputLogEvent) *cwl.PutLogEventsOutput {
	f.t.Helper()
	out, err := f.c.PutLogEvents(f.ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: evs})
	if err != nil {
		f.t.Fatalf("PutLogEvents: %v", err)
	}
	return out
}

// result carries a call's outcome so that must(call(...)).ok(t) reads in
// one line.
type result[T any] struct {
	v   T
	err error
}

func must[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) ok(t testing.TB) T {
	t.Helper()
	if r.err != nil {
		t.Fatalf("unexpected error: %v", r.err)
	}
	return r.v
}

// code is the AWS error code of err ("" for nil).
func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "non-API error: " + err.Error()
	}
	return ""
}

func message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

func wantCode(t testing.TB, err error, want string) {
	t.Helper()
	if got := code(err); got != want {
		t.Fatalf("error code = %q, want %q (err %v)", got, want, err)
	}
}

// count runs a COUNT query on the server's database.
func (f *fixture) count(q string, args ...any) int64 {
	f.t.Helper()
	var n int64
	if err := f.env.Server.DB.Read(f.ctx, func(tx *store.Tx) error { return tx.QueryRow(f.ctx, q, args...).Scan(&n) }); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return n
}

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }
