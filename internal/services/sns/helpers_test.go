package sns_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"lextrail/internal/awserr"
	"lextrail/internal/store/pgtest"
	"lextrail/internal/testenv"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var ctx = context.Background()

// drivers are the databases every stateful test runs on ("" is SQLite).
var drivers = []struct {
	name string
	url  func(testing.TB) string
}{
	{"sqlite", func(testing.TB) string { return "" }},
	{"postgres", pgtest.Start},
}

func eachDriver(t *testing.T, fn func(t *testing.T, dbURL string)) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) { fn(t, d.url(t)) })
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	var le *awserr.Error // the Go API's errors
	if errors.As(err, &le) {
		return le.Code
	}
	if err != nil {
		return "non-API error: " + err.Error()
	}
	return ""
}

func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

// env starts lextrail on dbURL ("" SQLite) with a fixed clock.
func env(t *testing.T, dbURL string) *testenv.Env {
	e := testenv.New(t, testenv.Options{DatabaseURL: dbURL})
	e.Clock.Set(time.Now().UTC().Truncate(time.Millisecond)) // the SDK signs with the real time
	return e
}

func client(e *testenv.Env, creds ...aws.Credentials) *sns.Client {
	return sns.NewFromConfig(e.Config(creds...))
}

func createTopic(t testing.TB, c *sns.Client, name string) string {
	t.Helper()
	out, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateTopic %s: %v", name, err)
	}
	return *out.TopicArn
}

// snsMessage is a message as an endpoint receives it.
type snsMessage struct {
	Type              string
	MessageId         string
	Token             string
	TopicArn          string
	Subject           *string
	Message           string
	SubscribeURL      string
	Timestamp         string
	SignatureVersion  string
	Signature         string
	SigningCertURL    string
	UnsubscribeURL    string
	MessageAttributes map[string]struct{ Type, Value string }

	Header http.Header `json:"-"`
	Raw    []byte      `json:"-"`
}

// subscriber is an HTTP endpoint that checks every message as an SNS
// subscriber should: the headers agree with the body, and the signature
// verifies with the certificate fetched from SigningCertURL (the string to
// sign is built here from SNS's documentation, independently of the
// package). It answers with the status set by SetStatus (200 by default);
// only messages it answered 2xx to count as received.
type subscriber struct {
	t   testing.TB
	srv *httptest.Server
	raw bool // expects raw message delivery

	mu       sync.Mutex
	status   int
	hang     chan struct{}
	got      []snsMessage // answered 2xx, in arrival order
	attempts []snsMessage // every request, in arrival order
	confirm  chan snsMessage
	certs    map[string]*x509.Certificate
	arrivals chan struct{}
	clock    func() time.Time
	times    []time.Time // clock at each attempt
}

func newSubscriber(t testing.TB) *subscriber {
	s := &subscriber{t: t, status: 200, confirm: make(chan snsMessage, 16), certs: map[string]*x509.Certificate{},
		arrivals: make(chan struct{}, 1)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.mu.Lock()
		if s.hang != nil {
			close(s.hang)
			s.hang = nil
		}
		s.mu.Unlock()
		s.srv.Close()
	})
	return s
}

func (s *subscriber) URL() string { return s.srv.URL + "/sns" }

func (s *subscriber) SetStatus(code int) {
	s.mu.Lock()
	s.status = code
	s.mu.Unlock()
}

// Hang makes the endpoint hold requests until the test ends.
func (s *subscriber) Hang() {
	s.mu.Lock()
	s.hang = make(chan struct{})
	s.mu.Unlock()
}

func (s *subscriber) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	hang, expectRaw := s.hang, s.raw
	s.mu.Unlock()
	if hang != nil {
		select {
		case <-hang:
		case <-r.Context().Done():
			return
		}
	}
	var m snsMessage
	raw := expectRaw && r.Header.Get("x-amz-sns-message-type") == "Notification"
	if raw {
		m = snsMessage{Type: r.Header.Get("x-amz-sns-message-type"), MessageId: r.Header.Get("x-amz-sns-message-id"), Message: string(body)}
	} else if err := json.Unmarshal(body, &m); err != nil {
		s.t.Errorf("subscriber: body is not JSON: %v: %s", err, body)
		w.WriteHeader(400)
		return
	}
	m.Header, m.Raw = r.Header.Clone(), body
	if err := s.check(r, &m, raw); err != nil {
		s.t.Errorf("subscriber: %v\n%s", err, body)
		w.WriteHeader(400)
		return
	}
	s.mu.Lock()
	code := s.status
	s.attempts = append(s.attempts, m)
	if s.clock != nil {
		s.times = append(s.times, s.clock())
	}
	if m.Type == "SubscriptionConfirmation" {
		s.confirm <- m
	} else if code >= 200 && code < 300 {
		s.got = append(s.got, m)
	}
	s.mu.Unlock()
	select {
	case s.arrivals <- struct{}{}:
	default:
	}
	w.WriteHeader(code)
}

// check verifies headers and the signature.
func (s *subscriber) check(r *http.Request, m *snsMessage, raw bool) error {
	h := r.Header
	if r.Method != http.MethodPost {
		return fmt.Errorf("method %s", r.Method)
	}
	if h.Get("User-Agent") != "Amazon Simple Notification Service Agent" {
		return fmt.Errorf("User-Agent %q", h.Get("User-Agent"))
	}
	if h.Get("x-amz-sns-message-type") != m.Type || h.Get("x-amz-sns-message-id") != m.MessageId {
		return fmt.Errorf("headers %v disagree with the body", h)
	}
	if raw {
		if h.Get("x-amz-sns-rawdelivery") != "true" {
			return fmt.Errorf("raw delivery without x-amz-sns-rawdelivery")
		}
		return nil
	}
	if h.Get("x-amz-sns-topic-arn") != m.TopicArn {
		return fmt.Errorf("x-amz-sns-topic-arn %q, body %q", h.Get("x-amz-sns-topic-arn"), m.TopicArn)
	}
	if m.Type == "Notification" {
		if h.Get("x-amz-sns-subscription-arn") == "" || !strings.HasPrefix(h.Get("x-amz-sns-subscription-arn"), m.TopicArn+":") {
			return fmt.Errorf("x-amz-sns-subscription-arn %q", h.Get("x-amz-sns-subscription-arn"))
		}
		if m.UnsubscribeURL == "" {
			return fmt.Errorf("no UnsubscribeURL")
		}
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", m.Timestamp); err != nil {
		return fmt.Errorf("Timestamp %q: %v", m.Timestamp, err)
	}
	cert, err := s.cert(m.SigningCertURL)
	if err != nil {
		return err
	}
	var b strings.Builder
	field := func(k, v string) { b.WriteString(k + "\n" + v + "\n") }
	switch m.Type {
	case "Notification":
		field("Message", m.Message)
		field("MessageId", m.MessageId)
		if m.Subject != nil {
			field("Subject", *m.Subject)
		}
		field("Timestamp", m.Timestamp)
		field("TopicArn", m.TopicArn)
		field("Type", m.Type)
	case "SubscriptionConfirmation", "UnsubscribeConfirmation":
		field("Message", m.Message)
		field("MessageId", m.MessageId)
		field("SubscribeURL", m.SubscribeURL)
		field("Timestamp", m.Timestamp)
		field("Token", m.Token)
		field("TopicArn", m.TopicArn)
		field("Type", m.Type)
	default:
		return fmt.Errorf("Type %q", m.Type)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return fmt.Errorf("Signature: %v", err)
	}
	pub := cert.PublicKey.(*rsa.PublicKey)
	switch m.SignatureVersion {
	case "1":
		sum := sha1.Sum([]byte(b.String()))
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA1, sum[:], sig)
	case "2":
		sum := sha256.Sum256([]byte(b.String()))
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
	default:
		return fmt.Errorf("SignatureVersion %q", m.SignatureVersion)
	}
	if err != nil {
		return fmt.Errorf("signature does not verify: %v", err)
	}
	return nil
}

func (s *subscriber) cert(url string) (*x509.Certificate, error) {
	s.mu.Lock()
	c := s.certs[url]
	s.mu.Unlock()
	if c != nil {
		return c, nil
	}
	resp, err := http.Get(url) // unsigned, as any subscriber fetches it
	if err != nil {
		return nil, fmt.Errorf("fetching SigningCertURL: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("SigningCertURL %s: %s: %s", url, resp.Status, body)
	}
	blk, _ := pem.Decode(body)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("SigningCertURL %s is not a PEM certificate", url)
	}
	c, err = x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.certs[url] = c
	s.mu.Unlock()
	return c, nil
}

// Confirmation waits for the next SubscriptionConfirmation.
func (s *subscriber) Confirmation(wake func()) snsMessage {
	s.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case m := <-s.confirm:
			return m
		case <-deadline:
			s.t.Fatalf("no SubscriptionConfirmation arrived")
		case <-time.After(50 * time.Millisecond):
			wake()
		}
	}
}

// Got returns the messages answered 2xx so far.
func (s *subscriber) Got() []snsMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]snsMessage(nil), s.got...)
}

// Attempts returns every notification request so far.
func (s *subscriber) Attempts() []snsMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []snsMessage
	for _, m := range s.attempts {
		if m.Type == "Notification" {
			out = append(out, m)
		}
	}
	return out
}

// WaitGot waits until n messages were received.
func (s *subscriber) WaitGot(n int, wake func()) []snsMessage {
	s.t.Helper()
	return s.waitFor(func() bool { return len(s.Got()) >= n }, wake, fmt.Sprintf("%d messages", n), func() int { return len(s.Got()) })
}

// WaitAttempts waits until n notification attempts arrived.
func (s *subscriber) WaitAttempts(n int, wake func()) []snsMessage {
	s.t.Helper()
	s.waitFor(func() bool { return len(s.Attempts()) >= n }, wake, fmt.Sprintf("%d attempts", n), func() int { return len(s.Attempts()) })
	return s.Attempts()
}

func (s *subscriber) waitFor(done func() bool, wake func(), what string, have func() int) []snsMessage {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s (have %d)", what, have())
		}
		wake()
		select {
		case <-s.arrivals:
		case <-time.After(50 * time.Millisecond):
		}
	}
	return s.Got()
}

// get fetches a URL unsigned and returns status and body.
func get(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
