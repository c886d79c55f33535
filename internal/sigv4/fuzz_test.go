package sigv4

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary Authorization headers, dates and query strings
// (header and presigned forms) through Parse, Scope and Verify.
func FuzzParse(f *testing.F) {
	hdr := jsonShape().signWithSDK(f, testNow)
	pre := presignS3Shape().signWithSDK(f, testNow)
	f.Add(hdr.Header.Get("Authorization"), hdr.Header.Get("X-Amz-Date"), "", "/", []byte(jsonBody))
	f.Add("", "", pre.URL.RawQuery, pre.URL.EscapedPath(), []byte(nil))
	f.Add("AWS4-HMAC-SHA256 Credential=A/20261122/r/s/aws4_request, SignedHeaders=host, Signature="+strings.Repeat("0", 64), "20261122T134507Z", "a=b&c", "/x/%2F/..//y", []byte("x"))
	f.Add("AWS4-HMAC-SHA256 Credential=,,,=", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256", "", []byte{})
	f.Add("AWS4-HMAC-SHA256", "x", "X-Amz-Credential=%zz&X-Amz-Signature", "/%", []byte{})
	f.Add("", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2F20261122%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261122T134507Z&X-Amz-Expires=-1&X-Amz-SignedHeaders=host&X-Amz-Signature=00", "/", []byte{})
	f.Fuzz(func(t *testing.T, authz, date, rawQuery, path string, body []byte) {
		r := &http.Request{Method: "POST", Host: "localhost:4566", Header: http.Header{},
			URL: &url.URL{Path: path, RawQuery: rawQuery}, ContentLength: int64(len(body))}
		if u, err := url.ParseRequestURI(path); err == nil {
			u.RawQuery = rawQuery
			r.URL = u
		}
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		if date != "" {
			r.Header.Set("X-Amz-Date", date)
		}
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		Scope(r)
		a, err := Parse(r, testNow)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("non-*Error %T", err)
			}
			e := err.(*Error)
			for _, fl := range []Flavor{FlavorJSON, FlavorQuery, FlavorS3} {
				if ae := e.AWS(fl); ae.Code == "" || ae.Status < 400 || ae.Status >= 500 {
					t.Fatalf("bad mapping %+v", ae)
				}
			}
			return
		}
		for _, b := range [][]byte{body, nil} {
			if err := a.Verify(r, "secret", b); err != nil {
				e, ok := err.(*Error)
				if !ok {
					t.Fatalf("Verify: non-*Error %T %v", err, err)
				}
				for _, fl := range []Flavor{FlavorJSON, FlavorQuery, FlavorS3} {
					if ae := e.AWS(fl); ae.Code == "" || ae.Status < 400 || ae.Status >= 500 {
						t.Fatalf("bad mapping %+v", ae)
					}
				}
			}
		}
	})
}

// FuzzChunkedReader decodes arbitrary bodies in every streaming mode.
func FuzzChunkedReader(f *testing.F) {
	f.Add(smallSignedBody(f), uint8(0))
	f.Add(unsignedTrailerBody([][]byte{[]byte("hello")}, "x-amz-checksum-crc32:NhCmhg=="), uint8(1))
	f.Add(unsignedTrailerBody([][]byte{[]byte("hello"), []byte("world")}, ""), uint8(1))
	f.Add([]byte("5;chunk-signature=zz\r\nhello\r\n0\r\n\r\n"), uint8(2))
	f.Add([]byte("ffffffff\r\n"), uint8(1))
	f.Add([]byte("0\r\nx-amz-checksum-crc32c:AAAAAA==\r\nx-amz-trailer-signature:00\r\n\r\n"), uint8(2))
	f.Add([]byte("3\r\nab"), uint8(1))
	f.Fuzz(func(t *testing.T, body []byte, mode uint8) {
		a := &Auth{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", ScopeDate: "20130524", Region: "us-east-1", Service: "s3",
			Signature: exSeed, amzDate: "20130524T000000Z"}
		switch mode % 3 {
		case 0:
			a.PayloadHash = streamingSigned
		case 1:
			a.PayloadHash, a.Trailer = streamingUnsignedTrailer, "x-amz-checksum-crc32"
		case 2:
			a.PayloadHash, a.Trailer = streamingSignedTrailer, "x-amz-checksum-crc32c"
		}
		n, err := io.Copy(io.Discard, a.ChunkedReader(bytes.NewReader(body), exSecret))
		if n > int64(len(body)) {
			t.Fatalf("decoded %d bytes from %d", n, len(body))
		}
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("non-*Error %T %v", err, err)
			}
		}
	})
}

// smallSignedBody is a two-chunk aws-chunked body chained from AWS's
// example seed signature (signed with the SDK stream signer), small enough
// for the fuzzer to mutate quickly.
func smallSignedBody(t testing.TB) []byte {
	seed, _ := hex.DecodeString(exSeed)
	ss := v4.NewStreamSigner(aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: exSecret}, "s3", "us-east-1", seed)
	at := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	for _, c := range []string{"hello ", "world", ""} {
		sig, err := ss.GetSignature(context.Background(), nil, []byte(c), at)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%x;chunk-signature=%x\r\n%s\r\n", len(c), sig, c)
	}
	return b.Bytes()
}
