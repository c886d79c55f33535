package restjson

import (
	"lextrail/internal/awserr"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"lextrail/internal/catalog"
)

// clientError fails unless err is an AWS-shaped 4xx error: malformed input
// must never become a 500.
func clientError(t *testing.T, stage string, err error) {
	t.Helper()
	if e := awserr.As(err); e.Status < 400 || e.Status >= 500 || e.Code == "" {
		t.Fatalf("%s: %d %s: %v", stage, e.Status, e.Code, err)
	}
}

func request(method, target string) (*http.Request, bool) {
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, false
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Method, r.URL, r.RequestURI = method, u, target
	return r, true
}

func FuzzRestJSONRoute(f *testing.F) {
	for _, s := range []string{
		"/bots/OrderFlowers/versions/%24LATEST", "/bots/", "/bots", "/bots/a%2Fb/versions/1/", "/bots/B/versions/$LATEST",
		"/bots/B/utterances?view=aggregation&bot_versions=1", "/tags/arn%3Aaws", "//", "/%", "/bots//versions/", "*", "",
		"/bot/B/alias/%24LATEST/user/u/session/", "/slottypes/S/version/2?x=%zz",
	} {
		f.Add("GET", s)
	}
	f.Add("PUT", "/bots/B/versions/%24LATEST")
	f.Add("DELETE", "/tags/x?tagKeys=a&tagKeys=")
	f.Fuzz(func(t *testing.T, method, target string) {
		r, ok := request(method, target)
		if !ok {
			return
		}
		if op, labels, err := (Codec{}).Route(models, r, nil); err == nil {
			if op == nil || labels == nil {
				t.Fatalf("nil op or labels without error")
			}
		} else {
			clientError(t, "Route", err)
		}
		if _, _, err := (Codec{}).Route(runtime, r, nil); err != nil {
			clientError(t, "Route", err)
		}
	})
}

func FuzzRestJSONDecode(f *testing.F) {
	f.Add("PUT", "/bots/B/versions/$LATEST", "", "", []byte(`{"description":"d","idleSessionTTLInSeconds":300,"intents":[{"a":1}],"payload":"aGk="}`))
	f.Add("GET", "/bots/?maxResults=5&nextToken=&nameContains=x", "", "", []byte(nil))
	f.Add("GET", "/bots/B/utterances?view=aggregation&bot_versions=1&bot_versions=2", "", "", []byte(nil))
	f.Add("POST", "/bot/B/alias/A/user/U/content", "x-amz-lex-session-attributes", "eyJhIjoiYiJ9", []byte("audio"))
	f.Add("POST", "/bot/B/alias/A/user/U/content", "x-amz-lex-active-contexts", "W3sibmFtZSI6ImMifV0=", []byte(""))
	f.Add("POST", "/bot/B/alias/A/user/U/content", "x-count", "99999999999999999999", []byte(""))
	f.Add("POST", "/bot/B/alias/A/user/U/text", "x-meta-a", "b", []byte(`{"inputText":"hi","sessionAttributes":{"a":"b"}}`))
	f.Fuzz(func(t *testing.T, method, target, hk, hv string, body []byte) {
		r, ok := request(method, target)
		if !ok {
			return
		}
		if hk != "" {
			r.Header[http.CanonicalHeaderKey(hk)] = []string{hv}
		}
		for _, svc := range []*catalog.Service{models, runtime} {
			op, labels, err := Codec{}.Route(svc, r, nil)
			if err != nil {
				clientError(t, "Route", err)
				continue
			}
			b := body
			if op.RawBody {
				b = nil
			}
			if err := (Codec{}).Decode(op, r, labels, b, op.NewInput()); err != nil {
				clientError(t, "Decode", err)
			}
		}
	})
}
