package validate

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"lextrail/internal/objstore"
	"lextrail/internal/trail/digest"
)

// StoreObjects reads buckets from an object store (lextrail's local
// directory, opened read-only).
type StoreObjects struct{ Store objstore.Store }

// Get implements Objects.
func (s StoreObjects) Get(ctx context.Context, bucket, key string) ([]byte, map[string]string, error) {
	rc, info, err := s.Store.Get(ctx, bucket, key, nil)
	if errors.Is(err, objstore.ErrNotFound) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return b, info.Metadata, err
}

// List implements Objects.
func (s StoreObjects) List(ctx context.Context, bucket, prefix, after string) ([]string, bool, error) {
	page, err := s.Store.List(ctx, bucket, objstore.ListOptions{Prefix: prefix, After: after, MaxKeys: 1000})
	if err != nil {
		return nil, false, err
	}
	keys := make([]string, len(page.Objects))
	for i, o := range page.Objects {
		keys[i] = o.Key
	}
	return keys, page.IsTruncated, nil
}

// S3Objects reads buckets through an S3 API (external S3, or lextrail's
// endpoint).
type S3Objects struct{ Client *s3.Client }

// Get implements Objects.
func (s S3Objects) Get(ctx context.Context, bucket, key string) ([]byte, map[string]string, error) {
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return b, out.Metadata, err
}

// List implements Objects.
func (s S3Objects) List(ctx context.Context, bucket, prefix, after string) ([]string, bool, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
	if after != "" {
		in.StartAfter = aws.String(after)
	}
	out, err := s.Client.ListObjectsV2(ctx, in)
	if err != nil {
		return nil, false, err
	}
	keys := make([]string, len(out.Contents))
	for i, o := range out.Contents {
		keys[i] = aws.ToString(o.Key)
	}
	return keys, aws.ToBool(out.IsTruncated), nil
}

// StoredKeys serves keys from lextrail's database.
type StoredKeys struct{ Keys *digest.Keys }

// PublicKeys implements Keys.
func (k StoredKeys) PublicKeys(ctx context.Context, region string, start, end time.Time) ([]PublicKey, error) {
	keys, err := k.Keys.Public(ctx, region, start, end)
	if err != nil {
		return nil, err
	}
	out := make([]PublicKey, len(keys))
	for i, key := range keys {
		out[i] = PublicKey{Fingerprint: key.Fingerprint, DER: key.PublicDER}
	}
	return out, nil
}

// APIKeys serves keys from a CloudTrail API's ListPublicKeys; Clients
// gives the client of a region.
type APIKeys struct {
	Client func(region string) *cloudtrail.Client
}

// PublicKeys implements Keys.
func (k APIKeys) PublicKeys(ctx context.Context, region string, start, end time.Time) ([]PublicKey, error) {
	out, err := k.Client(region).ListPublicKeys(ctx, &cloudtrail.ListPublicKeysInput{StartTime: aws.Time(start), EndTime: aws.Time(end)})
	if err != nil {
		return nil, err
	}
	keys := make([]PublicKey, len(out.PublicKeyList))
	for i, p := range out.PublicKeyList {
		keys[i] = PublicKey{Fingerprint: aws.ToString(p.Fingerprint), DER: p.Value}
	}
	return keys, nil
}
