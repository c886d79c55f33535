package s3store_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"lextrail/internal/server"
	"lextrail/internal/testenv"
)

// TestThroughLextrail: lextrail's S3 endpoint on an external store. An
// SSE-KMS object is checked against lextrail's KMS (key exists, caller may
// use it), its headers go to the external store, and no local envelope
// encryption happens; reading it still needs kms:Decrypt.
func TestThroughLextrail(t *testing.T) {
	p := gofakes3Peer(t)
	ext, extBucket := p.storeIn(t)
	env := testenv.New(t, testenv.Options{Configure: func(c *server.Config) { c.ObjectStore = ext }})
	sc := s3.NewFromConfig(env.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	kc := kms.NewFromConfig(env.Config())
	key, err := kc.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	arn := *key.KeyMetadata.Arn
	if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("front")}); err != nil {
		t.Fatal(err)
	}
	body := []byte("passed through to the external store")
	put, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("front"), Key: aws.String("o"), Body: bytes.NewReader(body),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: key.KeyMetadata.KeyId})
	if err != nil || aws.ToString(put.SSEKMSKeyId) != arn {
		t.Fatalf("put %+v %v", put, err)
	}
	raw, err := p.raw().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(extBucket), Key: aws.String("lextrail/front/o")})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := io.ReadAll(raw.Body)
	raw.Body.Close()
	if !bytes.Equal(stored, body) || raw.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(raw.SSEKMSKeyId) != arn {
		t.Fatalf("external object %q %q %q: want the plaintext with SSE-KMS headers (the store encrypts)", stored, raw.ServerSideEncryption, aws.ToString(raw.SSEKMSKeyId))
	}
	out, err := sc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("front"), Key: aws.String("o")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if !bytes.Equal(got, body) || aws.ToString(out.SSEKMSKeyId) != arn {
		t.Fatalf("get %q %s", got, aws.ToString(out.SSEKMSKeyId))
	}
	if _, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("front"), Key: aws.String("x"), Body: strings.NewReader("x"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("alias/none")}); apiCode(err) != "KMS.NotFoundException" {
		t.Fatalf("missing key: %v", err)
	}

	// A user with S3 but no KMS permission cannot read it.
	ic := iam.NewFromConfig(env.Config())
	if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("s3"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	ak, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("u")})
	if err != nil {
		t.Fatal(err)
	}
	uc := s3.NewFromConfig(env.Config(aws.Credentials{AccessKeyID: *ak.AccessKey.AccessKeyId, SecretAccessKey: *ak.AccessKey.SecretAccessKey}),
		func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := uc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("front"), Key: aws.String("o")}); apiCode(err) != "AccessDenied" {
		t.Fatalf("get without kms:Decrypt: %v", err)
	}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if err != nil && errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}
