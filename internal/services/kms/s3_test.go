package kms_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"lextrail/internal/objstore"
	"lextrail/internal/testenv"
)

func s3client(env *testenv.Env, creds ...aws.Credentials) *s3.Client {
	return s3.NewFromConfig(env.Config(creds...), func(o *s3.Options) { o.UsePathStyle = true })
}

// diskFiles returns the contents of every object data file of a bucket in
// the local-directory store (and of the multipart staging area).
func diskFiles(t *testing.T, env *testenv.Env, root, bucket string) [][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(env.DataDir, root, "buckets", bucket, "o", "*", "*.d"))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func getBody(t *testing.T, c *s3.Client, bucket, key string) ([]byte, *s3.GetObjectOutput, error) {
	t.Helper()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, nil, err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return b, out, err
}

func TestS3SSEKMS(t *testing.T) {
	eachDriver(t, func(t *testing.T, env *testenv.Env) {
		kc := client(env)
		sc := s3client(env)
		k := newKey(t, kc, nil)
		if _, err := kc.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/objects"), TargetKeyId: k.KeyId}); err != nil {
			t.Fatal(err)
		}
		if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("enc")}); err != nil {
			t.Fatal(err)
		}
		plain := bytes.Repeat([]byte("top secret conversation audio "), 5000) // 150 KB: several segments
		put, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("enc"), Key: aws.String("a/secret.bin"), Body: bytes.NewReader(plain),
			ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("alias/objects")})
		if err != nil {
			t.Fatal(err)
		}
		if put.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms || aws.ToString(put.SSEKMSKeyId) != *k.Arn {
			t.Fatalf("put echo %s %s", put.ServerSideEncryption, aws.ToString(put.SSEKMSKeyId))
		}
		// The bytes on disk are not the plaintext.
		files := diskFiles(t, env, "objects", "enc")
		if len(files) != 1 {
			t.Fatalf("%d data files", len(files))
		}
		if bytes.Contains(files[0], []byte("top secret")) || bytes.Equal(files[0][:len(plain)], plain) {
			t.Fatal("plaintext on disk")
		}
		got, out, err := getBody(t, sc, "enc", "a/secret.bin")
		if err != nil || !bytes.Equal(got, plain) || out.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms || aws.ToString(out.SSEKMSKeyId) != *k.Arn {
			t.Fatalf("get round trip: %v (equal %v) %s %s", err, bytes.Equal(got, plain), out.ServerSideEncryption, aws.ToString(out.SSEKMSKeyId))
		}
		rg, err := sc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("enc"), Key: aws.String("a/secret.bin"), Range: aws.String("bytes=70000-70009")})
		if err != nil {
			t.Fatal(err)
		}
		rb, _ := io.ReadAll(rg.Body)
		rg.Body.Close()
		if !bytes.Equal(rb, plain[70000:70010]) {
			t.Fatalf("range %q", rb)
		}
		head, err := sc.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("enc"), Key: aws.String("a/secret.bin")})
		if err != nil || aws.ToString(head.SSEKMSKeyId) != *k.Arn || aws.ToInt64(head.ContentLength) != int64(len(plain)) {
			t.Fatalf("head %+v %v", head, err)
		}

		// A key that does not exist: S3's KMS.NotFoundException.
		_, err = sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("enc"), Key: aws.String("x"), Body: strings.NewReader("x"),
			ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("11111111-2222-3333-4444-555555555555")})
		if code(err) != "KMS.NotFoundException" || !strings.Contains(message(err), "does not exist") {
			t.Fatalf("missing key: %v", err)
		}
		if _, err := sc.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("enc"), Key: aws.String("x")}); err == nil {
			t.Fatal("an object was stored under a missing key")
		}

		// No key named: the account's aws/s3 key, created on first use.
		put, err = sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("enc"), Key: aws.String("default.txt"), Body: strings.NewReader("managed"),
			ServerSideEncryption: s3types.ServerSideEncryptionAwsKms})
		if err != nil {
			t.Fatal(err)
		}
		managed, err := kc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/s3")})
		if err != nil || managed.KeyMetadata.KeyManager != "AWS" || aws.ToString(put.SSEKMSKeyId) != *managed.KeyMetadata.Arn {
			t.Fatalf("aws/s3: %+v %v (put %s)", managed, err, aws.ToString(put.SSEKMSKeyId))
		}
		if b, _, err := getBody(t, sc, "enc", "default.txt"); err != nil || string(b) != "managed" {
			t.Fatalf("get aws/s3 object %q %v", b, err)
		}

		// Bucket default encryption with a customer key.
		if _, err := sc.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String("enc"), ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
			Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{
				SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("alias/objects")}}}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := sc.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String("enc"), ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
			Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{
				SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("alias/missing")}}}}}); code(err) != "KMS.NotFoundException" {
			t.Fatalf("default encryption with a missing key: %v", err)
		}
		put, err = sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("enc"), Key: aws.String("by-default"), Body: strings.NewReader("defaulted")})
		if err != nil || aws.ToString(put.SSEKMSKeyId) != *k.Arn {
			t.Fatalf("bucket default: %+v %v", put, err)
		}

		// CopyObject re-encrypts under the destination's key.
		cp, err := sc.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("enc"), Key: aws.String("copy"), CopySource: aws.String("enc/a/secret.bin"),
			ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("alias/aws/s3")})
		if err != nil || aws.ToString(cp.SSEKMSKeyId) != *managed.KeyMetadata.Arn {
			t.Fatalf("copy %+v %v", cp, err)
		}
		if b, _, err := getBody(t, sc, "enc", "copy"); err != nil || !bytes.Equal(b, plain) {
			t.Fatalf("copy round trip %v", err)
		}

		// Multipart: parts are staged encrypted and the object is too.
		mp, err := sc.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("enc"), Key: aws.String("big"),
			ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: k.KeyId})
		if err != nil || aws.ToString(mp.SSEKMSKeyId) != *k.Arn {
			t.Fatalf("create upload %+v %v", mp, err)
		}
		part1 := bytes.Repeat([]byte("multipart secret part one "), (5<<20)/26+1)
		part2 := []byte("multipart secret tail")
		var parts []s3types.CompletedPart
		for i, p := range [][]byte{part1, part2} {
			up, err := sc.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("enc"), Key: aws.String("big"), UploadId: mp.UploadId,
				PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, s3types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
		}
		for _, f := range diskFiles(t, env, "parts", "multipart-parts") {
			if bytes.Contains(f, []byte("multipart secret")) {
				t.Fatal("a staged part is on disk in the clear")
			}
		}
		done, err := sc.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("enc"), Key: aws.String("big"), UploadId: mp.UploadId,
			MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}})
		if err != nil || aws.ToString(done.SSEKMSKeyId) != *k.Arn {
			t.Fatalf("complete %+v %v", done, err)
		}
		for _, f := range diskFiles(t, env, "objects", "enc") {
			if bytes.Contains(f, []byte("multipart secret")) || bytes.Contains(f, []byte("top secret")) {
				t.Fatal("an object is on disk in the clear")
			}
		}
		if b, _, err := getBody(t, sc, "enc", "big"); err != nil || !bytes.Equal(b, append(append([]byte(nil), part1...), part2...)) {
			t.Fatalf("multipart round trip %v", err)
		}

		// A disabled key: writes and reads fail with S3's KMS.DisabledException.
		if _, err := kc.DisableKey(ctx, &kms.DisableKeyInput{KeyId: k.KeyId}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := getBody(t, sc, "enc", "a/secret.bin"); code(err) != "KMS.DisabledException" {
			t.Fatalf("get with disabled key: %v", err)
		}
		if _, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("enc"), Key: aws.String("y"), Body: strings.NewReader("y")}); code(err) != "KMS.DisabledException" {
			t.Fatalf("put with disabled default key: %v", err)
		}
		// Head needs no key.
		if _, err := sc.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("enc"), Key: aws.String("a/secret.bin")}); err != nil {
			t.Fatalf("head with disabled key: %v", err)
		}
	})
}

// TestS3GetNeedsDecrypt: an IAM user allowed S3 but not kms:Decrypt reads
// SSE-KMS objects only once its policy allows the key.
func TestS3GetNeedsDecrypt(t *testing.T) {
	env := testenv.New(t)
	kc, sc := client(env), s3client(env)
	k := newKey(t, kc, nil)
	if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("guarded")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("guarded"), Key: aws.String("k"), Body: strings.NewReader("for key holders"),
		ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: k.Arn}); err != nil {
		t.Fatal(err)
	}
	s3only := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	user := newUser(t, env, "reader", s3only)
	uc := s3client(env, user)
	_, _, err := getBody(t, uc, "guarded", "k")
	if code(err) != "AccessDenied" || !strings.Contains(message(err), "not authorized to perform: kms:Decrypt on resource: "+*k.Arn) {
		t.Fatalf("get without kms:Decrypt: %v", err)
	}
	// Writing with the key needs kms:GenerateDataKey.
	_, err = uc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("guarded"), Key: aws.String("w"), Body: strings.NewReader("x"),
		ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: k.Arn})
	if code(err) != "AccessDenied" || !strings.Contains(message(err), "kms:GenerateDataKey") {
		t.Fatalf("put without kms:GenerateDataKey: %v", err)
	}
	// The aws/s3 key is usable through S3 by anyone S3 lets in.
	if _, err := uc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("guarded"), Key: aws.String("managed"), Body: strings.NewReader("m"),
		ServerSideEncryption: s3types.ServerSideEncryptionAwsKms}); err != nil {
		t.Fatalf("aws/s3 via S3: %v", err)
	}
	if b, _, err := getBody(t, uc, "guarded", "managed"); err != nil || string(b) != "m" {
		t.Fatalf("aws/s3 get via S3: %v", err)
	}
	// ... but not directly through KMS (kms:ViaService).
	managed, err := kc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/s3")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client(env, user).GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: managed.KeyMetadata.Arn, KeySpec: "AES_256"}); code(err) != "AccessDeniedException" {
		t.Fatalf("aws/s3 used directly: %v", err)
	}

	// Allow the key: the read succeeds.
	ic := iamClient(env)
	if _, err := ic.PutUserPolicy(ctx, iamPolicy("reader", "kms", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"`+*k.Arn+`"}]}`)); err != nil {
		t.Fatal(err)
	}
	if b, _, err := getBody(t, uc, "guarded", "k"); err != nil || string(b) != "for key holders" {
		t.Fatalf("get with kms:Decrypt: %q %v", b, err)
	}
	// A key policy condition on the S3 encryption context is honoured.
	pol := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + env.AccountID + `:root"},"Action":"kms:*","Resource":"*"},
		{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*",
		 "Condition":{"StringEquals":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::guarded/k"}}}]}`
	if _, err := kc.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: k.KeyId, Policy: aws.String(pol)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := getBody(t, sc, "guarded", "k"); code(err) != "AccessDenied" {
		t.Fatalf("get denied by the encryption-context condition: %v", err)
	}
}

// TestS3GoAPIEncrypts: lextrail's own writes (trail delivery) through the
// S3 Go API honour the bucket's SSE-KMS default.
func TestS3GoAPIEncrypts(t *testing.T) {
	env := testenv.New(t)
	sc := s3client(env)
	if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trail-logs")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String("trail-logs"), ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
		Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms}}}}}); err != nil {
		t.Fatal(err)
	}
	info, err := env.Server.S3.Put(ctx, "trail-logs", "AWSLogs/log.json.gz", strings.NewReader("delivered log file"), objstore.PutOptions{})
	if err != nil || info.SSE.Algorithm != "aws:kms" || !strings.Contains(info.SSE.KMSKeyID, ":key/") {
		t.Fatalf("put %+v %v", info, err)
	}
	for _, f := range diskFiles(t, env, "objects", "trail-logs") {
		if bytes.Contains(f, []byte("delivered")) {
			t.Fatal("plaintext on disk")
		}
	}
	if b, _, err := getBody(t, sc, "trail-logs", "AWSLogs/log.json.gz"); err != nil || string(b) != "delivered log file" {
		t.Fatalf("get %q %v", b, err)
	}
	_, err = env.Server.S3.Put(ctx, "trail-logs", "bad", strings.NewReader("x"), objstore.PutOptions{SSE: objstore.SSE{Algorithm: "aws:kms", KMSKeyID: "alias/nope"}})
	if code(err) != "KMS.NotFoundException" {
		t.Fatalf("Go API put with a missing key: %v", err)
	}
}
