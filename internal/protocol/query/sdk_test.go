package query

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"lextrail/internal/protocol/internal/codectest"
)

// TestSDKRoundTrip drives the codec with aws-sdk-go-v2's STS client.
func TestSDKRoundTrip(t *testing.T) {
	srv := httptest.NewServer(codectest.Handler(Codec{}, testSvc))
	defer srv.Close()
	client := sts.New(sts.Options{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}, BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1})
	ctx := context.Background()

	id, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.UserId) != "AIDA<&>" || aws.ToString(id.Account) != "123456789012" || aws.ToString(id.Arn) != "arn:aws:iam::123456789012:user/alice" {
		t.Fatalf("%+v", id)
	}

	ar, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:r"), RoleSessionName: aws.String("s"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(ar.Credentials.AccessKeyId) != "ASIA" || ar.Credentials.Expiration.Unix() != 1767323045 {
		t.Fatalf("%+v", ar.Credentials)
	}

	_, err = client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("bad"), RoleSessionName: aws.String("s")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" || ae.ErrorMessage() != "1 validation error detected: Value 'bad' at 'roleArn' failed to satisfy constraint" {
		t.Fatalf("err %v", err)
	}

	// An action the service does not declare.
	_, err = client.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidAction" || ae.ErrorMessage() != "Could not find operation GetSessionToken for version 2011-06-15" {
		t.Fatalf("err %v", err)
	}
}
