package iam_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"lextrail/internal/testenv"
)

// TestS3UsesIdentityPolicies: S3 authorizes in its handlers with the
// identity side of the IAM authorizer, so an IAM user gets only what its
// policies allow there too.
func TestS3UsesIdentityPolicies(t *testing.T) {
	e := testenv.New(t)
	none := newUser(t, e, "nos3", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}`)
	some := newUser(t, e, "lister", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`)
	client := func(c aws.Credentials) *s3.Client {
		return s3.NewFromConfig(e.Config(c), func(o *s3.Options) { o.UsePathStyle = true })
	}
	if _, err := client(none).ListBuckets(ctx, &s3.ListBucketsInput{}); code(err) != "AccessDenied" {
		t.Fatalf("user without S3 permissions: %v", err)
	}
	if _, err := client(some).ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("user allowed s3:ListAllMyBuckets: %v", err)
	}
}
