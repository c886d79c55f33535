package restxml

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"lextrail/internal/protocol/internal/codectest"
)

// TestSDKRoundTrip drives the codec with aws-sdk-go-v2's S3 client
// (path-style).
func TestSDKRoundTrip(t *testing.T) {
	srv := httptest.NewServer(codectest.Handler(Codec{}, s3svc))
	defer srv.Close()
	client := s3.New(s3.Options{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}, BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true, RetryMaxAttempts: 1,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired, ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired})
	ctx := context.Background()

	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("b1")}); err != nil {
		t.Fatal(err)
	}
	_, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("b2")})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Fatalf("HeadBucket: %v", err)
	}

	_, err = client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("b2")})
	var nsb *types.NoSuchBucket
	if !errors.As(err, &nsb) || nsb.ErrorMessage() != "The specified bucket does not exist" {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	_, err = client.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("b2")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "NoSuchBucket" {
		t.Fatalf("GetBucketPolicy: %v", err)
	}

	list, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("b1"), Prefix: aws.String("p/"), MaxKeys: aws.Int32(10)})
	if err != nil || len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "p/a//b/./c" || !list.Contents[0].LastModified.Equal(stamp) ||
		aws.ToInt32(list.MaxKeys) != 1000 || list.RequestCharged != types.RequestChargedRequester {
		t.Fatalf("%+v %v", list, err)
	}

	pol, err := client.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("b1")})
	if err != nil || aws.ToString(pol.Policy) != `{"Version":"2012-10-17"}` {
		t.Fatalf("%+v %v", pol, err)
	}

	buckets, err := client.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(buckets.Buckets) != 1 || aws.ToString(buckets.Buckets[0].Name) != "b1" || !buckets.Buckets[0].CreationDate.Equal(stamp) || aws.ToString(buckets.Owner.ID) != "o" {
		t.Fatalf("%+v %v", buckets, err)
	}

	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("b3"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "bad"}}); !errors.As(err, &ae) || ae.ErrorCode() != "InvalidLocationConstraint" {
		t.Fatalf("CreateBucket: %v", err)
	}
	cb, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("b3"), CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}})
	if err != nil || aws.ToString(cb.Location) != "/b3" {
		t.Fatalf("%+v %v", cb, err)
	}

	key := "dir//a b+c/./%41€"
	get, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b1"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(get.Body)
	if string(body) != key || aws.ToString(get.ETag) != `"e"` || get.Metadata["color"] != "blue" || !get.LastModified.Equal(stamp) {
		t.Fatalf("%q %+v", body, get)
	}

	put, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b1"), Key: aws.String(key), Body: strings.NewReader("data"), Metadata: map[string]string{"color": "red"}})
	if err != nil || aws.ToString(put.ETag) != `"etag"` {
		t.Fatalf("%+v %v", put, err)
	}
	if lastPut != [3]string{key, "data", "red"} {
		t.Fatalf("server saw %q", lastPut)
	}
}
