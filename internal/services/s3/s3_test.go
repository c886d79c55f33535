package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"lextrail/internal/awserr"
	"lextrail/internal/policy"
	"lextrail/internal/testenv"
)

func client(env *testenv.Env, creds ...aws.Credentials) *s3.Client {
	return s3.NewFromConfig(env.Config(creds...), func(o *s3.Options) {
		o.UsePathStyle = true
	})
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	var le *awserr.Error
	if errors.As(err, &le) {
		return le.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestBucketLifecycle(t *testing.T) {
	env := testenv.New(t)
	c := client(env)
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("Bad_Name")}); code(err) != "InvalidBucketName" {
		t.Fatalf("bad name: %v", err)
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("logs-eu"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("logs-us")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("logs-us")}); code(err) != "BucketAlreadyOwnedByYou" {
		t.Fatalf("again: %v", err)
	}
	loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("logs-eu")})
	if err != nil || loc.LocationConstraint != "eu-west-1" {
		t.Fatalf("location %+v %v", loc, err)
	}
	loc, err = c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("logs-us")})
	if err != nil || loc.LocationConstraint != "" {
		t.Fatalf("location us %+v %v", loc, err)
	}
	lb, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(lb.Buckets) != 2 || aws.ToString(lb.Buckets[0].Name) != "logs-eu" {
		t.Fatalf("list %+v %v", lb, err)
	}
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("logs-us")}); err != nil {
		t.Fatal(err)
	}
	var nf *types.NotFound
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("nope-nope")}); !errors.As(err, &nf) {
		t.Fatalf("head missing: %v", err)
	}
	acl, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("logs-us")})
	if err != nil || len(acl.Grants) != 1 || acl.Grants[0].Permission != types.PermissionFullControl {
		t.Fatalf("acl %+v %v", acl, err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("logs-us"), Key: aws.String("a/b.json.gz"), Body: strings.NewReader("gz")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("logs-us")}); code(err) != "BucketNotEmpty" {
		t.Fatalf("delete non-empty: %v", err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("logs-us"), Key: aws.String("a/b.json.gz")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("logs-us")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("logs-us")}); code(err) != "NoSuchBucket" {
		t.Fatalf("after delete: %v", err)
	}
	// Encryption configuration.
	if _, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("logs-eu")}); code(err) != "ServerSideEncryptionConfigurationNotFoundError" {
		t.Fatalf("no encryption: %v", err)
	}
	if _, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String("logs-eu"), ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
		Rules: []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256}}}}}); err != nil {
		t.Fatal(err)
	}
	enc, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("logs-eu")})
	if err != nil || enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != types.ServerSideEncryptionAes256 {
		t.Fatalf("encryption %+v %v", enc, err)
	}
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("logs-eu"), Key: aws.String("x"), Body: strings.NewReader("x")})
	if err != nil || put.ServerSideEncryption != types.ServerSideEncryptionAes256 {
		t.Fatalf("default sse %+v %v", put, err)
	}
}

func TestObjects(t *testing.T) {
	env := testenv.New(t)
	c := client(env)
	ctx := context.Background()
	check(t, ok(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("objs")})))
	body := []byte("0123456789abcdefghij")
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("objs"), Key: aws.String("dir/f.json.gz"), Body: bytes.NewReader(body),
		ContentType: aws.String("application/gzip"), Metadata: map[string]string{"trail": "t1"}, ServerSideEncryption: types.ServerSideEncryptionAes256})
	if err != nil || put.ServerSideEncryption != types.ServerSideEncryptionAes256 || aws.ToString(put.ETag) == "" {
		t.Fatalf("put %+v %v", put, err)
	}
	get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("objs"), Key: aws.String("dir/f.json.gz")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(get.Body)
	if !bytes.Equal(got, body) || aws.ToString(get.ContentType) != "application/gzip" || get.Metadata["trail"] != "t1" ||
		get.ServerSideEncryption != types.ServerSideEncryptionAes256 || aws.ToString(get.ETag) != aws.ToString(put.ETag) {
		t.Fatalf("get %q %+v", got, get)
	}
	rg, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("objs"), Key: aws.String("dir/f.json.gz"), Range: aws.String("bytes=5-9")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(rg.Body)
	if string(got) != "56789" || aws.ToString(rg.ContentRange) != "bytes 5-9/20" {
		t.Fatalf("range %q %v", got, aws.ToString(rg.ContentRange))
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("objs"), Key: aws.String("dir/f.json.gz"), Range: aws.String("bytes=50-60")}); code(err) != "InvalidRange" {
		t.Fatalf("bad range: %v", err)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("objs"), Key: aws.String("dir/f.json.gz")})
	if err != nil || aws.ToInt64(head.ContentLength) != 20 || head.Metadata["trail"] != "t1" {
		t.Fatalf("head %+v %v", head, err)
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("objs"), Key: aws.String("missing")}); code(err) != "NoSuchKey" {
		t.Fatalf("missing: %v", err)
	}
	cp, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("objs"), Key: aws.String("copy"), CopySource: aws.String("objs/dir/f.json.gz")})
	if err != nil || aws.ToString(cp.CopyObjectResult.ETag) != aws.ToString(put.ETag) {
		t.Fatalf("copy %+v %v", cp, err)
	}
	del, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("objs"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("copy")}, {Key: aws.String("dir/f.json.gz")}}}})
	if err != nil || len(del.Deleted) != 2 {
		t.Fatalf("delete objects %+v %v", del, err)
	}
	// Traversal and oversized keys.
	for _, k := range []string{"../x", "a/../../etc/passwd", "/abs", "a\x00b", strings.Repeat("k", 1025)} {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("objs"), Key: aws.String(k), Body: strings.NewReader("x")})
		if err == nil {
			t.Errorf("key %q accepted", k)
		}
	}
	// Conditional create.
	check(t, ok(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("objs"), Key: aws.String("once"), Body: strings.NewReader("1"), IfNoneMatch: aws.String("*")})))
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("objs"), Key: aws.String("once"), Body: strings.NewReader("2"), IfNoneMatch: aws.String("*")}); code(err) != "PreconditionFailed" {
		t.Fatalf("conditional: %v", err)
	}
}

func ok[T any](_ T, err error) error { return err }

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestListPaging(t *testing.T) {
	env := testenv.New(t)
	c := client(env)
	ctx := context.Background()
	check(t, ok(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("many")})))
	const n = 2500
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("many"), Key: aws.String(fmt.Sprintf("AWSLogs/%05d.json.gz", i)), Body: strings.NewReader("x")}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// v1 with marker: the last key of a page is the next marker.
	var keys []string
	marker := ""
	pages := 0
	for {
		out, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("many"), Prefix: aws.String("AWSLogs/"), Marker: aws.String(marker)})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		marker = keys[len(keys)-1]
	}
	if len(keys) != n || pages != 3 || keys[0] != "AWSLogs/00000.json.gz" || keys[n-1] != "AWSLogs/02499.json.gz" {
		t.Fatalf("v1: %d keys in %d pages", len(keys), pages)
	}
	// v1 with delimiter returns NextMarker.
	out, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("many"), Delimiter: aws.String("/")})
	if err != nil || len(out.CommonPrefixes) != 1 || aws.ToString(out.CommonPrefixes[0].Prefix) != "AWSLogs/" {
		t.Fatalf("delimiter %+v %v", out, err)
	}
	// v2 paginator.
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("many"), MaxKeys: aws.Int32(700)})
	total := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total += len(page.Contents)
	}
	if total != n {
		t.Fatalf("v2 total %d", total)
	}
}

func TestBucketPolicy(t *testing.T) {
	env := testenv.New(t)
	c := client(env)
	ctx := context.Background()
	otherCreds, err := env.Server.Accounts.CreateAccount(ctx, "222233334444")
	if err != nil {
		t.Fatal(err)
	}
	other := client(env, aws.Credentials{AccessKeyID: otherCreds.AccessKeyID, SecretAccessKey: otherCreds.SecretAccessKey})
	check(t, ok(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trail-bucket")})))
	check(t, ok(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("trail-bucket"), Key: aws.String("shared/x"), Body: strings.NewReader("x")})))

	if _, err := other.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("trail-bucket"), Key: aws.String("shared/x")}); code(err) != "AccessDenied" {
		t.Fatalf("other account without policy: %v", err)
	}
	if _, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("trail-bucket")}); code(err) != "NoSuchBucketPolicy" {
		t.Fatalf("no policy: %v", err)
	}
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("trail-bucket"), Policy: aws.String(`{"Statement":"nope"}`)}); code(err) != "MalformedPolicy" {
		t.Fatalf("malformed: %v", err)
	}
	pol := `{"Version":"2012-10-17","Statement":[
	 {"Sid":"AWSCloudTrailAclCheck","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::trail-bucket",
	  "Condition":{"StringEquals":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:123456789012:trail/main"}}},
	 {"Sid":"AWSCloudTrailWrite","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::trail-bucket/AWSLogs/123456789012/*",
	  "Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control","aws:SourceArn":"arn:aws:cloudtrail:us-east-1:123456789012:trail/main"}}},
	 {"Sid":"Other","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222233334444:root"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::trail-bucket","arn:aws:s3:::trail-bucket/shared/*"]}]}`
	check(t, ok(c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("trail-bucket"), Policy: aws.String(pol)})))
	gp, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("trail-bucket")})
	if err != nil || aws.ToString(gp.Policy) != pol {
		t.Fatalf("get policy %v", err)
	}
	// Another account: allowed where granted, denied elsewhere.
	if _, err := other.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("trail-bucket"), Key: aws.String("shared/x")}); err != nil {
		t.Fatalf("granted get: %v", err)
	}
	if _, err := other.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("trail-bucket")}); err != nil {
		t.Fatalf("granted list: %v", err)
	}
	if _, err := other.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("trail-bucket"), Key: aws.String("shared/y"), Body: strings.NewReader("y")}); code(err) != "AccessDenied" {
		t.Fatalf("ungranted put: %v", err)
	}
	if _, err := other.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("trail-bucket"), Policy: aws.String(pol)}); code(err) != "AccessDenied" {
		t.Fatalf("other sets policy: %v", err)
	}
	// The other account cannot see the bucket in its own listing, nor take the name.
	if _, err := other.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trail-bucket")}); code(err) != "BucketAlreadyExists" {
		t.Fatalf("name taken: %v", err)
	}

	// The service principal, through the Go API trail delivery uses.
	svc := env.Server.S3
	ct := &policy.Principal{Service: "cloudtrail.amazonaws.com"}
	good := map[string][]string{"aws:SourceArn": {"arn:aws:cloudtrail:us-east-1:123456789012:trail/main"}, "s3:x-amz-acl": {"bucket-owner-full-control"}}
	wrong := map[string][]string{"aws:SourceArn": {"arn:aws:cloudtrail:us-east-1:999999999999:trail/evil"}, "s3:x-amz-acl": {"bucket-owner-full-control"}}
	if err := svc.Authorize(ctx, "trail-bucket", "", "s3:GetBucketAcl", ct, good); err != nil {
		t.Fatalf("acl check: %v", err)
	}
	if err := svc.Authorize(ctx, "trail-bucket", "AWSLogs/123456789012/CloudTrail/f.json.gz", "s3:PutObject", ct, good); err != nil {
		t.Fatalf("put allowed: %v", err)
	}
	if err := svc.Authorize(ctx, "trail-bucket", "AWSLogs/123456789012/CloudTrail/f.json.gz", "s3:PutObject", ct, wrong); code(err) != "AccessDenied" {
		t.Fatalf("wrong SourceArn: %v", err)
	}
	if err := svc.Authorize(ctx, "trail-bucket", "AWSLogs/555555555555/x", "s3:PutObject", ct, good); code(err) != "AccessDenied" {
		t.Fatalf("outside prefix: %v", err)
	}
	if err := svc.Authorize(ctx, "trail-bucket", "AWSLogs/123456789012/x", "s3:PutObject", &policy.Principal{Service: "lex.amazonaws.com"}, good); code(err) != "AccessDenied" {
		t.Fatalf("other service: %v", err)
	}
	if err := svc.Authorize(ctx, "no-such-bucket", "", "s3:GetBucketAcl", ct, good); code(err) != "NoSuchBucket" {
		t.Fatalf("missing bucket: %v", err)
	}
	check(t, ok(c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String("trail-bucket")})))
	if _, err := other.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("trail-bucket"), Key: aws.String("shared/x")}); code(err) != "AccessDenied" {
		t.Fatalf("after policy deleted: %v", err)
	}
}

func TestMultipart(t *testing.T) {
	env := testenv.New(t)
	c := client(env)
	ctx := context.Background()
	check(t, ok(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("mpu")})))
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("big"), Metadata: map[string]string{"m": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	part1 := bytes.Repeat([]byte("a"), 5<<20)
	part2 := []byte("tail")
	var parts []types.CompletedPart
	for i, p := range [][]byte{part1, part2} {
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: cr.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: cr.UploadId})
	if err != nil || len(lp.Parts) != 2 || aws.ToInt64(lp.Parts[1].Size) != 4 {
		t.Fatalf("list parts %+v %v", lp, err)
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{parts[1], parts[0]}}}); code(err) != "InvalidPartOrder" {
		t.Fatalf("order: %v", err)
	}
	done, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil || !strings.HasSuffix(aws.ToString(done.ETag), `-2"`) {
		t.Fatalf("complete %+v %v", done, err)
	}
	get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(get.Body)
	if !bytes.Equal(got, append(part1, part2...)) || get.Metadata["m"] != "1" {
		t.Fatalf("multipart object differs (%d bytes)", len(got))
	}
	cr2, _ := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("gone")})
	check(t, ok(c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("gone"), UploadId: cr2.UploadId})))
	if _, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("gone"), UploadId: cr2.UploadId}); code(err) != "NoSuchUpload" {
		t.Fatalf("aborted: %v", err)
	}
}

// chunkedPut sends PutObject with STREAMING-AWS4-HMAC-SHA256-PAYLOAD, as
// SDKs do for unseekable bodies, signing each chunk with the SDK's stream
// signer; corrupt breaks one chunk signature.
func chunkedPut(t *testing.T, env *testenv.Env, url string, chunks [][]byte, corrupt bool) *http.Response {
	t.Helper()
	ctx := context.Background()
	creds := env.Creds()
	now := time.Now().UTC()
	var total int
	for _, c := range chunks {
		total += len(c)
	}
	// Body framing lengths: each "hex;chunk-signature=<64>\r\n<data>\r\n", then the final 0 chunk.
	frame := func(n int) int { return len(fmt.Sprintf("%x", n)) + len(";chunk-signature=") + 64 + 2 + n + 2 }
	length := frame(0)
	for _, c := range chunks {
		length += frame(len(c))
	}
	req, _ := http.NewRequest(http.MethodPut, url, nil)
	req.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(total))
	req.ContentLength = int64(length)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(ctx, creds, req, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "s3", "us-east-1", now); err != nil {
		t.Fatal(err)
	}
	auth := req.Header.Get("Authorization")
	seed := auth[strings.LastIndex(auth, "Signature=")+len("Signature="):]
	seedBytes, _ := hex.DecodeString(seed)
	ss := v4.NewStreamSigner(creds, "s3", "us-east-1", seedBytes)
	var body bytes.Buffer
	for i, c := range append(chunks, nil) {
		sig, err := ss.GetSignature(ctx, nil, c, now)
		if err != nil {
			t.Fatal(err)
		}
		if corrupt && i == 1 {
			sig[0] ^= 1
		}
		fmt.Fprintf(&body, "%x;chunk-signature=%s\r\n", len(c), hex.EncodeToString(sig))
		body.Write(c)
		body.WriteString("\r\n")
	}
	req.Body = io.NopCloser(&body)
	resp, err := env.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestChunkedUpload(t *testing.T) {
	env := testenv.New(t)
	c := client(env)
	ctx := context.Background()
	check(t, ok(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("chunks")})))
	chunks := [][]byte{bytes.Repeat([]byte("a"), 65536), bytes.Repeat([]byte("b"), 1024)}
	resp := chunkedPut(t, env, env.URL+"/chunks/streamed.bin", chunks, false)
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("chunked put: %d %s", resp.StatusCode, b)
	}
	get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("chunks"), Key: aws.String("streamed.bin")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(get.Body)
	if !bytes.Equal(got, append(append([]byte{}, chunks[0]...), chunks[1]...)) {
		t.Fatalf("chunked object differs: %d bytes", len(got))
	}
	resp = chunkedPut(t, env, env.URL+"/chunks/bad.bin", chunks, true)
	b, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != 403 || !bytes.Contains(b, []byte("SignatureDoesNotMatch")) {
		t.Fatalf("bad chunk signature: %d %s", resp.StatusCode, b)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("chunks"), Key: aws.String("bad.bin")}); err == nil {
		t.Fatal("object with a bad chunk signature was stored")
	}

	// A hex X-Amz-Content-Sha256 that does not match the streamed body.
	req, _ := http.NewRequest(http.MethodPut, env.URL+"/chunks/lie.bin", strings.NewReader("actual body"))
	sum := sha256.Sum256([]byte("another body"))
	req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
	v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).SignHTTP(ctx, env.Creds(), req, hex.EncodeToString(sum[:]), "s3", "us-east-1", time.Now())
	resp, err = env.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !bytes.Contains(b, []byte("XAmzContentSHA256Mismatch")) {
		t.Fatalf("sha mismatch: %d %s", resp.StatusCode, b)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("chunks"), Key: aws.String("lie.bin")}); err == nil {
		t.Fatal("object with a mismatching body hash was stored")
	}
}

// TestSystemMetadata: Content-Encoding, Content-Disposition,
// Content-Language, Cache-Control and Expires are kept with an object
// (PutObject, CopyObject COPY/REPLACE, multipart) and answered by GetObject
// and HeadObject; response-* parameters override them on GetObject; the
// aws-chunked framing is not kept.
func TestSystemMetadata(t *testing.T) {
	env := testenv.New(t)
	c := client(env)
	ctx := context.Background()
	check(t, ok(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("sys")})))
	expires := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	check(t, ok(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sys"), Key: aws.String("log.json.gz"), Body: strings.NewReader("gz"),
		ContentType: aws.String("application/json"), ContentEncoding: aws.String("gzip"), ContentDisposition: aws.String(`attachment; filename="log.json.gz"`),
		ContentLanguage: aws.String("en-US"), CacheControl: aws.String("max-age=60"), Expires: &expires})))
	type hdrs struct{ ct, enc, disp, lang, cache string }
	want := hdrs{"application/json", "gzip", `attachment; filename="log.json.gz"`, "en-US", "max-age=60"}
	head := func(key string) (hdrs, *time.Time) {
		t.Helper()
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sys"), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		return hdrs{aws.ToString(h.ContentType), aws.ToString(h.ContentEncoding), aws.ToString(h.ContentDisposition),
			aws.ToString(h.ContentLanguage), aws.ToString(h.CacheControl)}, h.Expires
	}
	if got, exp := head("log.json.gz"); got != want || exp == nil || !exp.Equal(expires) {
		t.Fatalf("head %+v %v", got, exp)
	}
	get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sys"), Key: aws.String("log.json.gz")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(get.Body)
	if string(body) != "gz" || aws.ToString(get.ContentEncoding) != "gzip" || aws.ToString(get.CacheControl) != "max-age=60" {
		t.Fatalf("get %q %+v", body, get)
	}
	ov, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sys"), Key: aws.String("log.json.gz"),
		ResponseContentType: aws.String("text/plain"), ResponseContentDisposition: aws.String("inline"), ResponseCacheControl: aws.String("no-store")})
	if err != nil {
		t.Fatal(err)
	}
	ov.Body.Close()
	if aws.ToString(ov.ContentType) != "text/plain" || aws.ToString(ov.ContentDisposition) != "inline" ||
		aws.ToString(ov.CacheControl) != "no-store" || aws.ToString(ov.ContentEncoding) != "gzip" {
		t.Fatalf("overrides %+v", ov)
	}
	if got, _ := head("log.json.gz"); got != want {
		t.Fatalf("overrides were stored: %+v", got)
	}
	// CopyObject keeps them (COPY), or takes the request's (REPLACE).
	check(t, ok(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("sys"), Key: aws.String("copy"), CopySource: aws.String("sys/log.json.gz")})))
	if got, _ := head("copy"); got != want {
		t.Fatalf("copy %+v", got)
	}
	check(t, ok(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("sys"), Key: aws.String("copy"), CopySource: aws.String("sys/log.json.gz"),
		MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("text/plain"), CacheControl: aws.String("no-cache")})))
	if got, exp := head("copy"); got != (hdrs{ct: "text/plain", cache: "no-cache"}) || exp != nil {
		t.Fatalf("copy replace %+v %v", got, exp)
	}
	// Multipart: given at creation.
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("sys"), Key: aws.String("mpu"),
		ContentEncoding: aws.String("gzip"), ContentLanguage: aws.String("es")})
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("sys"), Key: aws.String("mpu"), UploadId: cr.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("only part")})
	if err != nil {
		t.Fatal(err)
	}
	check(t, ok(c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("sys"), Key: aws.String("mpu"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: up.ETag, PartNumber: aws.Int32(1)}}}})))
	if got, _ := head("mpu"); got.enc != "gzip" || got.lang != "es" {
		t.Fatalf("multipart %+v", got)
	}
	// A chunked upload's aws-chunked framing is not the object's encoding.
	resp := chunkedPut(t, env, env.URL+"/sys/chunked", [][]byte{[]byte("abc")}, false)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("chunked put: %d", resp.StatusCode)
	}
	if got, _ := head("chunked"); got.enc != "" {
		t.Fatalf("chunked object encoding %q", got.enc)
	}
}
