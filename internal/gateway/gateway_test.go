package gateway_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
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
	"lextrail/internal/identity"
	"lextrail/internal/secrets"
	"lextrail/internal/server"
	"lextrail/internal/store"
	"lextrail/internal/testenv/cputime"
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
	MaxItems *int32
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
	keys   *extraKeys
}

// cachedKeys as harnessOpts.keyCacheTTL selects accounts' default key
// cache TTL (the server's configuration).
const cachedKeys = time.Duration(1)

// harnessOpts adjust newHarnessWith.
type harnessOpts struct {
	// keyCacheTTL is accounts.Config.CacheTTL; default -1 (no cache),
	// cachedKeys for the default TTL.
	keyCacheTTL time.Duration
	// authorizer defaults to authz.RootOnly.
	authorizer gateway.Authorizer
}

// extraKeys answers for test keys the accounts store does not hold
// (inactive keys, temporary keys, IAM users) and falls back to it.
type extraKeys struct {
	m     map[string]*accounts.Key
	inner gateway.KeyLookup
}

func (k *extraKeys) Lookup(ctx context.Context, id string) (*accounts.Key, error) {
	if key, ok := k.m[id]; ok {
		return key, nil
	}
	return k.inner.Lookup(ctx, id)
}

func newHarness(t testing.TB) *harness { return newHarnessWith(t, harnessOpts{}) }

func newHarnessWith(t testing.TB, o harnessOpts) *harness {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, store.Config{URL: "sqlite://" + filepath.Join(dir, "db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// The test operations' state: one row per write that ran.
	if err := db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `CREATE TABLE gw_writes (op TEXT NOT NULL, arg TEXT NOT NULL)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	key, _ := secrets.LoadOrCreate(dir, "")
	sealer, _ := secrets.New(key)
	switch o.keyCacheTTL {
	case 0:
		o.keyCacheTTL = -1 // tests see key changes at once
	case cachedKeys:
		o.keyCacheTTL = 0 // accounts' default TTL
	}
	accts := accounts.New(db, sealer, accounts.Config{CacheTTL: o.keyCacheTTL})
	root := accounts.NewRootCredentials()
	if _, err := accts.EnsureDefault(ctx, accounts.Bootstrap{AccountID: account, AccessKeyID: root.AccessKeyID, SecretAccessKey: root.SecretAccessKey}); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, creds: aws.Credentials{AccessKeyID: root.AccessKeyID, SecretAccessKey: root.SecretAccessKey}, db: db,
		writes: new(atomic.Int64), keys: &extraKeys{m: map[string]*accounts.Key{}, inner: accts}}

	record := func(ctx context.Context, c *catalog.Call, op, arg string) error {
		h.writes.Add(1)
		_, err := c.Tx.Exec(ctx, `INSERT INTO gw_writes (op, arg) VALUES ($1, $2)`, op, arg)
		return err
	}
	write := func(ctx context.Context, c *catalog.Call, in *echoIn) (*echoOut, error) {
		if err := record(ctx, c, "Echo", in.Name); err != nil {
			return nil, err
		}
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
			// Ping does nothing and opens no transaction: the gateway
			// overhead benchmark measures everything around it.
			catalog.Define(catalog.Operation{Name: "Ping", NoTx: true, Resources: func(c *catalog.Call, in any) []catalog.Resource {
				return []catalog.Resource{{ARN: "arn:aws:testjson:us-east-1:" + c.AccountID() + ":thing/" + in.(*echoIn).Name}}
			}}, func(_ context.Context, c *catalog.Call, in *echoIn) (*echoOut, error) {
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
				func(ctx context.Context, c *catalog.Call, in *restIn) (*restOut, error) {
					if err := record(ctx, c, "PutThing", in.Bot); err != nil {
						return nil, err
					}
					return &restOut{Name: in.Bot, Version: in.Version, Desc: in.Desc}, nil
				}),
		},
	})
	querySvc := catalog.NewService(&catalog.Service{
		Name: "testquery", SigningName: "testquery", EventSource: "testquery.amazonaws.com", Protocol: catalog.Query,
		APIVersion: "2010-05-08", XMLNamespace: "https://testquery.amazonaws.com/doc/2010-05-08/", AccessDeniedCode: "AccessDenied",
		Ops: []*catalog.Operation{catalog.Define(catalog.Operation{Name: "CreateUser"}, func(ctx context.Context, c *catalog.Call, in *queryIn) (*queryOut, error) {
			if err := record(ctx, c, "CreateUser", in.UserName); err != nil {
				return nil, err
			}
			return &queryOut{UserName: in.UserName}, nil
		})},
	})
	s3Svc := catalog.NewService(&catalog.Service{
		Name: "tests3", SigningName: "s3", EventSource: "s3.amazonaws.com", Protocol: catalog.RestXML, AccessDeniedCode: "AccessDenied",
		Ops: []*catalog.Operation{catalog.Define(catalog.Operation{Name: "CreateBucket", HTTP: "PUT /{Bucket}"},
			func(ctx context.Context, c *catalog.Call, in *s3In) (*struct{}, error) {
				if err := record(ctx, c, "CreateBucket", in.Bucket); err != nil {
					return nil, err
				}
				return &struct{}{}, nil
			})},
	})
	authorizer := o.authorizer
	if authorizer == nil {
		authorizer = authz.RootOnly{}
	}
	g := gateway.New(gateway.Config{
		Catalog:    catalog.New(jsonSvc, restSvc, querySvc, s3Svc),
		Codecs:     server.Codecs(),
		DB:         db,
		Keys:       h.keys,
		Authorizer: authorizer,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:        func() time.Time { return h.clock() },
	})
	h.g = g
	hs := httptest.NewServer(g)
	t.Cleanup(hs.Close)
	h.url = hs.URL
	return h
}

type s3In struct {
	Bucket string `location:"uri" locationName:"Bucket"`
}

// rows is the number of writes the database holds.
func (h *harness) rows() int {
	var n int
	if err := h.db.Read(context.Background(), func(tx *store.Tx) error {
		return tx.QueryRow(context.Background(), `SELECT COUNT(*) FROM gw_writes`).Scan(&n)
	}); err != nil {
		h.t.Fatal(err)
	}
	return n
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
			XMLName xml.Name
			Code    string `xml:"Code"`
			Nested  string `xml:"Error>Code"`
		}
		if es.code == "" && xml.Unmarshal(b, &x) == nil {
			es.code = x.Nested // <ErrorResponse><Error><Code>
			if x.XMLName.Local == "Error" {
				es.code = x.Code // S3's <Error><Code>
			}
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

// authWant is the refusal one flavor answers to one failure.
type authWant struct {
	status int
	code   string
	msg    string // substring of the message, optional
}

// flavorCase is one service family of the negative table: how to build a
// signed mutating request and a presigned one, and what it answers.
type flavorCase struct {
	name, service string
	method, path  string
	hdr           map[string]string
	body, altered string
	s3            bool // sends X-Amz-Content-Sha256 and presigns UNSIGNED-PAYLOAD
	presignMethod string
	presignPath   string
	presignHdr    map[string]string
	presignBody   string
	want          map[string]authWant
}

func negativeFlavors() []flavorCase {
	jsonFam := func(sig, expired, missing, unknown, malformed, token, tokenExpired authWant) map[string]authWant {
		return map[string]authWant{
			"wrong secret": sig, "altered body": sig, "altered signed header": sig, "dropped signed header": sig,
			"expired date":          {expired.status, expired.code, "Signature expired: "},
			"future date":           {expired.status, expired.code, "Signature not yet current: "},
			"missing Authorization": missing, "unknown key": unknown, "inactive key": unknown,
			"malformed credential scope": malformed, "wrong session token": token, "expired session token": tokenExpired,
			"presigned past expiry": sig,
		}
	}
	jsonWant := jsonFam(authWant{403, "InvalidSignatureException", "The request signature we calculated does not match"},
		authWant{403, "InvalidSignatureException", ""},
		authWant{403, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		authWant{403, "UnrecognizedClientException", "The security token included in the request is invalid."},
		authWant{403, "IncompleteSignatureException", "valid terminator"},
		authWant{403, "UnrecognizedClientException", "The security token included in the request is invalid."},
		authWant{403, "ExpiredTokenException", "The security token included in the request is expired"})
	jsonWant["presigned past expiry"] = authWant{403, "InvalidSignatureException", "Request has expired"}
	queryWant := jsonFam(authWant{403, "SignatureDoesNotMatch", "The request signature we calculated does not match"},
		authWant{403, "SignatureDoesNotMatch", ""},
		authWant{403, "MissingAuthenticationToken", "Request is missing Authentication Token"},
		authWant{403, "InvalidClientTokenId", "The security token included in the request is invalid."},
		authWant{400, "IncompleteSignature", "valid terminator"},
		authWant{403, "InvalidClientTokenId", "The security token included in the request is invalid."},
		authWant{403, "ExpiredToken", "The security token included in the request is expired"})
	queryWant["presigned past expiry"] = authWant{403, "SignatureDoesNotMatch", "Request has expired"}
	sigS3 := authWant{403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method."}
	s3Want := map[string]authWant{
		"wrong secret": sigS3, "altered signed header": sigS3, "dropped signed header": sigS3,
		// S3 checks the declared payload hash first (400, as on AWS).
		"altered body":               {400, "XAmzContentSHA256Mismatch", "x-amz-content-sha256"},
		"expired date":               {403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."},
		"future date":                {403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."},
		"missing Authorization":      {403, "AccessDenied", "Access Denied"},
		"unknown key":                {403, "InvalidAccessKeyId", "does not exist in our records"},
		"inactive key":               {403, "InvalidAccessKeyId", "does not exist in our records"},
		"malformed credential scope": {400, "AuthorizationHeaderMalformed", "valid terminator"},
		"wrong session token":        {403, "InvalidToken", "The provided token is malformed or otherwise invalid."},
		"expired session token":      {403, "ExpiredToken", "The provided token has expired."},
		"presigned past expiry":      {403, "AccessDenied", "Request has expired"},
	}
	return []flavorCase{
		{name: "json", service: "testjson", method: "POST", path: "/", hdr: jsonHdr, body: `{"Name":"x"}`, altered: `{"Name":"y"}`,
			presignMethod: "POST", presignPath: "/", presignHdr: jsonHdr, presignBody: `{"Name":"p"}`, want: jsonWant},
		{name: "rest-json", service: "testrest", method: "PUT", path: "/bots/b1/versions/1", body: `{"description":"d"}`, altered: `{"description":"e"}`,
			presignMethod: "PUT", presignPath: "/bots/b2/versions/1", presignBody: `{"description":"p"}`, want: jsonWant},
		{name: "query", service: "testquery", method: "POST", path: "/", hdr: formHdr, body: "Action=CreateUser&Version=2010-05-08&UserName=bob",
			altered:       "Action=CreateUser&Version=2010-05-08&UserName=eve",
			presignMethod: "GET", presignPath: "/?Action=CreateUser&Version=2010-05-08&UserName=pat", want: queryWant},
		{name: "s3", service: "s3", method: "PUT", path: "/bkt1", s3: true, body: "", altered: "x",
			presignMethod: "PUT", presignPath: "/bkt2", want: s3Want},
	}
}

// TestSigV4Negative: every authentication failure, in every service
// family, is refused with the family's status, code and message, and
// changes nothing; the same requests unmutated succeed and write.
func TestSigV4Negative(t *testing.T) {
	h := newHarness(t)
	now := time.Now()
	h.now = now
	wrong := h.creds
	wrong.SecretAccessKey = "wrong" + wrong.SecretAccessKey[5:]
	unknown := aws.Credentials{AccessKeyID: "AKIAUNKNOWNKEY000000", SecretAccessKey: "x"}
	inactive := aws.Credentials{AccessKeyID: "AKIAINACTIVEKEY00000", SecretAccessKey: "inactive-secret"}
	session := aws.Credentials{AccessKeyID: "ASIASESSIONKEY000000", SecretAccessKey: "session-secret", SessionToken: "good-token"}
	expired := aws.Credentials{AccessKeyID: "ASIAEXPIREDKEY000000", SecretAccessKey: "expired-secret", SessionToken: "old-token"}
	h.keys.m[inactive.AccessKeyID] = &accounts.Key{AccessKeyID: inactive.AccessKeyID, Secret: inactive.SecretAccessKey, Status: "Inactive",
		Principal: identity.Root(account, inactive.AccessKeyID)}
	h.keys.m[session.AccessKeyID] = &accounts.Key{AccessKeyID: session.AccessKeyID, Secret: session.SecretAccessKey, Status: "Active",
		SessionToken: session.SessionToken, Expiration: now.Add(time.Hour), Principal: identity.Root(account, session.AccessKeyID)}
	h.keys.m[expired.AccessKeyID] = &accounts.Key{AccessKeyID: expired.AccessKeyID, Secret: expired.SecretAccessKey, Status: "Active",
		SessionToken: expired.SessionToken, Expiration: now.Add(-time.Second), Principal: identity.Root(account, expired.AccessKeyID)}
	badToken := session
	badToken.SessionToken = "forged-token"

	type mutation struct {
		name   string
		creds  aws.Credentials
		at     time.Duration
		mutate func(f flavorCase, r *http.Request)
	}
	setBody := func(r *http.Request, b string) {
		r.Body = io.NopCloser(strings.NewReader(b))
		r.ContentLength = int64(len(b))
	}
	mutations := []mutation{
		{name: "wrong secret", creds: wrong},
		{name: "altered body", mutate: func(f flavorCase, r *http.Request) { setBody(r, f.altered) }},
		{name: "altered signed header", mutate: func(_ flavorCase, r *http.Request) { r.Header.Set("X-Lextrail-Test", "altered") }},
		{name: "dropped signed header", mutate: func(_ flavorCase, r *http.Request) { r.Header.Del("X-Lextrail-Test") }},
		{name: "expired date", at: -20 * time.Minute},
		{name: "future date", at: 20 * time.Minute},
		{name: "missing Authorization", mutate: func(_ flavorCase, r *http.Request) { r.Header.Del("Authorization") }},
		{name: "unknown key", creds: unknown},
		{name: "inactive key", creds: inactive},
		{name: "malformed credential scope", mutate: func(_ flavorCase, r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/aws4_request", "/aws5_request", 1))
		}},
		{name: "wrong session token", creds: badToken},
		{name: "expired session token", creds: expired},
	}
	build := func(f flavorCase, creds aws.Credentials, at time.Time) *http.Request {
		hdr := map[string]string{"X-Lextrail-Test": "v"}
		for k, v := range f.hdr {
			hdr[k] = v
		}
		if f.s3 {
			sum := sha256.Sum256([]byte(f.body))
			hdr["X-Amz-Content-Sha256"] = hex.EncodeToString(sum[:])
		}
		return h.signed(f.method, f.path, f.service, []byte(f.body), hdr, creds, at)
	}
	presign := func(f flavorCase, at time.Time) *http.Request {
		target := f.presignPath
		if strings.Contains(target, "?") {
			target += "&X-Amz-Expires=60"
		} else {
			target += "?X-Amz-Expires=60"
		}
		req, _ := http.NewRequest(f.presignMethod, h.url+target, strings.NewReader(f.presignBody))
		for k, v := range f.presignHdr {
			req.Header.Set(k, v)
		}
		sum := sha256.Sum256([]byte(f.presignBody))
		payload := hex.EncodeToString(sum[:])
		if f.s3 {
			payload = "UNSIGNED-PAYLOAD"
		}
		u, signedHdr, err := v4.NewSigner().PresignHTTP(context.Background(), h.creds, req, payload, f.service, "us-east-1", at)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := http.NewRequest(f.presignMethod, u, strings.NewReader(f.presignBody))
		// The signer hoists X-Amz-* headers into the query; the codec
		// still routes on the header, which stays unsigned beside it.
		for k, v := range f.presignHdr {
			r.Header.Set(k, v)
		}
		for k, v := range signedHdr {
			if !strings.EqualFold(k, "Host") {
				r.Header[k] = v
			}
		}
		return r
	}
	check := func(t *testing.T, req *http.Request, w authWant) {
		t.Helper()
		before, rows := h.writes.Load(), h.rows()
		got := do(t, req)
		if got.status != w.status || got.code != w.code || !strings.Contains(got.body, xmlEscape(w.msg)) {
			t.Fatalf("got %d %s, want %d %s %q; body %.400s", got.status, got.code, w.status, w.code, w.msg, got.body)
		}
		if h.writes.Load() != before || h.rows() != rows {
			t.Fatal("a refused request changed state")
		}
	}
	ok := func(t *testing.T, req *http.Request) {
		t.Helper()
		rows := h.rows()
		if got := do(t, req); got.status != 200 {
			t.Fatalf("control request: %d %s %.300s", got.status, got.code, got.body)
		}
		if h.rows() != rows+1 {
			t.Fatal("control request wrote nothing")
		}
	}
	for _, f := range negativeFlavors() {
		t.Run(f.name, func(t *testing.T) {
			if len(f.want) != len(mutations)+1 {
				t.Fatalf("%d expectations for %d cases", len(f.want), len(mutations)+1)
			}
			t.Run("control: signed", func(t *testing.T) { ok(t, build(f, h.creds, now)) })
			t.Run("control: session token", func(t *testing.T) { ok(t, build(f, session, now)) })
			for _, m := range mutations {
				t.Run(m.name, func(t *testing.T) {
					creds := h.creds
					if m.creds.AccessKeyID != "" {
						creds = m.creds
					}
					req := build(f, creds, now.Add(m.at))
					if m.mutate != nil {
						m.mutate(f, req)
					}
					check(t, req, f.want[m.name])
				})
			}
			// Presigned ten minutes ago for sixty seconds: only time is wrong.
			t.Run("presigned past expiry", func(t *testing.T) { check(t, presign(f, now.Add(-10*time.Minute)), f.want["presigned past expiry"]) })
			t.Run("control: presigned now", func(t *testing.T) { ok(t, presign(f, now)) })
		})
	}
}

// xmlEscape escapes what encoding/xml escapes in text, so that expected
// messages match XML bodies as well as JSON ones.
func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
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
		{"rest wrong member type", h.signed("PUT", "/bots/b/versions/1", "testrest", []byte(`{"description":7}`), nil, h.creds, now), 400, "BadRequestException"},
		{"rest oversized", h.signed("PUT", "/bots/b/versions/1", "testrest", big, nil, h.creds, now), 413, "RequestEntityTooLarge"},
		{"query wrong member type", h.signed("POST", "/", "testquery", []byte("Action=CreateUser&Version=2010-05-08&UserName=bob&MaxItems=many"), formHdr, h.creds, now), 400, "InvalidParameterValue"},
		{"query missing action", h.signed("POST", "/", "testquery", []byte("Version=2010-05-08&UserName=bob"), formHdr, h.creds, now), 400, "MissingAction"},
		{"query bad encoding", h.signed("POST", "/", "testquery", []byte("Action=CreateUser&Version=2010-05-08&UserName=%zz"), formHdr, h.creds, now), 400, "MalformedQueryString"},
		{"query oversized", h.signed("POST", "/", "testquery", append([]byte("Action=CreateUser&Version=2010-05-08&UserName="), big...), formHdr, h.creds, now), 413, "RequestEntityTooLarge"},
		{"s3 oversized", h.signed("PUT", "/bkt", "s3", big, map[string]string{"X-Amz-Content-Sha256": hexSum(big)}, h.creds, now), 413, "EntityTooLarge"},
		{"json oversized without Content-Length", chunked(h.signed("POST", "/", "testjson", big, jsonHdr, h.creds, now)), 413, "RequestEntityTooLarge"},
		{"query oversized without Content-Length", chunked(h.signed("POST", "/", "testquery", append([]byte("Action=CreateUser&Version=2010-05-08&UserName="), big...), formHdr, h.creds, now)), 413, "RequestEntityTooLarge"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, rows := h.writes.Load(), h.rows()
			got := do(t, c.req)
			if got.status != c.status || (c.code != "" && got.code != c.code) || got.code == "" {
				t.Fatalf("got %d %q, want %d %q; body %.300s", got.status, got.code, c.status, c.code, got.body)
			}
			if h.writes.Load() != before || h.rows() != rows {
				t.Fatal("malformed request ran the operation")
			}
		})
	}
}

func hexSum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// chunked sends r's body with Transfer-Encoding: chunked (no
// Content-Length), so the limit is enforced while reading.
func chunked(r *http.Request) *http.Request {
	r.ContentLength = -1
	r.Body = io.NopCloser(r.Body) // hides the length from the transport
	return r
}

// benchWriter is a reusable http.ResponseWriter.
type benchWriter struct {
	header http.Header
	status int
	body   []byte
}

func (w *benchWriter) Header() http.Header { return w.header }
func (w *benchWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *benchWriter) Write(p []byte) (int, error) {
	w.WriteHeader(200)
	w.body = append(w.body, p...)
	return len(p), nil
}

// policyDocs is an in-memory authz.PolicySource.
type policyDocs map[string][]string

func (d policyDocs) InlinePolicies(_ context.Context, acct, kind, name string) ([]string, error) {
	return d[acct+"/"+kind+"/"+name], nil
}

// BenchmarkGatewayOverhead measures one request's way through the gateway
// around an operation that does nothing, without the network: SigV4
// verification, key lookup, routing, decoding, authorization, encoding and
// metrics. The server's configuration: the key cache on (accounts' default
// 2s TTL) and the IAM authorizer. Sub-benchmarks:
//
//	NoTx/root              root caller, no-op operation without transaction
//	NoTx/user-10x10        IAM user with 10 inline policies of 10 statements
//	ReadTx/root            the no-op inside a SQLite read transaction
//	NoTx/root-uncached-key the key read from the database on every request
func BenchmarkGatewayOverhead(b *testing.B) {
	const userKey, userSecret = "AKIABENCHUSER0000000", "bench-user-secret"
	docs := policyDocs{}
	var pols []string
	for i := 0; i < 10; i++ {
		var stmts []string
		for j := 0; j < 10; j++ {
			action, resource := fmt.Sprintf("svc%d:Action%d*", i, j), fmt.Sprintf("arn:aws:svc%d:us-east-1:%s:thing/%d/*", i, account, j)
			if i == 9 && j == 9 {
				action, resource = "testjson:Ping", "arn:aws:testjson:*:"+account+":thing/*"
			}
			stmts = append(stmts, fmt.Sprintf(`{"Effect":"Allow","Action":%q,"Resource":%q,"Condition":{"StringEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}}`, action, resource))
		}
		pols = append(pols, `{"Version":"2012-10-17","Statement":[`+strings.Join(stmts, ",")+`]}`)
	}
	docs[account+"/user/bench"] = pols
	user := &accounts.Key{AccessKeyID: userKey, Secret: userSecret, Status: "Active", Principal: &identity.Principal{
		Type: identity.TypeIAMUser, AccountID: account, ARN: "arn:aws:iam::" + account + ":user/bench",
		PrincipalID: "AIDABENCH", UserID: "AIDABENCH", UserName: "bench"}}

	run := func(b *testing.B, keyCache time.Duration, target string, asUser bool) {
		h := newHarnessWith(b, harnessOpts{keyCacheTTL: keyCache, authorizer: authz.New(authz.Config{Policies: docs})})
		h.keys.m[userKey] = user
		creds := h.creds
		if asUser {
			creds = aws.Credentials{AccessKeyID: userKey, SecretAccessKey: userSecret}
		}
		body := []byte(`{"Name":"bench"}`)
		hdr := map[string]string{"X-Amz-Target": "TestJSON_20200101." + target, "Content-Type": "application/x-amz-json-1.1"}
		signed := h.signed("POST", "/", "testjson", body, hdr, creds, time.Now())
		rd := bytes.NewReader(body)
		req := httptest.NewRequest("POST", "/", rd)
		req.Host = signed.Host
		req.Header = signed.Header
		w := &benchWriter{header: http.Header{}}
		b.ReportAllocs()
		b.ResetTimer()
		defer cputime.Report(b)()
		for i := 0; i < b.N; i++ {
			rd.Reset(body)
			req.Body = io.NopCloser(rd)
			clear(w.header)
			w.status, w.body = 0, w.body[:0]
			h.g.ServeHTTP(w, req)
			if w.status != 200 {
				b.Fatalf("status %d: %s", w.status, w.body)
			}
		}
	}
	b.Run("NoTx/root", func(b *testing.B) { run(b, cachedKeys, "Ping", false) })
	b.Run("NoTx/user-10x10", func(b *testing.B) { run(b, cachedKeys, "Ping", true) })
	b.Run("ReadTx/root", func(b *testing.B) { run(b, cachedKeys, "Describe", false) })
	b.Run("NoTx/root-uncached-key", func(b *testing.B) { run(b, -1, "Ping", false) })
}
