package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/crc64"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// AWS's published aws-chunked example (S3 API reference, "Signature
// Calculations for the Authorization Header: Transferring Payload in
// Multiple Chunks").
const (
	exSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	exSeed   = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
	exSig1   = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
	exSig2   = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
	exSig3   = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
)

func awsExample(t testing.TB, body []byte) (*http.Request, *Auth) {
	t.Helper()
	r, _ := http.NewRequest("PUT", "http://s3.amazonaws.com/examplebucket/chunkObject.txt", bytes.NewReader(body))
	r.Header.Set("X-Amz-Date", "20130524T000000Z")
	r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", "66560")
	r.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature="+exSeed)
	sr := toServer(t, r)
	a, err := Parse(sr, time.Date(2013, 5, 24, 0, 5, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return sr, a
}

func exampleBody() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "10000;chunk-signature=%s\r\n%s\r\n", exSig1, strings.Repeat("a", 65536))
	fmt.Fprintf(&b, "400;chunk-signature=%s\r\n%s\r\n", exSig2, strings.Repeat("a", 1024))
	fmt.Fprintf(&b, "0;chunk-signature=%s\r\n\r\n", exSig3)
	return b.Bytes()
}

func TestChunkedAWSExample(t *testing.T) {
	body := exampleBody()
	if len(body) != 66824 {
		t.Fatalf("example body is %d bytes, AWS says 66824", len(body))
	}
	r, a := awsExample(t, body)
	// The seed signature of AWS's example must verify: this checks the
	// canonical request against AWS's own published numbers.
	if err := a.Verify(r, exSecret, nil); err != nil {
		t.Fatalf("seed signature: %v", err)
	}
	got, err := io.ReadAll(a.ChunkedReader(r.Body, exSecret))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != strings.Repeat("a", 66560) {
		t.Fatalf("decoded %d bytes", len(got))
	}
}

func TestChunkedTampered(t *testing.T) {
	cases := []struct {
		name    string
		edit    func([]byte) []byte
		kind    Kind
		good    int // bytes delivered before the error
		s3, s3c string
	}{
		{"data byte in chunk 2", func(b []byte) []byte { b[len(b)-200] = 'b'; return b }, SignatureMismatch, 65536, "SignatureDoesNotMatch", ""},
		{"data byte in chunk 1", func(b []byte) []byte { b[1000] = 'b'; return b }, SignatureMismatch, 0, "SignatureDoesNotMatch", ""},
		{"final signature", func(b []byte) []byte { return bytes.Replace(b, []byte(exSig3), []byte(exSig1), 1) }, SignatureMismatch, 66560, "SignatureDoesNotMatch", ""},
		{"chunks reordered signature", func(b []byte) []byte { return bytes.Replace(b, []byte(exSig2), []byte(exSig1), 1) }, SignatureMismatch, 65536, "SignatureDoesNotMatch", ""},
		{"truncated", func(b []byte) []byte { return b[:40000] }, IncompleteBody, 0, "IncompleteBody", ""},
		{"missing final chunk", func(b []byte) []byte { return b[:65626+1112] }, IncompleteBody, 66560, "IncompleteBody", ""},
		{"no chunk signature", func(b []byte) []byte {
			return bytes.Replace(b, []byte("400;chunk-signature="+exSig2), []byte("400"), 1)
		}, IncompleteBody, 65536, "IncompleteBody", ""},
		{"oversized chunk", func(b []byte) []byte {
			return bytes.Replace(b, []byte("10000;"), []byte("1000001;"), 1)
		}, IncompleteBody, 0, "IncompleteBody", ""},
		{"bad CRLF after data", func(b []byte) []byte { b[65624] = 'x'; return b }, IncompleteBody, 0, "IncompleteBody", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := c.edit(exampleBody())
			r, a := awsExample(t, body)
			got, err := io.ReadAll(a.ChunkedReader(r.Body, exSecret))
			var e *Error
			if !errors.As(err, &e) || e.Kind != c.kind {
				t.Fatalf("err = %v, want kind %v", err, c.kind)
			}
			if len(got) != c.good {
				t.Errorf("delivered %d bytes before the error, want %d", len(got), c.good)
			}
			if ae := e.AWS(FlavorS3); ae.Code != c.s3 {
				t.Errorf("S3 code %s, want %s", ae.Code, c.s3)
			}
		})
	}
}

// TestChunkedStreamSignerOracle signs a request and its chunks with the SDK
// (SignHTTP for the seed, NewStreamSigner for the chunks).
func TestChunkedStreamSignerOracle(t *testing.T) {
	at := testNow
	rng := rand.New(rand.NewPCG(1, 2))
	payload := make([]byte, 150_000)
	for i := range payload {
		payload[i] = byte(rng.IntN(256))
	}
	sizes := []int{65536, 65536, len(payload) - 131072}

	r, _ := http.NewRequest("PUT", "http://localhost:4566/bucket/obj%20one", nil)
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(payload)))
	r.Header.Set("X-Amz-Content-Sha256", streamingSigned)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(context.Background(), testCreds, r, streamingSigned, "s3", "eu-west-1", at); err != nil {
		t.Fatal(err)
	}
	auth := r.Header.Get("Authorization")
	seed, _ := hex.DecodeString(auth[len(auth)-64:])
	ss := v4.NewStreamSigner(testCreds, "s3", "eu-west-1", seed)
	var body bytes.Buffer
	off := 0
	for _, n := range append(sizes, 0) {
		chunk := payload[off : off+n]
		off += n
		sig, err := ss.GetSignature(context.Background(), nil, chunk, at)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&body, "%x;chunk-signature=%x\r\n", n, sig)
		body.Write(chunk)
		body.WriteString("\r\n")
	}
	r.Body = io.NopCloser(bytes.NewReader(body.Bytes()))
	r.ContentLength = int64(body.Len())
	sr := toServer(t, r)
	a, err := Parse(sr, at)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(sr, testCreds.SecretAccessKey, nil); err != nil {
		t.Fatal(err)
	}
	// Read through a small buffer to exercise partial reads.
	var out bytes.Buffer
	if _, err := io.CopyBuffer(&out, struct{ io.Reader }{a.ChunkedReader(sr.Body, testCreds.SecretAccessKey)}, make([]byte, 777)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), payload) {
		t.Fatal("decoded payload differs")
	}
	// Wrong secret fails at the first chunk.
	sr2 := toServer(t, func() *http.Request {
		r.Body = io.NopCloser(bytes.NewReader(body.Bytes()))
		return r
	}())
	if _, err := io.ReadAll(a.ChunkedReader(sr2.Body, "wrong")); err == nil {
		t.Fatal("wrong secret accepted")
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func unsignedTrailerBody(chunks [][]byte, trailer string) []byte {
	var b bytes.Buffer
	for _, c := range chunks {
		fmt.Fprintf(&b, "%x\r\n", len(c))
		b.Write(c)
		b.WriteString("\r\n")
	}
	b.WriteString("0\r\n")
	if trailer != "" {
		b.WriteString(trailer + "\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

func TestChunkedUnsignedTrailer(t *testing.T) {
	data := []byte(strings.Repeat("lextrail audit event\n", 5000))
	chunks := [][]byte{data[:65536], data[65536:]}
	crc := crc32.ChecksumIEEE(data)
	crcC := crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))
	sha := sha256.Sum256(data)
	crc64v := crc64.Checksum(data, crc64NVME)
	be32 := func(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }
	be64 := func(v uint64) []byte { return append(be32(uint32(v>>32)), be32(uint32(v))...) }
	cases := []struct {
		name, trailerHdr, trailer string
		kind                      Kind // 0 = success
	}{
		{"crc32", "x-amz-checksum-crc32", "x-amz-checksum-crc32:" + b64(be32(crc)), 0},
		{"crc32c", "x-amz-checksum-crc32c", "x-amz-checksum-crc32c:" + b64(be32(crcC)), 0},
		{"sha256", "x-amz-checksum-sha256", "x-amz-checksum-sha256:" + b64(sha[:]), 0},
		{"crc64nvme", "x-amz-checksum-crc64nvme", "x-amz-checksum-crc64nvme:" + b64(be64(crc64v)), 0},
		{"no trailer declared", "", "", 0},
		{"crc32 wrong", "x-amz-checksum-crc32", "x-amz-checksum-crc32:" + b64(be32(crc+1)), ChecksumMismatch},
		{"declared but missing", "x-amz-checksum-crc32", "", IncompleteBody},
		{"undeclared trailer", "", "x-amz-checksum-crc32:" + b64(be32(crc)), IncompleteBody},
		{"other algorithm than declared", "x-amz-checksum-crc32c", "x-amz-checksum-crc32:" + b64(be32(crc)), IncompleteBody},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := &Auth{PayloadHash: streamingUnsignedTrailer, Trailer: c.trailerHdr}
			got, err := io.ReadAll(a.ChunkedReader(bytes.NewReader(unsignedTrailerBody(chunks, c.trailer)), ""))
			if c.kind == 0 {
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("err %v, %d bytes", err, len(got))
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Kind != c.kind {
				t.Fatalf("err = %v, want %v", err, c.kind)
			}
			if c.kind == ChecksumMismatch {
				if ae := e.AWS(FlavorS3); ae.Code != "BadDigest" || ae.Status != 400 || !strings.Contains(ae.Message, "CRC32") {
					t.Errorf("S3 %s %d %q", ae.Code, ae.Status, ae.Message)
				}
			}
		})
	}
}

func TestCRC64NVMECheckValue(t *testing.T) {
	// Catalogue check value of CRC-64/NVME over "123456789".
	if got := crc64.Checksum([]byte("123456789"), crc64NVME); got != 0xae8b14860a799888 {
		t.Fatalf("crc64nvme = %x", got)
	}
}

// TestChunkedSignedTrailer builds a STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
// body: chunk signatures from the SDK stream signer, the trailer signature
// by hand from the S3 documentation's string-to-sign (no SDK oracle exists
// for trailer signatures).
func TestChunkedSignedTrailer(t *testing.T) {
	at := testNow
	data := []byte(strings.Repeat("x", 70000))
	r, _ := http.NewRequest("PUT", "http://localhost:4566/b/k", nil)
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
	r.Header.Set("X-Amz-Content-Sha256", streamingSignedTrailer)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(context.Background(), testCreds, r, streamingSignedTrailer, "s3", "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	auth := r.Header.Get("Authorization")
	seed, _ := hex.DecodeString(auth[len(auth)-64:])
	ss := v4.NewStreamSigner(testCreds, "s3", "us-east-1", seed)
	var body bytes.Buffer
	var last []byte
	for _, c := range [][]byte{data[:65536], data[65536:], nil} {
		sig, _ := ss.GetSignature(context.Background(), nil, c, at)
		last = sig
		fmt.Fprintf(&body, "%x;chunk-signature=%x\r\n", len(c), sig)
		if len(c) > 0 {
			body.Write(c)
			body.WriteString("\r\n")
		}
	}
	crc := crc32.ChecksumIEEE(data)
	trailer := "x-amz-checksum-crc32:" + b64([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	th := sha256.Sum256([]byte(trailer + "\n"))
	sts := "AWS4-HMAC-SHA256-TRAILER\n20261122T134507Z\n20261122/us-east-1/s3/aws4_request\n" + hex.EncodeToString(last) + "\n" + hex.EncodeToString(th[:])
	key := deriveKey(testCreds.SecretAccessKey, "20261122", "us-east-1", "s3")
	tsig := hex.EncodeToString(hmacSHA256(key, sts))
	good := body.String() + trailer + "\r\nx-amz-trailer-signature:" + tsig + "\r\n\r\n"

	r.Body = io.NopCloser(strings.NewReader(good))
	r.ContentLength = int64(len(good))
	sr := toServer(t, r)
	a, err := Parse(sr, at)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(sr, testCreds.SecretAccessKey, nil); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(a.ChunkedReader(sr.Body, testCreds.SecretAccessKey))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("err %v, %d bytes", err, len(got))
	}
	bad := strings.Replace(good, "x-amz-trailer-signature:"+tsig, "x-amz-trailer-signature:"+strings.Repeat("0", 64), 1)
	_, err = io.ReadAll(a.ChunkedReader(strings.NewReader(bad), testCreds.SecretAccessKey))
	var e *Error
	if !errors.As(err, &e) || e.Kind != SignatureMismatch {
		t.Fatalf("bad trailer signature: %v", err)
	}
}

func TestChunkedReaderNotStreaming(t *testing.T) {
	a := &Auth{PayloadHash: "UNSIGNED-PAYLOAD"}
	_, err := io.ReadAll(a.ChunkedReader(strings.NewReader("x"), "s"))
	var e *Error
	if !errors.As(err, &e) || e.Kind != Malformed {
		t.Fatalf("err = %v", err)
	}
}

func TestSmallSignedBodyDecodes(t *testing.T) {
	a := &Auth{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", ScopeDate: "20130524", Region: "us-east-1", Service: "s3",
		Signature: exSeed, amzDate: "20130524T000000Z", PayloadHash: streamingSigned}
	got, err := io.ReadAll(a.ChunkedReader(bytes.NewReader(smallSignedBody(t)), exSecret))
	if err != nil || string(got) != "hello world" {
		t.Fatalf("got %q, %v", got, err)
	}
}
