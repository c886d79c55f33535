package restxml

import (
	"lextrail/internal/awserr"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// clientError fails unless err is an AWS-shaped 4xx error: malformed input
// must never become a 500.
func clientError(t *testing.T, stage string, err error) {
	t.Helper()
	if e := awserr.As(err); e.Status < 400 || e.Status >= 500 || e.Code == "" {
		t.Fatalf("%s: %d %s: %v", stage, e.Status, e.Code, err)
	}
}

func FuzzRestXMLRoute(f *testing.F) {
	for _, s := range []string{
		"/", "/b1", "/b1/", "/b1?list-type=2&max-keys=5", "/b1?policy", "/b1//a/../b/./c//", "/b1/a%2Fb%20c", "/b1/%E2%82%AC",
		"//", "/%", "*", "/b1?delete", "/b1/k?list-type=2;x", "/b1?list-type=2&max-keys=99999999999&fetch-owner=maybe",
	} {
		f.Add("GET", s, "")
	}
	f.Add("PUT", "/b1", `<CreateBucketConfiguration><LocationConstraint>x</LocationConstraint></CreateBucketConfiguration>`)
	f.Add("POST", "/b1?delete", `<Delete><Object><Key>a</Key></Object><Quiet>true</Quiet></Delete>`)
	f.Add("PUT", "/b1/k", "data")
	f.Add("HEAD", "/b1", "")
	f.Fuzz(func(t *testing.T, method, target, body string) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Method, r.URL, r.RequestURI = method, u, target
		r.Header.Set("If-Modified-Since", body)
		r.Header.Set("X-Amz-Meta-A", body)
		op, labels, err := Codec{}.Route(s3svc, r, nil)
		if err != nil {
			// S3 answers what it does not implement with 501 NotImplemented.
			if e := awserr.As(err); e.Code != "NotImplemented" {
				clientError(t, "Route", err)
			}
			return
		}
		var b []byte
		if !op.RawBody {
			b = []byte(body)
		}
		if err := (Codec{}).Decode(op, r, labels, b, op.NewInput()); err != nil {
			clientError(t, "Decode", err)
		}
	})
}
