package gateway_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// FuzzGateway sends correctly signed requests with arbitrary methods,
// paths, targets and bodies to every service family of the test catalog:
// whatever they hold, the answer is never a 5xx (S3's 501 NotImplemented
// for an unserved feature aside), always carries a request ID, and an error
// names its code.
func FuzzGateway(f *testing.F) {
	h := newHarness(f)
	f.Add(uint8(0), "POST", "/", "TestJSON_20200101.Echo", []byte(`{"Name":"x","Count":3}`))
	f.Add(uint8(0), "POST", "/", "TestJSON_20200101.Echo", []byte(`{"Name":`))
	f.Add(uint8(0), "POST", "/", "TestJSON_20200101.Describe", []byte(`{"Count":1e400}`))
	f.Add(uint8(0), "GET", "/", "TestJSON_20200101.Nope", []byte(`[]`))
	f.Add(uint8(1), "PUT", "/bots/b/versions/1?maxResults=9", "", []byte(`{"description":"d"}`))
	f.Add(uint8(1), "GET", "/bots/%zz/versions/1", "", []byte(nil))
	f.Add(uint8(1), "DELETE", "/bots/b/versions/1", "", []byte(nil))
	f.Add(uint8(2), "POST", "/", "", []byte("Action=CreateUser&Version=2010-05-08&UserName=bob&MaxItems=3"))
	f.Add(uint8(2), "GET", "/?Action=CreateUser&Version=2010-05-08&MaxItems=x", "", []byte(nil))
	f.Add(uint8(2), "POST", "/", "", []byte("Action=CreateUser&Version=2011-01-01&%"))
	f.Add(uint8(3), "PUT", "/bkt", "", []byte("<CreateBucketConfiguration/>"))
	f.Add(uint8(3), "GET", "/bkt/key?list-type=2", "", []byte(nil))
	services := []struct{ name, contentType string }{
		{"testjson", "application/x-amz-json-1.1"},
		{"testrest", "application/json"},
		{"testquery", "application/x-www-form-urlencoded; charset=utf-8"},
		{"s3", "application/xml"},
	}
	f.Fuzz(func(t *testing.T, which uint8, method, path, target string, body []byte) {
		svc := services[int(which)%len(services)]
		if !strings.HasPrefix(path, "/") || len(body) > 1<<16 {
			return
		}
		req, err := http.NewRequest(method, "http://lextrail.test"+path, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", svc.contentType)
		if svc.name == "testjson" {
			req.Header.Set("X-Amz-Target", target)
		}
		sum := sha256.Sum256(body)
		payload := hex.EncodeToString(sum[:])
		if svc.name == "s3" {
			req.Header.Set("X-Amz-Content-Sha256", payload)
		}
		if err := v4.NewSigner().SignHTTP(context.Background(), h.creds, req, payload, svc.name, "us-east-1", time.Now()); err != nil {
			return
		}
		req.Body = http.NoBody
		if len(body) > 0 {
			req.Body = readCloser{bytes.NewReader(body)}
		}
		w := httptest.NewRecorder()
		h.g.ServeHTTP(w, req)
		if w.Code >= 500 && !(svc.name == "s3" && w.Code == http.StatusNotImplemented) {
			t.Fatalf("%s %s %q: %d %s", method, path, target, w.Code, w.Body.String())
		}
		if w.Header().Get("x-amzn-RequestId") == "" && w.Header().Get("x-amz-request-id") == "" {
			t.Fatalf("no request ID: %d %v", w.Code, w.Header())
		}
		if w.Code >= 400 && method != http.MethodHead && !hasErrorCode(w) {
			t.Fatalf("error without a code: %d %s", w.Code, w.Body.String())
		}
	})
}

// hasErrorCode reports whether an error response names its code in one of
// the protocols' shapes.
func hasErrorCode(w *httptest.ResponseRecorder) bool {
	b := w.Body.String()
	return w.Header().Get("x-amzn-ErrorType") != "" || strings.Contains(b, `"__type":`) || strings.Contains(b, "<Code>")
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }
