package main

import (
	"context"
	"flag"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"lextrail/internal/objstore"
)

func TestParseObjectStoreURL(t *testing.T) {
	for _, tc := range []struct {
		in, bucket, prefix string
		ok                 bool
	}{
		{"s3://logs", "logs", "", true},
		{"s3://logs/", "logs", "", true},
		{"s3://logs/lextrail/node1/", "logs", "lextrail/node1", true},
		{"s3://", "", "", false},
		{"s3:///x", "", "", false},
		{"https://logs", "", "", false},
		{"logs", "", "", false},
	} {
		b, p, err := parseObjectStoreURL(tc.in)
		if (err == nil) != tc.ok || b != tc.bucket || p != tc.prefix {
			t.Errorf("%q: %q %q %v", tc.in, b, p, err)
		}
	}
}

// TestObjectStoreFlags: the flags (and their environment variables) open
// an external store with credentials from the usual AWS chain.
func TestObjectStoreFlags(t *testing.T) {
	hs := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	defer hs.Close()
	raw := s3.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")},
		func(o *s3.Options) { o.BaseEndpoint, o.UsePathStyle = aws.String(hs.URL), true })
	if _, err := raw.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("ext")}); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, nil, 0o600)
	t.Setenv("AWS_ACCESS_KEY_ID", "chain-key")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "chain-secret")
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("LEXTRAIL_OBJECT_STORE_PATH_STYLE", "true")
	t.Setenv("LEXTRAIL_OBJECT_STORE_ENDPOINT", hs.URL)

	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var o objectStoreFlags
	o.register(fs)
	if err := fs.Parse([]string{"--object-store", "s3://ext/node1", "--object-store-region", "eu-west-1"}); err != nil {
		t.Fatal(err)
	}
	st, err := o.open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := st.CreateBucket(ctx, "b-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, "b-1", "k", strings.NewReader("v"), objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if out, err := raw.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("ext"), Key: aws.String("node1/b-1/k")}); err != nil || aws.ToInt64(out.ContentLength) != 1 {
		t.Fatalf("object not at node1/b-1/k: %v", err)
	}

	var bad objectStoreFlags
	bad.endpoint = "http://x"
	if _, err := bad.open(ctx); err == nil {
		t.Fatal("endpoint without --object-store accepted")
	}
	bad = objectStoreFlags{url: "s3://missing-bucket", endpoint: hs.URL, pathStyle: true}
	if _, err := bad.open(ctx); err == nil || !strings.Contains(err.Error(), "missing-bucket") {
		t.Fatalf("missing external bucket: %v", err)
	}
}
