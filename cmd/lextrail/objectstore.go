package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"lextrail/internal/objstore"
	"lextrail/internal/objstore/s3store"
)

// objectStoreFlags select where S3 objects live: the local directory
// (default) or an external S3-compatible store.
type objectStoreFlags struct {
	url, endpoint, region, kmsKeyID string
	pathStyle                       bool
}

func (o *objectStoreFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.url, "object-store", os.Getenv("LEXTRAIL_OBJECT_STORE"),
		"where S3 objects live: empty for the data dir, or s3://bucket[/prefix] for an external S3-compatible store (env LEXTRAIL_OBJECT_STORE)")
	fs.StringVar(&o.endpoint, "object-store-endpoint", os.Getenv("LEXTRAIL_OBJECT_STORE_ENDPOINT"),
		"endpoint URL of the external store; default AWS S3 (env LEXTRAIL_OBJECT_STORE_ENDPOINT)")
	fs.StringVar(&o.region, "object-store-region", os.Getenv("LEXTRAIL_OBJECT_STORE_REGION"),
		"region of the external store; default from the AWS chain, else us-east-1 (env LEXTRAIL_OBJECT_STORE_REGION)")
	ps, _ := strconv.ParseBool(os.Getenv("LEXTRAIL_OBJECT_STORE_PATH_STYLE"))
	fs.BoolVar(&o.pathStyle, "object-store-path-style", ps,
		"address the external bucket path-style (http://endpoint/bucket), as most S3-compatible stores need (env LEXTRAIL_OBJECT_STORE_PATH_STYLE)")
	fs.StringVar(&o.kmsKeyID, "object-store-kms-key-id", os.Getenv("LEXTRAIL_OBJECT_STORE_KMS_KEY_ID"),
		"a key of the external store's KMS sent with SSE-KMS writes instead of lextrail's key ARN (env LEXTRAIL_OBJECT_STORE_KMS_KEY_ID)")
}

// parseObjectStoreURL splits s3://bucket[/prefix].
func parseObjectStoreURL(u string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return "", "", fmt.Errorf("--object-store must be s3://bucket[/prefix], not %q", u)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" || strings.ContainsAny(bucket, " ?#") {
		return "", "", fmt.Errorf("--object-store %q names no bucket", u)
	}
	return bucket, strings.Trim(prefix, "/"), nil
}

// open returns the external store, or nil for the local directory.
func (o *objectStoreFlags) open(ctx context.Context) (objstore.Store, error) {
	if o.url == "" {
		if o.endpoint != "" || o.region != "" || o.pathStyle || o.kmsKeyID != "" {
			return nil, fmt.Errorf("--object-store-* flags need --object-store s3://bucket[/prefix]")
		}
		return nil, nil
	}
	bucket, prefix, err := parseObjectStoreURL(o.url)
	if err != nil {
		return nil, err
	}
	return s3store.Open(ctx, s3store.Config{Bucket: bucket, Prefix: prefix, Endpoint: o.endpoint, Region: o.region,
		PathStyle: o.pathStyle, KMSKeyID: o.kmsKeyID})
}
