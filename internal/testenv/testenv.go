// Package testenv starts an in-process lextrail for tests: a server on a
// temp data dir behind httptest, an injectable clock, and aws.Config values
// that point the real AWS SDK for Go v2 clients at it.
package testenv

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"lextrail/internal/accounts"
	"lextrail/internal/server"
)

// Clock is a settable clock for tests. The zero value reads the real time
// until Set is called.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now.IsZero() {
		return time.Now()
	}
	return c.now
}

// Set fixes the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Advance moves a fixed clock forward (fixing it at the real time first if
// it was not fixed yet).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	if c.now.IsZero() {
		c.now = time.Now()
	}
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Env is a running in-process lextrail.
type Env struct {
	Server    *server.Server
	HTTP      *httptest.Server
	URL       string
	AccountID string
	Root      accounts.Credentials
	Clock     *Clock
	DataDir   string
	client    *http.Client
}

// Client is the HTTP client Config gives the SDK: HTTP.Client() with
// request bodies buffered (BufferBodies). HTTP.Client() itself keeps its
// plain *http.Transport (the v1 SDK insists on one when AWS_CA_BUNDLE is
// set).
func (e *Env) Client() *http.Client { return e.client }

// Options adjust New.
type Options struct {
	// DatabaseURL selects PostgreSQL; default SQLite in a temp dir.
	DatabaseURL string
	// Configure may change the server config before the server is built.
	Configure func(*server.Config)
}

// Root credentials of the default account in every Env.
const (
	AccountID = "123456789012"
)

// New starts a server for t and stops it when t ends.
func New(t testing.TB, opts ...Options) *Env {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	clock := &Clock{}
	dir := t.TempDir()
	root := accounts.NewRootCredentials()
	cfg := server.Config{
		DataDir:        dir,
		DatabaseURL:    o.DatabaseURL,
		Bootstrap:      accounts.Bootstrap{AccountID: AccountID, AccessKeyID: root.AccessKeyID, SecretAccessKey: root.SecretAccessKey},
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:            clock.Now,
		CredentialsOut: io.Discard,
		KeyCacheTTL:    -1, // tests change keys and expect the change at once
	}
	if o.Configure != nil {
		o.Configure(&cfg)
	}
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.RunWorkers(ctx); close(done) }()
	t.Cleanup(func() {
		hs.Close()
		cancel()
		<-done
		srv.Close()
	})
	return &Env{Server: srv, HTTP: hs, URL: hs.URL, AccountID: AccountID, Root: root, Clock: clock, DataDir: dir,
		client: &http.Client{Transport: BufferBodies(hs.Client().Transport)}}
}

// Config returns an aws.Config for the given credentials (root when none
// are given), region us-east-1, with the endpoint set to the server.
func (e *Env) Config(creds ...aws.Credentials) aws.Config {
	c := aws.Credentials{AccessKeyID: e.Root.AccessKeyID, SecretAccessKey: e.Root.SecretAccessKey}
	if len(creds) > 0 {
		c = creds[0]
	}
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.StaticCredentialsProvider{Value: c},
		BaseEndpoint: aws.String(e.URL),
		HTTPClient:   e.client,
		// The SDK's retries would hide the first error a test asserts on.
		RetryMaxAttempts: 1,
		// lextrail's clock is injectable; the SDK signs with the real time.
	}
}

// Creds returns the root credentials as aws.Credentials.
func (e *Env) Creds() aws.Credentials {
	return aws.Credentials{AccessKeyID: e.Root.AccessKeyID, SecretAccessKey: e.Root.SecretAccessKey}
}

// LookTool finds an optional external tool (the AWS CLI, python3). When it
// is absent the test is skipped with a printed reason, unless the
// environment variable requireEnv is "1", which makes it a failure (CI sets
// it where the tool is installed).
func LookTool(t testing.TB, name, requireEnv string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if requireEnv != "" && os.Getenv(requireEnv) == "1" {
			t.Fatalf("%s required (%s=1) but not on PATH", name, requireEnv)
		}
		t.Skipf("%s is not installed: skipping its lane", name)
	}
	return p
}

// CLIEnv is an environment for AWS CLI / boto3 subprocesses: the root
// credentials of the env, region us-east-1, and no user configuration.
func (e *Env) CLIEnv(t testing.TB, creds ...aws.Credentials) []string {
	c := e.Creds()
	if len(creds) > 0 {
		c = creds[0]
	}
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") {
			continue
		}
		out = append(out, kv)
	}
	out = append(out,
		"AWS_ACCESS_KEY_ID="+c.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+c.SecretAccessKey,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+empty,
		"AWS_SHARED_CREDENTIALS_FILE="+empty,
		"AWS_EC2_METADATA_DISABLED=true",
		"HOME="+dir,
	)
	if c.SessionToken != "" {
		out = append(out, "AWS_SESSION_TOKEN="+c.SessionToken)
	}
	return out
}

// SelfSignedCert returns a PEM certificate and key for 127.0.0.1 and
// localhost (ECDSA P-256, valid for a day) and a pool that trusts it, for
// tests of lextrail's TLS listener.
func SelfSignedCert(t testing.TB) (certPEM, keyPEM []byte, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "lextrail test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), pool
}

// Required reports whether the environment variable requireEnv demands an
// optional lane (it is "1").
func Required(requireEnv string) bool { return os.Getenv(requireEnv) == "1" }

// BufferBodies wraps a client transport so that every request body is read
// into memory first and handed to net/http as a reader of its own. This
// closes a client-side race of aws-sdk-go-v2 with net/http (SDK issue
// #2737): when the response arrives before net/http's write loop has
// finished with the request body, the SDK closes the body, the write loop
// fails and closes the connection under the response being read ("use of
// closed network connection" with a 200). The SDK retries that error by
// default; tests run it with one attempt, and lextrail answers fast enough
// on loopback to lose the race now and then.
func BufferBodies(rt http.RoundTripper) http.RoundTripper { return bufferedBodies{rt} }

type bufferedBodies struct{ rt http.RoundTripper }

func (b bufferedBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return b.rt.RoundTrip(r)
	}
	data, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(data))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	return b.rt.RoundTrip(r)
}

// CloseIdleConnections forwards to the wrapped transport (httptest.Server
// calls it on Close).
func (b bufferedBodies) CloseIdleConnections() {
	if c, ok := b.rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
