package kms_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"lextrail/internal/identity"
	kmssvc "lextrail/internal/services/kms"
	"lextrail/internal/testenv"
)

// BenchmarkGenerateDataKey: one GenerateDataKey per op through the
// endpoint (SigV4, key lookup, key policy, audit record).
func BenchmarkGenerateDataKey(b *testing.B) {
	env := testenv.New(b)
	c := client(env)
	k := newKey(b, c, nil)
	in := &kms.GenerateDataKeyInput{KeyId: k.KeyId, KeySpec: types.DataKeySpecAes256, EncryptionContext: map[string]string{"aws:s3:arn": "arn:aws:s3:::b/k"}}
	for b.Loop() {
		if _, err := c.GenerateDataKey(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecrypt: one Decrypt of a data key per op through the endpoint.
func BenchmarkDecrypt(b *testing.B) {
	env := testenv.New(b)
	c := client(env)
	k := newKey(b, c, nil)
	ectx := map[string]string{"aws:s3:arn": "arn:aws:s3:::b/k"}
	dk, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: k.KeyId, KeySpec: types.DataKeySpecAes256, EncryptionContext: ectx})
	if err != nil {
		b.Fatal(err)
	}
	in := &kms.DecryptInput{CiphertextBlob: dk.CiphertextBlob, EncryptionContext: ectx}
	for b.Loop() {
		if _, err := c.Decrypt(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGoAPIGenerateDataKey: the Go API other services use (no HTTP).
func BenchmarkGoAPIGenerateDataKey(b *testing.B) {
	env := testenv.New(b)
	k := newKey(b, client(env), nil)
	use := rootUse(env, *k.Arn)
	for b.Loop() {
		if _, err := env.Server.KMS.GenerateDataKey(ctx, use); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutObjectSSEKMS1MB: SSE-KMS PutObject of 1 MB objects through
// the S3 endpoint, encrypted at rest in the local directory; compare with
// internal/services/s3's BenchmarkPutObject1MB (plain).
func BenchmarkPutObjectSSEKMS1MB(b *testing.B) {
	env := testenv.New(b)
	k := newKey(b, client(env), nil)
	c := s3client(env)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	data := bytes.Repeat([]byte("x"), 1<<20)
	b.SetBytes(int64(len(data)))
	i := 0
	for b.Loop() {
		i++
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String(fmt.Sprint("k", i%64)), Body: bytes.NewReader(data),
			ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: k.KeyId}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetObjectSSEKMS1MB: the matching GetObject (decrypting).
func BenchmarkGetObjectSSEKMS1MB(b *testing.B) {
	env := testenv.New(b)
	k := newKey(b, client(env), nil)
	c := s3client(env)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	data := bytes.Repeat([]byte("x"), 1<<20)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String("k"), Body: bytes.NewReader(data),
		ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyId: k.KeyId}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bench"), Key: aws.String("k")})
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, out.Body)
		out.Body.Close()
		if n != int64(len(data)) {
			b.Fatalf("read %d", n)
		}
	}
}

// TestAWSCLI runs aws kms create-key/encrypt/decrypt and aws s3 cp with
// --sse aws:kms where the AWS CLI is installed (LEXTRAIL_REQUIRE_AWSCLI=1
// makes its absence a failure).
func TestAWSCLI(t *testing.T) {
	awscli := testenv.LookTool(t, "aws", "LEXTRAIL_REQUIRE_AWSCLI")
	env := testenv.New(t)
	dir := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(awscli, append([]string{"--endpoint-url", env.URL, "--output", "text"}, args...)...)
		cmd.Env = env.CLIEnv(t)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	arn := run("kms", "create-key", "--description", "cli key", "--query", "KeyMetadata.Arn")
	if !strings.HasPrefix(arn, "arn:aws:kms:us-east-1:"+env.AccountID+":key/") {
		t.Fatalf("create-key: %q", arn)
	}
	run("kms", "create-alias", "--alias-name", "alias/cli", "--target-key-id", arn)
	if out := run("kms", "list-aliases", "--query", "Aliases[0].AliasName"); out != "alias/cli" {
		t.Fatalf("list-aliases: %q", out)
	}
	plain := filepath.Join(dir, "plain.txt")
	os.WriteFile(plain, []byte("cli secret"), 0o600)
	blob := run("kms", "encrypt", "--key-id", "alias/cli", "--plaintext", "fileb://"+plain,
		"--encryption-context", "app=cli", "--query", "CiphertextBlob")
	blobFile := filepath.Join(dir, "blob.bin")
	raw, err := base64Decode(blob)
	if err != nil {
		t.Fatalf("encrypt output %q: %v", blob, err)
	}
	os.WriteFile(blobFile, raw, 0o600)
	got := run("kms", "decrypt", "--ciphertext-blob", "fileb://"+blobFile, "--encryption-context", "app=cli", "--query", "Plaintext")
	if pt, err := base64Decode(got); err != nil || string(pt) != "cli secret" {
		t.Fatalf("decrypt: %q %v", got, err)
	}
	cmd := exec.Command(awscli, "--endpoint-url", env.URL, "kms", "decrypt", "--ciphertext-blob", "fileb://"+blobFile, "--encryption-context", "app=other")
	cmd.Env = env.CLIEnv(t)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "InvalidCiphertextException") {
		t.Fatalf("decrypt with another context: %v %s", err, out)
	}

	run("s3", "mb", "s3://cli-enc")
	src := filepath.Join(dir, "audio.wav")
	os.WriteFile(src, bytes.Repeat([]byte("RIFF secret audio "), 1000), 0o600)
	run("s3", "cp", src, "s3://cli-enc/a/audio.wav", "--sse", "aws:kms", "--sse-kms-key-id", arn)
	head := run("s3api", "head-object", "--bucket", "cli-enc", "--key", "a/audio.wav", "--query", "[ServerSideEncryption,SSEKMSKeyId]")
	if !strings.Contains(head, "aws:kms") || !strings.Contains(head, arn) {
		t.Fatalf("head-object: %q", head)
	}
	for _, f := range diskFiles(t, env, "objects", "cli-enc") {
		if bytes.Contains(f, []byte("secret audio")) {
			t.Fatal("plaintext on disk")
		}
	}
	dst := filepath.Join(dir, "back.wav")
	run("s3", "cp", "s3://cli-enc/a/audio.wav", dst)
	want, _ := os.ReadFile(src)
	if back, _ := os.ReadFile(dst); !bytes.Equal(back, want) {
		t.Fatal("cp back differs")
	}
}

func base64Decode(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.TrimSpace(s))
}

func rootUse(env *testenv.Env, keyID string) kmssvc.Use {
	return kmssvc.Use{Principal: identity.Root(env.AccountID, ""), KeyID: keyID, Region: "us-east-1",
		EncryptionContext: map[string]string{"aws:s3:arn": "arn:aws:s3:::b/k"}}
}
