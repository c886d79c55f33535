package s3_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"lextrail/internal/objstore"
	"lextrail/internal/server"
	"lextrail/internal/testenv"
	"lextrail/internal/testenv/cputime"
)

// benchEnv starts a server configured as in production (testenv disables
// the signing-key and policy caches, which tests that change keys need)
// and returns an S3 client configured as an SDK user's: it streams request
// bodies (testenv's own clients read each body into memory first, a
// copy a real client does not make) and retries as the SDK does by
// default.
func benchEnv(b testing.TB) (*testenv.Env, *s3.Client) {
	env := testenv.New(b, testenv.Options{Configure: func(c *server.Config) { c.KeyCacheTTL = 0 }})
	c := benchClient(env)
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	return env, c
}

func benchClient(env *testenv.Env) *s3.Client {
	cfg := env.Config()
	cfg.HTTPClient = env.HTTP.Client()
	cfg.RetryMaxAttempts = 0 // the SDK's default
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

// reportCPU wraps cputime.Report and adds the MB/s that two cores doing
// nothing else would sustain at the measured CPU time per object (client
// and server both run in this process), the figure the shared machine's
// load does not distort.
func reportCPU(b *testing.B, size int) func() {
	start := cputime.Process()
	return func() {
		if b.N == 0 {
			return
		}
		per := float64(cputime.Process()-start) / float64(b.N)
		b.ReportMetric(per, "cpu-ns/op")
		b.ReportMetric(2*float64(size)/per*1e9/1e6, "MB/s@2cpu")
	}
}

// BenchmarkPutObject1MB: target >= 200 MB/s on loopback.
func BenchmarkPutObject1MB(b *testing.B) {
	_, c := benchEnv(b)
	data := bytes.Repeat([]byte("x"), 1<<20)
	b.SetBytes(int64(len(data)))
	defer reportCPU(b, len(data))()
	i := 0
	for b.Loop() {
		i++
		if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String(fmt.Sprint("k", i%64)), Body: bytes.NewReader(data)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutObject1MBParallel: the same with 8 clients at once (each
// its own SDK client and connection), the throughput with fsyncs and
// hashing overlapping; ns/op and MB/s are per object of the whole run.
func BenchmarkPutObject1MBParallel(b *testing.B) {
	env, _ := benchEnv(b)
	data := bytes.Repeat([]byte("x"), 1<<20)
	b.SetBytes(int64(len(data)))
	var i atomic.Int64
	b.SetParallelism(4) // 4 x GOMAXPROCS clients
	defer reportCPU(b, len(data))()
	b.RunParallel(func(pb *testing.PB) {
		c := benchClient(env)
		for pb.Next() {
			if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String(fmt.Sprint("k", i.Add(1)%64)), Body: bytes.NewReader(data)}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkGetObject1MB: target >= 400 MB/s on loopback.
func BenchmarkGetObject1MB(b *testing.B) {
	_, c := benchEnv(b)
	data := bytes.Repeat([]byte("x"), 1<<20)
	ctx := context.Background()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String("k"), Body: bytes.NewReader(data)}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	defer reportCPU(b, len(data))()
	for b.Loop() {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bench"), Key: aws.String("k")})
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, out.Body)
		out.Body.Close()
	}
}

// BenchmarkGetObjectSSEKMS1MB: GetObject of a 1 MB object stored SSE-KMS
// (under the account's aws/s3 key), decrypted segment by segment.
func BenchmarkGetObjectSSEKMS1MB(b *testing.B) {
	_, c := benchEnv(b)
	data := bytes.Repeat([]byte("x"), 1<<20)
	ctx := context.Background()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String("k"), Body: bytes.NewReader(data),
		ServerSideEncryption: s3types.ServerSideEncryptionAwsKms}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	defer reportCPU(b, len(data))()
	for b.Loop() {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bench"), Key: aws.String("k")})
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, out.Body)
		out.Body.Close()
		if n != int64(len(data)) || out.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms {
			b.Fatalf("read %d, SSE %q", n, out.ServerSideEncryption)
		}
	}
}

// BenchmarkListObjectsV2Page: one 1,000-key page over a prefix of 100,000
// keys through the endpoint; target <= 20 ms per page. The keys are put
// through the Go API (the object store) to keep set-up time reasonable.
func BenchmarkListObjectsV2Page(b *testing.B) {
	env, c := benchEnv(b)
	ctx := context.Background()
	for i := range 100000 {
		if _, err := env.Server.S3.Put(ctx, "bench", fmt.Sprintf("AWSLogs/%06d.json.gz", i), strings.NewReader("x"), objstore.PutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var token *string
	for b.Loop() {
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bench"), Prefix: aws.String("AWSLogs/"), ContinuationToken: token})
		if err != nil || len(out.Contents) != 1000 {
			b.Fatal(err)
		}
		token = out.NextContinuationToken
		if !aws.ToBool(out.IsTruncated) {
			token = nil
		}
	}
}

// TestAWSCLI runs aws s3 cp/ls against lextrail where the AWS CLI is
// installed (LEXTRAIL_REQUIRE_AWSCLI=1 makes its absence a failure).
func TestAWSCLI(t *testing.T) {
	aws := testenv.LookTool(t, "aws", "LEXTRAIL_REQUIRE_AWSCLI")
	env := testenv.New(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "in.json.gz")
	os.WriteFile(src, []byte("\x1f\x8bnot really gzip"), 0o600)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(aws, append([]string{"--endpoint-url", env.URL}, args...)...)
		cmd.Env = env.CLIEnv(t)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("s3", "mb", "s3://cli-bucket")
	run("s3", "cp", src, "s3://cli-bucket/AWSLogs/x y/in.json.gz")
	out := run("s3", "ls", "--recursive", "s3://cli-bucket/")
	if !strings.Contains(out, "AWSLogs/x y/in.json.gz") {
		t.Fatalf("ls: %s", out)
	}
	dst := filepath.Join(dir, "out.json.gz")
	run("s3", "cp", "s3://cli-bucket/AWSLogs/x y/in.json.gz", dst)
	got, _ := os.ReadFile(dst)
	if string(got) != "\x1f\x8bnot really gzip" {
		t.Fatalf("cp back: %q", got)
	}
	if out := run("s3api", "get-bucket-location", "--bucket", "cli-bucket"); !strings.Contains(out, "LocationConstraint") {
		t.Fatalf("location: %s", out)
	}
}
