package awsjson

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go"

	"lextrail/internal/protocol/internal/codectest"
)

// TestSDKRoundTrip drives the codec with aws-sdk-go-v2's CloudTrail
// client (its serializer and deserializers).
func TestSDKRoundTrip(t *testing.T) {
	srv := httptest.NewServer(codectest.Handler(Codec{}, testSvc))
	defer srv.Close()
	client := cloudtrail.New(cloudtrail.Options{
		Region: "us-east-1", Credentials: aws.AnonymousCredentials{}, BaseEndpoint: aws.String(srv.URL),
		RetryMaxAttempts: 1,
	})
	ctx := context.Background()

	out, err := client.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("t1")})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(out.IsLogging) || out.LatestDeliveryTime.UnixMilli() != 1494360160133 || out.StartLoggingTime.Unix() != 1494360000 || out.StopLoggingTime != nil {
		t.Fatalf("out %+v", out)
	}

	_, err = client.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("nope")})
	var nf *types.TrailNotFoundException
	if !errors.As(err, &nf) || nf.ErrorMessage() != "Unknown trail: nope for the user: 123456789012" {
		t.Fatalf("err %v", err)
	}

	// An operation the service does not declare.
	_, err = client.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("t1")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "UnknownOperationException" {
		t.Fatalf("err %v", err)
	}
}
