package server_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"lextrail/internal/accounts"
	"lextrail/internal/audit"
	"lextrail/internal/server"
	"lextrail/internal/store"
	"lextrail/internal/testenv"
)

// header sets request headers after the SDK signed the request (neither
// User-Agent nor X-Forwarded-For is signed) and remembers the TLS state of
// the last response.
type header struct {
	rt  http.RoundTripper
	set map[string]string
	mu  sync.Mutex
	tls *tls.ConnectionState
}

func (h *header) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h.set {
		r.Header.Del(k)
		for _, line := range strings.Split(v, "\n") { // several header lines
			r.Header.Add(k, line)
		}
	}
	resp, err := h.rt.RoundTrip(r)
	if err == nil {
		h.mu.Lock()
		h.tls = resp.TLS
		h.mu.Unlock()
	}
	return resp, err
}

// recordOf returns the stored CloudTrail record of the request.
func recordOf(t *testing.T, srv *server.Server, requestID string) map[string]any {
	t.Helper()
	rows, err := audit.Lookup(context.Background(), srv.DB, audit.Query{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		var m map[string]any
		if err := json.Unmarshal([]byte(r.Record), &m); err != nil {
			t.Fatal(err)
		}
		if m["requestID"] == requestID {
			return m
		}
	}
	t.Fatalf("no event for request %s", requestID)
	return nil
}

// call makes GetCallerIdentity through client and returns its record.
func call(t *testing.T, srv *server.Server, cfg aws.Config) map[string]any {
	t.Helper()
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	return recordOf(t, srv, id)
}

// TestTLSListenerRecordsTLSDetails serves HTTPS as `lextrail serve
// --tls-cert/--tls-key` does and checks each record's tlsDetails against
// the connection the client saw: TLS 1.3 with its suite, TLS 1.2 with the
// OpenSSL name CloudTrail uses, the Host header the client sent. A plain
// HTTP listener's records have no tlsDetails.
func TestTLSListenerRecordsTLSDetails(t *testing.T) {
	certPEM, keyPEM, pool := testenv.SelfSignedCert(t)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	root := accountsRoot(t)
	srv, err := server.New(context.Background(), server.Config{DataDir: t.TempDir(), CredentialsOut: discard{}, Bootstrap: root.bootstrap,
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	host := ln.Addr().String()

	for _, tc := range []struct {
		name    string
		tls     *tls.Config
		version string
		suite   string // "" = whichever TLS 1.3 suite was negotiated
	}{
		{"TLS 1.3", &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS13}, "TLSv1.3", ""},
		{"TLS 1.2", &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}, "TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"},
		{"TLS 1.2 CHACHA20", &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}}, "TLSv1.2", "ECDHE-ECDSA-CHACHA20-POLY1305"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &header{rt: testenv.BufferBodies(&http.Transport{TLSClientConfig: tc.tls})}
			cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("https://" + host), RetryMaxAttempts: 1,
				HTTPClient: &http.Client{Transport: h}, Credentials: root.provider}
			rec := call(t, srv, cfg)
			d, ok := rec["tlsDetails"].(map[string]any)
			if !ok {
				t.Fatalf("no tlsDetails: %v", rec)
			}
			suite := tc.suite
			if suite == "" {
				suite = tls.CipherSuiteName(h.tls.CipherSuite) // TLS 1.3: the standard name
			}
			want := map[string]any{"tlsVersion": tc.version, "cipherSuite": suite, "clientProvidedHostHeader": host}
			b, _ := json.Marshal(d)
			w, _ := json.Marshal(want)
			if string(b) != string(w) {
				t.Errorf("tlsDetails %s, want %s", b, w)
			}
			if !strings.HasPrefix(suite, "TLS_") && tc.version == "TLSv1.3" {
				t.Errorf("TLS 1.3 suite %q", suite)
			}
		})
	}

	// Plain HTTP: no tlsDetails.
	e := testenv.New(t)
	if rec := call(t, e.Server, e.Config()); rec["tlsDetails"] != nil {
		t.Errorf("plain HTTP record has tlsDetails: %v", rec["tlsDetails"])
	}
}

// TestSourceIPAndUserAgent: sourceIPAddress is the peer address unless the
// peer is a configured trusted proxy, in which case it is the rightmost
// X-Forwarded-For hop that is not itself trusted; userAgent is kept to
// 1 KB, cut at a character boundary.
func TestSourceIPAndUserAgent(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []string
		xff     string
		want    string
	}{
		{"no proxies configured", nil, "203.0.113.7", "127.0.0.1"},
		{"trusted peer", []string{"127.0.0.0/8"}, "203.0.113.7", "203.0.113.7"},
		{"spoofed hops left of the last untrusted one", []string{"127.0.0.0/8", "10.0.0.0/8"}, "198.51.100.1, 203.0.113.7, 10.1.2.3", "203.0.113.7"},
		{"several header lines", []string{"127.0.0.0/8"}, "198.51.100.9\n203.0.113.7", "203.0.113.7"},
		{"peer not trusted", []string{"10.0.0.0/8"}, "203.0.113.7", "127.0.0.1"},
		{"garbage hop", []string{"127.0.0.0/8"}, "not-an-ip", "127.0.0.1"},
		{"IPv6 client", []string{"127.0.0.0/8"}, "2001:db8::1", "2001:db8::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := testenv.New(t, testenv.Options{Configure: func(c *server.Config) {
				for _, p := range tc.trusted {
					c.TrustedProxies = append(c.TrustedProxies, netip.MustParsePrefix(p))
				}
			}})
			cfg := e.Config()
			h := &header{rt: e.Client().Transport, set: map[string]string{}}
			if tc.xff != "" {
				h.set["X-Forwarded-For"] = tc.xff
			}
			cfg.HTTPClient = &http.Client{Transport: h}
			if got := call(t, e.Server, cfg)["sourceIPAddress"]; got != tc.want {
				t.Errorf("sourceIPAddress %v, want %s", got, tc.want)
			}
		})
	}

	e := testenv.New(t)
	cfg := e.Config()
	long := strings.Repeat("x", 1023) + "é" + strings.Repeat("y", 2000)
	cfg.HTTPClient = &http.Client{Transport: &header{rt: e.Client().Transport, set: map[string]string{"User-Agent": long}}}
	if got := call(t, e.Server, cfg)["userAgent"]; got != strings.Repeat("x", 1023) {
		t.Errorf("userAgent of %d bytes: %.20q...", len(got.(string)), got)
	}
	cfg.HTTPClient = &http.Client{Transport: &header{rt: e.Client().Transport, set: map[string]string{"User-Agent": "aws-cli/1.45.11"}}}
	if got := call(t, e.Server, cfg)["userAgent"]; got != "aws-cli/1.45.11" {
		t.Errorf("userAgent %v", got)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

type rootCreds struct {
	bootstrap accounts.Bootstrap
	provider  aws.CredentialsProvider
}

// accountsRoot makes a root key pair for a server's first start.
func accountsRoot(t *testing.T) rootCreds {
	c := accounts.NewRootCredentials()
	return rootCreds{bootstrap: accounts.Bootstrap{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey},
		provider: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")}
}

// TestEventRetention: the server's EventRetention (serve --event-retention)
// bounds LookupEvents' default window and the background purge deletes
// expired events when the server (re)starts. Two events are recorded and
// then dated back 49 and 47 hours (the SDK signs with the real clock, so
// the server's cannot jump instead).
func TestEventRetention(t *testing.T) {
	dir := t.TempDir()
	root := accountsRoot(t)
	start := func() (*server.Server, aws.Config, func()) {
		srv, err := server.New(context.Background(), server.Config{DataDir: dir, CredentialsOut: discard{}, Bootstrap: root.bootstrap,
			EventRetention: 48 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler())
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { srv.RunWorkers(ctx); close(done) }()
		cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(hs.URL), RetryMaxAttempts: 1, Credentials: root.provider,
			HTTPClient: &http.Client{Transport: testenv.BufferBodies(hs.Client().Transport)}}
		return srv, cfg, func() { hs.Close(); cancel(); <-done; srv.Close() }
	}
	ctx := context.Background()
	srv, cfg, stop := start()
	old, recent := call(t, srv, cfg)["requestID"], call(t, srv, cfg)["requestID"]
	now := time.Now()
	err := srv.DB.Write(ctx, func(tx *store.Tx) error {
		for id, age := range map[any]time.Duration{old: 49 * time.Hour, recent: 47 * time.Hour} {
			if _, err := tx.Exec(ctx, `UPDATE events SET event_time_ms = $1 WHERE request_id = $2`, now.Add(-age).UnixMilli(), id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(rows []audit.Row) []string {
		var out []string
		for _, r := range rows {
			var m map[string]any
			json.Unmarshal([]byte(r.Record), &m)
			out = append(out, m["requestID"].(string))
		}
		return out
	}
	out, err := cloudtrail.NewFromConfig(cfg).LookupEvents(ctx, &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("GetCallerIdentity")}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) != 1 || !strings.Contains(*out.Events[0].CloudTrailEvent, recent.(string)) {
		t.Errorf("LookupEvents default window: %d events, want only the 47-hour-old one", len(out.Events))
	}
	stop()
	// A restart purges at once (the purger's first pass runs at start).
	srv, _, stop = start()
	defer stop()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rows, err := audit.Lookup(ctx, srv.DB, audit.Query{Limit: 100, Attr: audit.AttrEventName, Value: "GetCallerIdentity"})
		if err != nil {
			t.Fatal(err)
		}
		got := ids(rows)
		if len(got) == 1 && got[0] == recent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the purge: %v, want only %v", got, recent)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
