package sigv4

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

type want struct {
	code   string
	status int
}

// negCase mutates a correctly signed request (as the server received it)
// and expects a failure of kind at Parse or Verify.
type negCase struct {
	name   string
	shape  reqShape
	signAt time.Duration // signing time relative to testNow
	mutate func(r *http.Request, body *[]byte)
	secret string // default: the signing secret
	kind   Kind
	msg    string // substring of Error.Message, optional
	json   want
	query  want
	s3     want
}

func jsonShape() reqShape { return oracleShapes()[0] }
func s3PutShape() reqShape {
	return oracleShapes()[4]
}
func presignS3Shape() reqShape { return oracleShapes()[8] }

func replaceAuth(old, new string) func(*http.Request, *[]byte) {
	return func(r *http.Request, _ *[]byte) {
		r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, new, 1))
	}
}

func replaceQuery(old, new string) func(*http.Request, *[]byte) {
	return func(r *http.Request, _ *[]byte) {
		r.URL.RawQuery = strings.Replace(r.URL.RawQuery, old, new, 1)
	}
}

var (
	wSigJSON   = want{"InvalidSignatureException", 403}
	wSigQuery  = want{"SignatureDoesNotMatch", 403}
	wSigS3     = want{"SignatureDoesNotMatch", 403}
	wMalJSON   = want{"IncompleteSignatureException", 403}
	wMalQuery  = want{"IncompleteSignature", 400}
	wMalS3     = want{"AuthorizationHeaderMalformed", 400}
	wMalS3Q    = want{"AuthorizationQueryParametersError", 400}
	wSkewJSON  = want{"InvalidSignatureException", 403}
	wSkewQuery = want{"SignatureDoesNotMatch", 403}
	wSkewS3    = want{"RequestTimeTooSkewed", 403}
)

func negativeCases() []negCase {
	return []negCase{
		{name: "wrong secret", shape: jsonShape(), secret: "not-the-secret", kind: SignatureMismatch,
			json: wSigJSON, query: wSigQuery, s3: wSigS3},
		{name: "altered body (no content-sha header)", shape: jsonShape(),
			mutate: func(_ *http.Request, b *[]byte) { *b = []byte(strings.Replace(string(*b), "5", "6", 1)) },
			kind:   SignatureMismatch, json: wSigJSON, query: wSigQuery, s3: wSigS3},
		{name: "altered body under signed x-amz-content-sha256", shape: s3PutShape(),
			mutate: func(_ *http.Request, b *[]byte) { *b = append(*b, '!') },
			kind:   ContentHashMismatch, json: wSigJSON, query: wSigQuery, s3: want{"XAmzContentSHA256Mismatch", 400}},
		{name: "altered x-amz-content-sha256", shape: s3PutShape(),
			mutate: func(r *http.Request, _ *[]byte) { r.Header.Set("X-Amz-Content-Sha256", hexSHA([]byte("other"))) },
			kind:   SignatureMismatch, json: wSigJSON, query: wSigQuery, s3: wSigS3},
		{name: "altered signed header", shape: jsonShape(),
			mutate: func(r *http.Request, _ *[]byte) { r.Header.Set("X-Amz-Target", "CloudTrail_20131101.DeleteTrail") },
			kind:   SignatureMismatch, json: wSigJSON, query: wSigQuery, s3: wSigS3},
		{name: "dropped signed header", shape: jsonShape(),
			mutate: func(r *http.Request, _ *[]byte) { r.Header.Del("X-Amz-Target") },
			kind:   SignatureMismatch, json: wSigJSON, query: wSigQuery, s3: wSigS3},
		{name: "altered host", shape: jsonShape(),
			mutate: func(r *http.Request, _ *[]byte) { r.Host = "localhost:4567" },
			kind:   SignatureMismatch, json: wSigJSON, query: wSigQuery, s3: wSigS3},
		{name: "altered path", shape: oracleShapes()[1],
			mutate: func(r *http.Request, _ *[]byte) {
				r.URL.Path = "/bots/Order Flowers/versions/1"
				r.URL.RawPath = "/bots/Order%20Flowers/versions/1"
			},
			kind: SignatureMismatch, json: wSigJSON, query: wSigQuery, s3: wSigS3},
		{name: "added query parameter", shape: oracleShapes()[1], mutate: replaceQuery("maxResults=10", "maxResults=11"),
			kind: SignatureMismatch, json: wSigJSON, query: wSigQuery, s3: wSigS3},
		{name: "expired date (20 min old)", shape: jsonShape(), signAt: -20 * time.Minute, kind: RequestExpired,
			msg:  "Signature expired: 20261122T132507Z is now earlier than 20261122T133007Z (20261122T134507Z - 15 min.)",
			json: wSkewJSON, query: wSkewQuery, s3: wSkewS3},
		{name: "future date (20 min ahead)", shape: jsonShape(), signAt: 20 * time.Minute, kind: RequestExpired,
			msg:  "Signature not yet current: 20261122T140507Z is still later than 20261122T140007Z (20261122T134507Z + 15 min.)",
			json: wSkewJSON, query: wSkewQuery, s3: wSkewS3},
		{name: "missing Authorization", shape: jsonShape(),
			mutate: func(r *http.Request, _ *[]byte) { r.Header.Del("Authorization") },
			kind:   MissingAuth, json: want{"MissingAuthenticationTokenException", 403},
			query: want{"MissingAuthenticationToken", 403}, s3: want{"AccessDenied", 403}},
		{name: "credential scope with four parts", shape: jsonShape(), mutate: replaceAuth("/us-east-1/cloudtrail/", "/us-east-1/"),
			kind: Malformed, msg: "Credential is mal-formed", json: wMalJSON, query: wMalQuery, s3: wMalS3},
		{name: "credential scope with six parts", shape: jsonShape(), mutate: replaceAuth("/us-east-1/", "/us-east-1/x/"),
			kind: Malformed, json: wMalJSON, query: wMalQuery, s3: wMalS3},
		{name: "credential scope empty region", shape: jsonShape(), mutate: replaceAuth("/us-east-1/", "//"),
			kind: Malformed, json: wMalJSON, query: wMalQuery, s3: wMalS3},
		{name: "credential scope bad date", shape: jsonShape(), mutate: replaceAuth("/20261122/", "/2026-11-2/"),
			kind: Malformed, json: wMalJSON, query: wMalQuery, s3: wMalS3},
		{name: "credential scope date differs from X-Amz-Date", shape: jsonShape(), mutate: replaceAuth("/20261122/", "/20261121/"),
			kind: Malformed, msg: "Date in Credential scope does not match", json: wMalJSON, query: wMalQuery, s3: wMalS3},
		{name: "credential missing", shape: jsonShape(), mutate: replaceAuth("Credential=", "Credentials="),
			kind: Malformed, json: wMalJSON, query: wMalQuery, s3: wMalS3},
		{name: "signature parameter missing", shape: jsonShape(),
			mutate: func(r *http.Request, _ *[]byte) {
				h := r.Header.Get("Authorization")
				r.Header.Set("Authorization", h[:strings.Index(h, ", Signature=")])
			},
			kind: Malformed, msg: "requires 'Signature' parameter", json: wMalJSON, query: wMalQuery, s3: wMalS3},
		{name: "wrong terminator", shape: jsonShape(), mutate: replaceAuth("/aws4_request", "/aws4_requests"),
			kind: Malformed, msg: "valid terminator: 'aws4_request', not 'aws4_requests'", json: wMalJSON, query: wMalQuery, s3: wMalS3},
		{name: "bad algorithm", shape: jsonShape(), mutate: replaceAuth("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"),
			kind: Malformed, msg: "Unsupported AWS 'algorithm'", json: wMalJSON, query: wMalQuery, s3: wMalS3},
		{name: "signature hex too short", shape: jsonShape(),
			mutate: func(r *http.Request, _ *[]byte) {
				h := r.Header.Get("Authorization")
				r.Header.Set("Authorization", h[:len(h)-1])
			},
			kind: Malformed, json: wMalJSON, query: wMalQuery, s3: wMalS3},
		{name: "signature not hex", shape: jsonShape(),
			mutate: func(r *http.Request, _ *[]byte) {
				h := r.Header.Get("Authorization")
				r.Header.Set("Authorization", h[:len(h)-1]+"g")
			},
			kind: Malformed, json: wMalJSON, query: wMalQuery, s3: wMalS3},
		{name: "host not signed", shape: jsonShape(), mutate: replaceAuth("content-type;host;", "content-type;"),
			kind: Malformed, msg: "'Host'", json: wMalJSON, query: wMalQuery, s3: wMalS3},
		{name: "x-amz-date not signed", shape: jsonShape(), mutate: replaceAuth(";x-amz-date", ""),
			kind: Malformed, msg: "'X-Amz-Date' must be a 'SignedHeader'", json: wMalJSON, query: wMalQuery, s3: wMalS3},
		{name: "bad X-Amz-Date", shape: jsonShape(),
			mutate: func(r *http.Request, _ *[]byte) { r.Header.Set("X-Amz-Date", "2026-11-22T13:45:07Z") },
			kind:   Malformed, msg: "ISO-8601", json: wMalJSON, query: wMalQuery, s3: wMalS3},
		{name: "bad x-amz-content-sha256 value", shape: s3PutShape(),
			mutate: func(r *http.Request, _ *[]byte) { r.Header.Set("X-Amz-Content-Sha256", "abc") },
			kind:   Malformed, json: wMalJSON, query: wMalQuery, s3: wMalS3},
		{name: "presigned past expiry", shape: presignS3Shape(), signAt: -6 * time.Minute, kind: PresignExpired,
			json: wSigJSON, query: wSigQuery, s3: want{"AccessDenied", 403}},
		{name: "presigned too far in the future", shape: presignS3Shape(), signAt: 16 * time.Minute, kind: RequestExpired,
			json: wSkewJSON, query: wSkewQuery, s3: wSkewS3},
		{name: "presigned bad algorithm", shape: presignS3Shape(), mutate: replaceQuery("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"),
			kind: Malformed, json: wMalJSON, query: wMalQuery, s3: wMalS3Q},
		{name: "presigned expires over a week", shape: presignS3Shape(), mutate: replaceQuery("X-Amz-Expires=300", "X-Amz-Expires=604801"),
			kind: Malformed, msg: "604800", json: wMalJSON, query: wMalQuery, s3: wMalS3Q},
		{name: "presigned missing X-Amz-Expires for s3", shape: presignS3Shape(), mutate: replaceQuery("X-Amz-Expires=300", "X-Amz-Foo=300"),
			kind: Malformed, json: wMalJSON, query: wMalQuery, s3: wMalS3Q},
		{name: "presigned missing signature", shape: presignS3Shape(), mutate: replaceQuery("X-Amz-Signature=", "X-Amz-Sig="),
			kind: Malformed, json: wMalJSON, query: wMalQuery, s3: wMalS3Q},
		{name: "presigned wrong terminator", shape: presignS3Shape(), mutate: replaceQuery("aws4_request", "aws5_request"),
			kind: Malformed, json: wMalJSON, query: wMalQuery, s3: wMalS3Q},
		{name: "presigned altered path", shape: presignS3Shape(),
			mutate: func(r *http.Request, _ *[]byte) { r.URL.Path = "/bucket/other.jpg"; r.URL.RawPath = "" },
			kind:   SignatureMismatch, json: wSigJSON, query: wSigQuery, s3: wSigS3},
		{name: "presigned altered expires", shape: presignS3Shape(), mutate: replaceQuery("X-Amz-Expires=300", "X-Amz-Expires=3000"),
			kind: SignatureMismatch, json: wSigJSON, query: wSigQuery, s3: wSigS3},
	}
}

func TestNegative(t *testing.T) {
	for _, c := range negativeCases() {
		t.Run(c.name, func(t *testing.T) {
			r := c.shape.signWithSDK(t, testNow.Add(c.signAt))
			body := readBody(t, r)
			if c.mutate != nil {
				c.mutate(r, &body)
			}
			secret := c.secret
			if secret == "" {
				secret = testCreds.SecretAccessKey
			}
			a, err := Parse(r, testNow)
			if err == nil {
				var vb []byte
				if c.shape.passBody {
					vb = body
				}
				err = a.Verify(r, secret, vb)
			}
			if err == nil {
				t.Fatal("accepted")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if e.Kind != c.kind {
				t.Fatalf("kind = %v (%v), want %v", e.Kind, e, c.kind)
			}
			if c.msg != "" && !strings.Contains(e.Message, c.msg) {
				t.Errorf("message %q lacks %q", e.Message, c.msg)
			}
			for _, f := range []struct {
				flavor Flavor
				w      want
			}{{FlavorJSON, c.json}, {FlavorQuery, c.query}, {FlavorS3, c.s3}} {
				ae := e.AWS(f.flavor)
				if ae.Code != f.w.code || ae.Status != f.w.status {
					t.Errorf("flavor %d: %s %d, want %s %d (%q)", f.flavor, ae.Code, ae.Status, f.w.code, f.w.status, ae.Message)
				}
				if ae.Message == "" || ae.Err != e {
					t.Errorf("flavor %d: message %q, Err %v", f.flavor, ae.Message, ae.Err)
				}
			}
		})
	}
}

func TestCallerKinds(t *testing.T) {
	cases := []struct {
		kind            Kind
		json, query, s3 want
		jsonMsg         string
	}{
		{UnknownKey, want{"UnrecognizedClientException", 403}, want{"InvalidClientTokenId", 403}, want{"InvalidAccessKeyId", 403}, "The security token included in the request is invalid."},
		{InactiveKey, want{"UnrecognizedClientException", 403}, want{"InvalidClientTokenId", 403}, want{"InvalidAccessKeyId", 403}, "The security token included in the request is invalid."},
		{InvalidToken, want{"UnrecognizedClientException", 403}, want{"InvalidClientTokenId", 403}, want{"InvalidToken", 403}, "The security token included in the request is invalid."},
		{ExpiredToken, want{"ExpiredTokenException", 403}, want{"ExpiredToken", 403}, want{"ExpiredToken", 403}, "The security token included in the request is expired"},
		{ChecksumMismatch, want{"InvalidRequestException", 400}, want{"InvalidParameterValue", 400}, want{"BadDigest", 400}, ""},
		{IncompleteBody, want{"SerializationException", 400}, want{"MalformedInput", 400}, want{"IncompleteBody", 400}, ""},
	}
	for _, c := range cases {
		e := NewError(c.kind, "internal detail").WithAccessKey("AKIDUNKNOWN")
		for _, f := range []struct {
			flavor Flavor
			w      want
		}{{FlavorJSON, c.json}, {FlavorQuery, c.query}, {FlavorS3, c.s3}} {
			ae := e.AWS(f.flavor)
			if ae.Code != f.w.code || ae.Status != f.w.status {
				t.Errorf("%v flavor %d: %s %d, want %s %d", c.kind, f.flavor, ae.Code, ae.Status, f.w.code, f.w.status)
			}
		}
		if c.jsonMsg != "" && e.AWS(FlavorJSON).Message != c.jsonMsg {
			t.Errorf("%v: JSON message %q", c.kind, e.AWS(FlavorJSON).Message)
		}
	}
	if ae := NewError(UnknownKey, "x").WithAccessKey("AKIDUNKNOWN").AWS(FlavorS3); ae.Fields["AWSAccessKeyId"] != "AKIDUNKNOWN" {
		t.Errorf("S3 InvalidAccessKeyId fields %v", ae.Fields)
	}
}

// TestS3MismatchDetails checks the diagnostics S3 and JSON services echo.
func TestS3MismatchDetails(t *testing.T) {
	r := jsonShape().signWithSDK(t, testNow)
	body := readBody(t, r)
	a, err := Parse(r, testNow)
	if err != nil {
		t.Fatal(err)
	}
	err = a.Verify(r, "wrong", body)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatal(err)
	}
	s3 := e.AWS(FlavorS3)
	if s3.Fields["AWSAccessKeyId"] != "AKIDEXAMPLE" || !strings.HasPrefix(s3.Fields["StringToSign"].(string), "AWS4-HMAC-SHA256\n20261122T134507Z\n") ||
		!strings.HasPrefix(s3.Fields["CanonicalRequest"].(string), "POST\n/\n\ncontent-length:") {
		t.Errorf("S3 fields %v", s3.Fields)
	}
	if j := e.AWS(FlavorJSON); !strings.Contains(j.Message, "The Canonical String for this request should have been") {
		t.Errorf("JSON message %q", j.Message)
	}
}
