package gateway_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"lextrail/internal/accounts"
	"lextrail/internal/authz"
	"lextrail/internal/catalog"
	"lextrail/internal/gateway"
	"lextrail/internal/secrets"
	"lextrail/internal/server"
	"lextrail/internal/store"
)

// A test catalog with one service per protocol family the gateway routes.

type echoIn struct {
	Name  string `json:"Name"`
	Count int    `json:"Count"`
}
type echoOut struct {
	Name  string `json:"Name"`
	Count int    `json:"Count"`
}

type restIn struct {
	Bot     string `location:"uri" locationName:"name"`
	Version string `location:"uri" locationName:"version"`
	Max     int    `location:"querystring" locationName:"maxResults"`
	Desc    string `json:"description"`
}
type restOut struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Desc    string `json:"description,omitempty"`
}

type queryIn struct {
	UserName string
}
type queryOut struct {
	UserName string `xml:"UserName"`
}

const account = "123456789012"

type harness struct {
	t      testing.TB
	g      *gateway.Gateway
	url    string
	creds  aws.Credentials
	db     *store.DB
	writes *atomic.Int64
	now    time.Time
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, store.Config{URL: "sqlite://" + filepath.Join(dir, "db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	key, _ := secrets.LoadOrCreate(dir, "")
	sealer, _ := secrets.New(key)
	accts := accounts.New(db, sealer, accounts.Config{CacheTTL: -1})
	root := accounts.NewRootCredentials()
	if _, err := accts.EnsureDefault(ctx, accounts.Bootstrap{AccountID: account, AccessKeyID: root.AccessKeyID, SecretAccessKey: root.SecretAccessKey}); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, creds: aws.Credentials{AccessKeyID: root.AccessKeyID, SecretAccessKey: root.SecretAccessKey}, db: db, writes: new(atomic.Int64)}

	write := func(_ context.Context, c *catalog.Call, in *echoIn) (*echoOut, error) {
		h.writes.Add(1)
		return &echoOut{Name: in.Name, Count: in.Count}, nil
	}
	jsonSvc := catalog.NewService(&catalog.Service{
		Name: "testjson", SigningName: "testjson", EventSource: "testjson.amazonaws.com",
		Protocol: catalog.JSON, TargetPrefix: "TestJSON_20200101",
		Ops: []*catalog.Operation{
			catalog.Define(catalog.Operation{Name: "Echo"}, write),
			catalog.Define(catalog.Operation{Name: "Describe", ReadOnly: true}, func(_ context.Context, c *catalog.Call, in *echoIn) (*echoOut, error) {
				return &echoOut{Name: in.Name}, nil
			}),
		},
	})
	restSvc := catalog.NewService(&catalog.Service{
		Name: "testrest", SigningName: "testrest", EventSource: "testrest.amazonaws.com", Protocol: catalog.RestJSON,
		Ops: []*catalog.Operation{catalog.Define(catalog.Operation{Name: "GetThing", HTTP: "GET /bots/{name}/versions/{version}", ReadOnly: true},
			func(_ context.Context, c *catalog.Call, in *restIn) (*restOut, error) {
				return &restOut{Name: in.Bot, Version: in.Version}, nil
			}),
			catalog.Define(catalog.Operation{Name: "PutThing", HTTP: "PUT /bots/{name}/versions/{version}"},
				func(_ context.Context, c *catalog.Call, in *restIn) (*restOut, error) {
					h.writes.Add(1)
					return &restOut{Name: in.Bot, Version: in.Version, Desc: in.Desc}, nil
				}),
		},
	})
	querySvc := catalog.NewService(&catalog.Service{
		Name: "testquery", SigningName: "testquery", EventSource: "testquery.amazonaws.com", Protocol: catalog.Query,
		APIVersion: "2010-05-08", XMLNamespace: "https://testquery.amazonaws.com/doc/2010-05-08/", AccessDeniedCode: "AccessDenied",
		Ops: []*catalog.Operation{catalog.Define(catalog.Operation{Name: "CreateUser"}, func(_ context.Context, c *catalog.Call, in *queryIn) (*queryOut, error) {
			h.writes.Add(1)
			return &queryOut{UserName: in.UserName}, nil
		})},
	})
	g := gateway.New(gateway.Config{
		Catalog:    catalog.New(jsonSvc, restSvc, querySvc),
		Codecs:     server.Codecs(),
		DB:         db,
		Keys:       accts,
		Authorizer: authz.RootOnly{},
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:        func() time.Time { return h.clock() },
	})
	h.g = g
	hs := httptest.NewServer(g)
	t.Cleanup(hs.Close)
	h.url = hs.URL
	return h
}

func (h *harness) clock() time.Time {
	if h.now.IsZero() {
		return time.Now()
	}
	return h.now
}

// signed builds a request signed for service at time at.
func (h *harness) signed(method, path, service string, body []byte, hdr map[string]string, creds aws.Credentials, at time.Time) *http.Request {
	req, err := http.NewRequest(method, h.url+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", at); err != nil {
		h.t.Fatal(err)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	return req
}

type errorShape struct {
	status int
	code   string
	body   string
}

func do(t *testing.T, req *http.Request) errorShape {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("x-amzn-RequestId") == "" && resp.Header.Get("x-amz-request-id") == "" {
		t.Errorf("%s %s: response without a request ID", req.Method, req.URL.Path)
	}
	es := errorShape{status: resp.StatusCode, body: string(b)}
	es.code = resp.Header.Get("x-amzn-ErrorType")
	if i := strings.IndexByte(es.code, ':'); i >= 0 {
		es.code = es.code[:i]
	}
	if es.code == "" && len(b) > 0 {
		var j struct {
			Type string `json:"__type"`
		}
		if json.Unmarshal(b, &j) == nil && j.Type != "" {
			es.code = j.Type[strings.LastIndexByte(j.Type, '#')+1:]
		}
		var x struct {
			Code string `xml:"Error>Code"`
		}
		if es.code == "" && xml.Unmarshal(b, &x) == nil {
			es.code = x.Code
		}
	}
	return es
}

// emptyHash is the payload hash of an empty body; presigned URLs for
// services other than S3 sign it rather than UNSIGNED-PAYLOAD.
const emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

var jsonHdr = map[string]string{"X-Amz-Target": "TestJSON_20200101.Echo", "Content-Type": "application/x-amz-json-1.1"}
var formHdr = map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}

func TestSignedRequestsSucceed(t *testing.T) {
	h := newHarness(t)
	now := time.Now()
	for _, tc := range []struct {
		name    string
		req     *http.Request
		contain string
	}{
		{"json", h.signed("POST", "/", "testjson", []byte(`{"Name":"x","Count":3}`), jsonHdr, h.creds, now), `"Count":3`},
		{"rest-json", h.signed("GET", "/bots/Order%20Flowers/versions/%24LATEST", "testrest", nil, nil, h.creds, now), `"version":"$LATEST"`},
		{"query", h.signed("POST", "/", "testquery", []byte("Action=CreateUser&Version=2010-05-08&UserName=bob"), formHdr, h.creds, now), "<UserName>bob</UserName>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(b), tc.contain) {
				t.Fatalf("status %d body %s", resp.StatusCode, b)
			}
		})
	}
}

// TestSigV4Negative: every authentication failure is refused with the
// service family's code and changes nothing.
func TestSigV4Negative(t *testing.T) {
	h := newHarness(t)
	now := time.Now()
	wrong := h.creds
	wrong.SecretAccessKey = "wrong" + wrong.SecretAccessKey[5:]
	unknown := aws.Credentials{AccessKeyID: "AKIAUNKNOWNKEY000000", SecretAccessKey: "x"}
	jsonBody := []byte(`{"Name":"x"}`)
	queryBody := []byte("Action=CreateUser&Version=2010-05-08&UserName=bob")

	alterBody := func(r *http.Request) *http.Request {
		r.Body = io.NopCloser(strings.NewReader(`{"Name":"y"}`))
		r.ContentLength = 12
		return r
	}
	alterHeader := func(name, v string) func(*http.Request) *http.Request {
		return func(r *http.Request) *http.Request { r.Header.Set(name, v); return r }
	}
	dropHeader := func(name string) func(*http.Request) *http.Request {
		return func(r *http.Request) *http.Request { r.Header.Del(name); return r }
	}
	noAuth := dropHeader("Authorization")
	scope := func(from, to string) func(*http.Request) *http.Request {
		return func(r *http.Request) *http.Request {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), from, to, 1))
			return r
		}
	}
	id := func(r *http.Request) *http.Request { return r }

	type tc struct {
		name   string
		req    func() *http.Request
		mutate func(*http.Request) *http.Request
		status int
		code   string
	}
	json := func(c aws.Credentials, at time.Time) func() *http.Request {
		return func() *http.Request { return h.signed("POST", "/", "testjson", jsonBody, jsonHdr, c, at) }
	}
	query := func(c aws.Credentials, at time.Time) func() *http.Request {
		return func() *http.Request { return h.signed("POST", "/", "testquery", queryBody, formHdr, c, at) }
	}
	cases := []tc{
		{"json wrong secret", json(wrong, now), id, 403, "InvalidSignatureException"},
		{"json altered body", json(h.creds, now), alterBody, 403, "InvalidSignatureException"},
		{"json altered signed header", json(h.creds, now), alterHeader("X-Amz-Target", "TestJSON_20200101.Echo2"), 403, "InvalidSignatureException"},
		{"json dropped signed header", json(h.creds, now), dropHeader("Content-Type"), 403, "InvalidSignatureException"},
		{"json expired date", json(h.creds, now.Add(-20*time.Minute)), id, 403, "InvalidSignatureException"},
		{"json future date", json(h.creds, now.Add(20*time.Minute)), id, 403, "InvalidSignatureException"},
		{"json missing authorization", json(h.creds, now), noAuth, 403, "MissingAuthenticationTokenException"},
		{"json unknown key", json(unknown, now), id, 403, "UnrecognizedClientException"},
		{"json malformed scope", json(h.creds, now), scope("/aws4_request", "/aws5_request"), 403, "IncompleteSignatureException"},
		{"query wrong secret", query(wrong, now), id, 403, "SignatureDoesNotMatch"},
		{"query altered body", query(h.creds, now), func(r *http.Request) *http.Request {
			b := "Action=CreateUser&Version=2010-05-08&UserName=eve"
			r.Body = io.NopCloser(strings.NewReader(b))
			r.ContentLength = int64(len(b))
			return r
		}, 403, "SignatureDoesNotMatch"},
		{"query expired", query(h.creds, now.Add(-16*time.Minute)), id, 403, "RequestExpired"},
		{"query unknown key", query(unknown, now), id, 403, "InvalidClientTokenId"},
		{"query missing authorization", query(h.creds, now), noAuth, 403, "MissingAuthenticationToken"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := h.writes.Load()
			got := do(t, c.mutate(c.req()))
			if got.status != c.status || got.code != c.code {
				t.Fatalf("got %d %s, want %d %s; body %s", got.status, got.code, c.status, c.code, got.body)
			}
			if h.writes.Load() != before {
				t.Fatalf("a refused request ran the operation")
			}
		})
	}

	t.Run("presigned past expiry", func(t *testing.T) {
		// Presigned ten minutes ago for sixty seconds: only time is wrong.
		req2, _ := http.NewRequest("GET", h.url+"/bots/b1/versions/%24LATEST?X-Amz-Expires=60", nil)
		signed2, _, err := v4.NewSigner().PresignHTTP(context.Background(), h.creds, req2, emptyHash, "testrest", "us-east-1", now.Add(-10*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		r, _ := http.NewRequest("GET", signed2, nil)
		got := do(t, r)
		if got.status != 403 {
			t.Fatalf("expired presigned URL: %d %s %s", got.status, got.code, got.body)
		}
		// The same URL presigned now works.
		req3, _ := http.NewRequest("GET", h.url+"/bots/b1/versions/%24LATEST?X-Amz-Expires=60", nil)
		fresh, _, _ := v4.NewSigner().PresignHTTP(context.Background(), h.creds, req3, emptyHash, "testrest", "us-east-1", now)
		r, _ = http.NewRequest("GET", fresh, nil)
		if got := do(t, r); got.status != 200 {
			t.Fatalf("fresh presigned URL: %d %s %s", got.status, got.code, got.body)
		}
	})
}

// TestMalformedInput: bad input is a 400-class error in the protocol's
// shape, never a 500.
func TestMalformedInput(t *testing.T) {
	h := newHarness(t)
	now := time.Now()
	big := bytes.Repeat([]byte("a"), 11<<20)
	cases := []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"json invalid", h.signed("POST", "/", "testjson", []byte(`{"Name":`), jsonHdr, h.creds, now), 400, "SerializationException"},
		{"json wrong type", h.signed("POST", "/", "testjson", []byte(`{"Count":"three"}`), jsonHdr, h.creds, now), 400, "SerializationException"},
		{"json not an object", h.signed("POST", "/", "testjson", []byte(`[1,2]`), jsonHdr, h.creds, now), 400, "SerializationException"},
		{"json unknown target", h.signed("POST", "/", "testjson", []byte(`{}`), map[string]string{"X-Amz-Target": "TestJSON_20200101.Nope"}, h.creds, now), 400, "UnknownOperationException"},
		{"json oversized", h.signed("POST", "/", "testjson", big, jsonHdr, h.creds, now), 413, "RequestEntityTooLarge"},
		{"rest unknown route", h.signed("GET", "/nothing/here", "testrest", nil, nil, h.creds, now), 404, "UnknownOperationException"},
		{"rest bad query int", h.signed("GET", "/bots/b/versions/1?maxResults=abc", "testrest", nil, nil, h.creds, now), 400, ""},
		{"rest invalid json", h.signed("PUT", "/bots/b/versions/1", "testrest", []byte(`{"description":`), nil, h.creds, now), 400, ""},
		{"query unknown action", h.signed("POST", "/", "testquery", []byte("Action=Nope&Version=2010-05-08"), formHdr, h.creds, now), 400, ""},
		{"unknown service", h.signed("POST", "/", "nosuchsvc", []byte(`{}`), jsonHdr, h.creds, now), 400, "UnknownServiceException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := h.writes.Load()
			got := do(t, c.req)
			if got.status != c.status || (c.code != "" && got.code != c.code) || got.code == "" {
				t.Fatalf("got %d %q, want %d %q; body %.300s", got.status, got.code, c.status, c.code, got.body)
			}
			if h.writes.Load() != before {
				t.Fatal("malformed request ran the operation")
			}
		})
	}
}

// BenchmarkGatewayOverhead measures authentication, routing, decoding,
// authorization, the read transaction and encoding around a no-op
// read-only operation, without the network.
func BenchmarkGatewayOverhead(b *testing.B) {
	h := newHarness(b)
	body := []byte(`{"Name":"bench"}`)
	hdr := map[string]string{"X-Amz-Target": "TestJSON_20200101.Describe", "Content-Type": "application/x-amz-json-1.1"}
	signed := h.signed("POST", "/", "testjson", body, hdr, h.creds, time.Now())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		req.Host = signed.Host
		req.Header = signed.Header
		w := httptest.NewRecorder()
		h.g.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
	}
}
