package s3store_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"lextrail/internal/objstore"
	"lextrail/internal/objstore/objtest"
	"lextrail/internal/objstore/s3store"
	"lextrail/internal/testenv"
)

var ctx = context.Background()

// peer is an S3-compatible store to test against.
type peer struct {
	url  string
	http *http.Client
	n    atomic.Int64
}

func (p *peer) awsConfig() *aws.Config {
	return &aws.Config{Region: "us-east-1", HTTPClient: p.http, RetryMaxAttempts: 1,
		Credentials: credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing"}}}
}

// raw is a plain SDK client on the peer.
func (p *peer) raw() *s3.Client {
	return s3.NewFromConfig(*p.awsConfig(), func(o *s3.Options) {
		o.BaseEndpoint, o.UsePathStyle = aws.String(p.url), true
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	})
}

// store opens a store on a fresh external bucket, under a prefix.
func (p *peer) store(t testing.TB, mod ...func(*s3store.Config)) *s3store.Store {
	s, _ := p.storeIn(t, mod...)
	return s
}

// storeIn is store, also returning the external bucket's name.
func (p *peer) storeIn(t testing.TB, mod ...func(*s3store.Config)) (*s3store.Store, string) {
	t.Helper()
	ext := fmt.Sprintf("ext-%d", p.n.Add(1))
	if _, err := p.raw().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(ext)}); err != nil {
		t.Fatal(err)
	}
	cfg := s3store.Config{Bucket: ext, Prefix: "lextrail/", Endpoint: p.url, PathStyle: true, AWS: p.awsConfig(), SpoolDir: t.TempDir()}
	for _, m := range mod {
		m(&cfg)
	}
	s, err := s3store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, ext
}

func gofakes3Peer(t testing.TB) *peer {
	hs := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(hs.Close)
	return &peer{url: hs.URL, http: hs.Client()}
}

func conformance(t *testing.T, p *peer, large int64) {
	var maxKey int
	objtest.Run(t, func(t *testing.T) objstore.Store {
		s := p.store(t)
		maxKey = s.MaxKeyLen("bkt")
		return s
	}, objtest.Options{LargeSize: large, MaxKeyLen: objstore.MaxKeyLen - len("lextrail/bkt/")})
	if maxKey != objstore.MaxKeyLen-len("lextrail/bkt/") {
		t.Fatalf("MaxKeyLen %d", maxKey)
	}
}

// TestConformanceGofakes3 runs the objstore suite against an in-process
// gofakes3.
func TestConformanceGofakes3(t *testing.T) {
	conformance(t, gofakes3Peer(t), 24<<20)
}

// TestConformanceMoto runs the suite against moto_server on a free port
// where it is installed (LEXTRAIL_REQUIRE_MOTO=1 makes its absence a
// failure).
func TestConformanceMoto(t *testing.T) {
	conformance(t, motoPeer(t), 8<<20)
}

func motoPeer(t *testing.T) *peer {
	bin := testenv.LookTool(t, "moto_server", "LEXTRAIL_REQUIRE_MOTO")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not start on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return &peer{url: "http://" + addr, http: &http.Client{Timeout: 60 * time.Second}}
}

// TestSSEPassThrough: SSE settings reach the external store as headers
// and come back as recorded; the configured store key replaces lextrail's.
func TestSSEPassThrough(t *testing.T) {
	for name, p := range map[string]func(*testing.T) *peer{"gofakes3": func(t *testing.T) *peer { return gofakes3Peer(t) }, "moto": motoPeer} {
		t.Run(name, func(t *testing.T) {
			p := p(t)
			const arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
			for _, override := range []string{"", "store-key-1"} {
				s, cfgBucket := p.storeIn(t, func(c *s3store.Config) { c.KMSKeyID = override })
				if err := s.CreateBucket(ctx, "enc"); err != nil {
					t.Fatal(err)
				}
				info, err := s.Put(ctx, "enc", "k", strings.NewReader("kms"), objstore.PutOptions{SSE: objstore.SSE{Algorithm: "aws:kms", KMSKeyID: arn},
					Metadata: map[string]string{"color": "red"}})
				if err != nil || info.SSE.KMSKeyID != arn {
					t.Fatalf("put %+v %v", info, err)
				}
				hi, err := s.Head(ctx, "enc", "k")
				if err != nil || hi.SSE != (objstore.SSE{Algorithm: "aws:kms", KMSKeyID: arn}) || len(hi.Metadata) != 1 || hi.Metadata["color"] != "red" {
					t.Fatalf("head %+v %v", hi, err)
				}
				// What the store was sent.
				raw, err := p.raw().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(cfgBucket), Key: aws.String("lextrail/enc/k")})
				if err != nil {
					t.Fatal(err)
				}
				want := arn
				if override != "" {
					want = override
				}
				if raw.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(raw.SSEKMSKeyId) != want {
					t.Errorf("override %q: the store got %q %q", override, raw.ServerSideEncryption, aws.ToString(raw.SSEKMSKeyId))
				}
				if _, err := s.Put(ctx, "enc", "a", strings.NewReader("aes"), objstore.PutOptions{SSE: objstore.SSE{Algorithm: "AES256"}}); err != nil {
					t.Fatal(err)
				}
				raw, err = p.raw().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(cfgBucket), Key: aws.String("lextrail/enc/a")})
				if err != nil || raw.ServerSideEncryption != types.ServerSideEncryptionAes256 {
					t.Errorf("AES256 not passed through: %v %q", err, raw.ServerSideEncryption)
				}
			}
		})
	}
}

// TestSpoolBounded: a body larger than MemoryLimit goes through a temp
// file, which is gone afterwards; a failing body sends nothing.
func TestSpoolBounded(t *testing.T) {
	p := gofakes3Peer(t)
	dir := t.TempDir()
	s := p.store(t, func(c *s3store.Config) { c.MemoryLimit, c.SpoolDir = 1024, dir })
	if err := s.CreateBucket(ctx, "b-1"); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("0123456789"), 10000)
	if _, err := s.Put(ctx, "b-1", "big", bytes.NewReader(body), objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	rc, info, err := s.Get(ctx, "b-1", "big", &objstore.Range{First: 5000, Last: 5009})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != "0123456789" || info.Size != int64(len(body)) {
		t.Fatalf("range %q size %d", got, info.Size)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("spool files left: %v", left)
	}
	_, err = s.Put(ctx, "b-1", "half", io.MultiReader(bytes.NewReader(body), failing{}), objstore.PutOptions{})
	if err == nil {
		t.Fatal("failing body stored")
	}
	if _, err := s.Head(ctx, "b-1", "half"); err != objstore.ErrNotFound {
		t.Fatalf("half-written object: %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("spool files left after a failure: %v", left)
	}
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, fmt.Errorf("body fails") }
