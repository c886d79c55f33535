// Package s3store is the object-store driver on an external S3-compatible
// store (AWS S3, MinIO-like servers, moto, gofakes3), through the AWS SDK
// for Go v2 service/s3. It is what "lextrail serve --object-store
// s3://bucket[/prefix]" selects instead of the local directory.
//
// Layout: every lextrail bucket lives inside the one external bucket
// Config.Bucket, under Config.Prefix:
//
//	<prefix>.buckets/<bucket>     a zero-byte marker: the bucket exists
//	<prefix><bucket>/<key>        the object
//
// (".buckets" cannot be an S3 bucket name, so the two never collide.) Keys
// are therefore limited to objstore.MaxKeyLen minus the prefix and bucket
// name (MaxKeyLen reports the bound for a bucket).
//
// Server-side encryption is passed through: an object put with AES256 or
// aws:kms is sent with x-amz-server-side-encryption (and, for aws:kms,
// x-amz-server-side-encryption-aws-kms-key-id: the key lextrail named, or
// Config.KMSKeyID, a key of the store's own KMS, when set); the store
// encrypts. No local envelope encryption happens here. The setting
// lextrail recorded is also kept in the object's metadata
// (x-amz-meta-lextrail-sse, x-amz-meta-lextrail-kms-key-id, hidden from
// Info.Metadata) so that Head and Get report it even where the store does
// not echo it or uses its own key ID.
//
// Requests are sent with RequestChecksumCalculation=WhenRequired (many
// S3-compatible stores reject the SDK's default aws-chunked checksum
// trailers) and seekable bodies (the SDK hashes the payload for SigV4 over
// plain HTTP). Memory: a Put keeps at most Config.MemoryLimit bytes of a
// body in memory (default 1 MiB); a larger body is spooled to a temporary
// file and uploaded from it. Get streams the store's response.
//
// Multipart-completed objects carry the store's ETag (a single-part MD5),
// not S3's "<md5>-N" form: PutOptions.ETag is not stored.
package s3store

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"lextrail/internal/objstore"
)

// Reserved metadata keys (lower case, without x-amz-meta-). Every object
// lextrail writes carries all three, so that a store that merges the old
// object's metadata into a replacement (gofakes3 does) cannot make stale
// entries reappear: metaKeys lists the user metadata keys of this
// version.
const (
	metaSSE  = "lextrail-sse"        // "AES256", "aws:kms" or "none"
	metaKMS  = "lextrail-kms-key-id" // the key lextrail named, or "-"
	metaKeys = "lextrail-meta"       // the user metadata keys, comma-separated, or "-"
	// metaHeaders is the JSON of the object's objstore.Headers, or "-".
	// They are also sent as the headers themselves, but not every store
	// keeps them all (gofakes3 drops Cache-Control), and S3 keeps any
	// Expires text where the SDK sends and reads a date.
	metaHeaders = "lextrail-headers"
)

func reserved(k string) bool {
	return k == metaSSE || k == metaKMS || k == metaKeys || k == metaHeaders
}

// Config configures a Store. The zero value of each optional field is its
// documented default.
type Config struct {
	// Bucket is the external bucket that holds every lextrail bucket; it
	// must exist. Required.
	Bucket string
	// Prefix is put in front of every key in Bucket ("logs" and "logs/"
	// are the same). Default none.
	Prefix string
	// Endpoint is the store's URL ("http://127.0.0.1:9000"). Default: the
	// AWS S3 endpoint of Region.
	Endpoint string
	// Region is the store's region. Default: the AWS chain's
	// (AWS_REGION, the shared config), else us-east-1.
	Region string
	// PathStyle addresses buckets as http://endpoint/bucket rather than
	// http://bucket.endpoint (most S3-compatible stores need it).
	PathStyle bool
	// AWS is the SDK configuration to start from (credentials, HTTP
	// client). Default: config.LoadDefaultConfig, the usual AWS chain
	// (environment, shared files, SSO, container and instance roles).
	AWS *aws.Config
	// KMSKeyID, when set, is the store's KMS key sent with aws:kms writes
	// instead of the key lextrail names (whose ARN only lextrail knows).
	KMSKeyID string
	// MemoryLimit is the most of one Put body held in memory. Default 1 MiB.
	MemoryLimit int64
	// SpoolDir holds the temporary files of larger bodies. Default
	// os.TempDir().
	SpoolDir string
	// BucketCacheTTL is how long a bucket marker seen to exist is trusted
	// before it is looked at again (other nodes may delete buckets).
	// Default 10s.
	BucketCacheTTL time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Store is an objstore.Store on an external S3-compatible store.
type Store struct {
	cfg    Config
	client *s3.Client
	base   string // Prefix, "" or ending in "/"

	mu      sync.Mutex
	buckets map[string]time.Time // bucket -> when its marker was last seen
}

var _ objstore.Store = (*Store)(nil)

// Open returns a store on cfg's bucket; it checks that the bucket is
// reachable.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	s, err := New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(cfg.Bucket)}); err != nil {
		return nil, fmt.Errorf("s3store: bucket %q at %s: %w", cfg.Bucket, endpointName(cfg), err)
	}
	return s, nil
}

func endpointName(cfg Config) string {
	if cfg.Endpoint != "" {
		return cfg.Endpoint
	}
	return "AWS S3 (" + cfg.Region + ")"
}

// New returns a store without checking the bucket.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3store: Bucket is required")
	}
	if cfg.MemoryLimit <= 0 {
		cfg.MemoryLimit = 1 << 20
	}
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = os.TempDir()
	}
	if cfg.BucketCacheTTL == 0 {
		cfg.BucketCacheTTL = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var ac aws.Config
	if cfg.AWS != nil {
		ac = cfg.AWS.Copy()
	} else {
		var err error
		if ac, err = config.LoadDefaultConfig(ctx); err != nil {
			return nil, fmt.Errorf("s3store: AWS configuration: %w", err)
		}
	}
	if cfg.Region != "" {
		ac.Region = cfg.Region
	}
	if ac.Region == "" {
		ac.Region = "us-east-1"
	}
	cfg.Region = ac.Region
	client := s3.NewFromConfig(ac, func(o *s3.Options) {
		o.UsePathStyle = cfg.PathStyle
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	base := strings.Trim(cfg.Prefix, "/")
	if base != "" {
		base += "/"
	}
	return &Store{cfg: cfg, client: client, base: base, buckets: map[string]time.Time{}}, nil
}

// Client is the SDK client the store uses.
func (s *Store) Client() *s3.Client { return s.client }

// MaxKeyLen is the longest key the store takes in bucket.
func (s *Store) MaxKeyLen(bucket string) int {
	return objstore.MaxKeyLen - len(s.base) - len(bucket) - 1
}

func (s *Store) marker(bucket string) string { return s.base + ".buckets/" + bucket }
func (s *Store) dir(bucket string) string    { return s.base + bucket + "/" }

func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 || strings.Contains(b, "..") {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return b[0] != '.' && b[0] != '-'
}

func (s *Store) checkKey(bucket, key string) error {
	if err := objstore.ValidateKey(key); err != nil {
		return err
	}
	if len(key) > s.MaxKeyLen(bucket) {
		return fmt.Errorf("%w: longer than %d bytes in this store", objstore.ErrInvalidKey, s.MaxKeyLen(bucket))
	}
	return nil
}

// status is the HTTP status of an SDK error (0 when it has none).
func status(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// bucketExists looks at a bucket's marker (through the cache unless
// fresh is set).
func (s *Store) bucketExists(ctx context.Context, bucket string, fresh bool) (bool, error) {
	if !validBucket(bucket) {
		return false, nil
	}
	now := s.cfg.Now()
	if !fresh {
		s.mu.Lock()
		seen, ok := s.buckets[bucket]
		s.mu.Unlock()
		if ok && now.Sub(seen) < s.cfg.BucketCacheTTL && !now.Before(seen) {
			return true, nil
		}
	}
	_, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(s.marker(bucket))})
	if status(err) == http.StatusNotFound {
		s.forget(bucket)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	if len(s.buckets) > 100_000 {
		clear(s.buckets)
	}
	s.buckets[bucket] = now
	s.mu.Unlock()
	return true, nil
}

func (s *Store) forget(bucket string) {
	s.mu.Lock()
	delete(s.buckets, bucket)
	s.mu.Unlock()
}

func (s *Store) needBucket(ctx context.Context, bucket string) error {
	ok, err := s.bucketExists(ctx, bucket, false)
	if err != nil {
		return err
	}
	if !ok {
		return objstore.ErrNoBucket
	}
	return nil
}

// CreateBucket implements objstore.Store.
func (s *Store) CreateBucket(ctx context.Context, bucket string) error {
	if !validBucket(bucket) {
		return fmt.Errorf("s3store: invalid bucket name %q", bucket)
	}
	ok, err := s.bucketExists(ctx, bucket, true)
	if err != nil {
		return err
	}
	if ok {
		return objstore.ErrBucketExists
	}
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(s.marker(bucket)),
		Body: bytes.NewReader(nil), ContentLength: aws.Int64(0), IfNoneMatch: aws.String("*")})
	if status(err) == http.StatusPreconditionFailed {
		return objstore.ErrBucketExists
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.buckets[bucket] = s.cfg.Now()
	s.mu.Unlock()
	return nil
}

// DeleteBucket implements objstore.Store.
func (s *Store) DeleteBucket(ctx context.Context, bucket string) error {
	ok, err := s.bucketExists(ctx, bucket, true)
	if err != nil {
		return err
	}
	if !ok {
		return objstore.ErrNoBucket
	}
	out, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(s.cfg.Bucket), Prefix: aws.String(s.dir(bucket)), MaxKeys: aws.Int32(1)})
	if err != nil {
		return err
	}
	if len(out.Contents) > 0 {
		return objstore.ErrNotEmpty
	}
	s.forget(bucket)
	_, err = s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(s.marker(bucket))})
	return err
}

// spool reads r whole into a seekable body: memory up to MemoryLimit, a
// temp file beyond. It returns the body, its size and MD5, and a cleanup.
func (s *Store) spool(ctx context.Context, r io.Reader) (io.ReadSeeker, int64, []byte, func(), error) {
	h := md5.New()
	var buf bytes.Buffer
	n, err := io.CopyN(&buf, io.TeeReader(ctxReader{ctx, r}, h), s.cfg.MemoryLimit+1)
	if err == io.EOF {
		return bytes.NewReader(buf.Bytes()), n, h.Sum(nil), func() {}, nil
	}
	if err != nil {
		return nil, 0, nil, nil, err
	}
	f, err := os.CreateTemp(s.cfg.SpoolDir, "lextrail-s3store-*")
	if err != nil {
		return nil, 0, nil, nil, err
	}
	cleanup := func() { f.Close(); os.Remove(f.Name()) }
	if _, err := f.Write(buf.Bytes()); err != nil {
		cleanup()
		return nil, 0, nil, nil, err
	}
	m, err := io.Copy(f, io.TeeReader(ctxReader{ctx, r}, h))
	if err != nil {
		cleanup()
		return nil, 0, nil, nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		cleanup()
		return nil, 0, nil, nil, err
	}
	return f, n + m, h.Sum(nil), cleanup, nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Put implements objstore.Store. The body is read whole (spooled) before
// anything is sent, so a read error leaves the previous object untouched.
func (s *Store) Put(ctx context.Context, bucket, key string, r io.Reader, opts objstore.PutOptions) (objstore.Info, error) {
	if err := s.checkKey(bucket, key); err != nil {
		return objstore.Info{}, err
	}
	if err := s.needBucket(ctx, bucket); err != nil {
		return objstore.Info{}, err
	}
	body, size, sum, cleanup, err := s.spool(ctx, r)
	if err != nil {
		return objstore.Info{}, err
	}
	defer cleanup()
	meta := make(map[string]string, len(opts.Metadata)+3)
	var names []string
	for k, v := range opts.Metadata {
		if k = strings.ToLower(k); !reserved(k) {
			meta[k] = v
			names = append(names, k)
		}
	}
	sort.Strings(names)
	meta[metaKeys], meta[metaSSE], meta[metaKMS], meta[metaHeaders] = "-", "none", "-", "-"
	if opts.Headers != (objstore.Headers{}) {
		h, _ := json.Marshal(opts.Headers)
		meta[metaHeaders] = string(h)
	}
	if len(names) > 0 {
		meta[metaKeys] = strings.Join(names, ",")
	}
	ctype := opts.ContentType
	if ctype == "" {
		ctype = "binary/octet-stream" // what S3 gives an object put without one
	}
	in := &s3.PutObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(s.dir(bucket) + key), Body: body, ContentLength: aws.Int64(size),
		ContentType: aws.String(ctype), ContentEncoding: optString(opts.Headers.ContentEncoding),
		ContentDisposition: optString(opts.Headers.ContentDisposition), ContentLanguage: optString(opts.Headers.ContentLanguage),
		CacheControl: optString(opts.Headers.CacheControl)}
	switch opts.SSE.Algorithm {
	case "AES256":
		in.ServerSideEncryption = types.ServerSideEncryptionAes256
		meta[metaSSE] = "AES256"
	case "aws:kms":
		in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
		meta[metaSSE] = "aws:kms"
		kid := opts.SSE.KMSKeyID
		if s.cfg.KMSKeyID != "" {
			kid = s.cfg.KMSKeyID
		}
		if kid != "" {
			in.SSEKMSKeyId = aws.String(kid)
		}
		if opts.SSE.KMSKeyID != "" {
			meta[metaKMS] = opts.SSE.KMSKeyID
		}
	case "":
	default:
		return objstore.Info{}, fmt.Errorf("s3store: unsupported server-side encryption %q", opts.SSE.Algorithm)
	}
	in.Metadata = meta
	if opts.IfNoneMatch {
		in.IfNoneMatch = aws.String("*")
	}
	out, err := s.client.PutObject(ctx, in)
	if err != nil {
		return objstore.Info{}, s.mapErr(ctx, err, bucket)
	}
	etag := aws.ToString(out.ETag)
	if etag == "" {
		etag = `"` + hex.EncodeToString(sum) + `"`
	}
	return objstore.Info{Key: key, Size: size, ETag: etag, LastModified: s.cfg.Now().UTC().Truncate(time.Second),
		ContentType: opts.ContentType, Headers: opts.Headers, Metadata: opts.Metadata, SSE: opts.SSE}, nil
}

// headers are an object's system metadata from a response's.
func headers(encoding, disposition, language, cache *string) objstore.Headers {
	return objstore.Headers{ContentEncoding: aws.ToString(encoding), ContentDisposition: aws.ToString(disposition),
		ContentLanguage: aws.ToString(language), CacheControl: aws.ToString(cache)}
}

// optString is nil for "" (an absent header).
func optString(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// mapErr maps a store error on an object of bucket to objstore's.
func (s *Store) mapErr(ctx context.Context, err error, bucket string) error {
	switch c := errCode(err); {
	case c == "NoSuchKey", c == "NotFound", status(err) == http.StatusNotFound && c != "NoSuchBucket":
		// A missing object, or a bucket deleted meanwhile.
		if ok, berr := s.bucketExists(ctx, bucket, true); berr == nil && !ok {
			return objstore.ErrNoBucket
		}
		return objstore.ErrNotFound
	case c == "NoSuchBucket":
		return fmt.Errorf("s3store: the external bucket %q does not exist: %w", s.cfg.Bucket, err)
	case c == "PreconditionFailed", status(err) == http.StatusPreconditionFailed:
		return objstore.ErrExists
	case c == "InvalidRange", status(err) == http.StatusRequestedRangeNotSatisfiable:
		return objstore.ErrInvalidRange
	case c == "KeyTooLongError":
		return objstore.ErrInvalidKey
	}
	return err
}

// info builds an object's Info from a response's headers.
func (s *Store) info(key string, size int64, etag *string, mtime *time.Time, ctype *string, hdr objstore.Headers,
	meta map[string]string, sse types.ServerSideEncryption, kmsKey *string) objstore.Info {
	in := objstore.Info{Key: key, Size: size, ETag: aws.ToString(etag), ContentType: aws.ToString(ctype), Headers: hdr}
	if mtime != nil {
		in.LastModified = mtime.UTC()
	}
	in.SSE = objstore.SSE{Algorithm: string(sse), KMSKeyID: aws.ToString(kmsKey)}
	lower := make(map[string]string, len(meta))
	for k, v := range meta {
		lower[strings.ToLower(k)] = v
	}
	if v, ok := lower[metaSSE]; ok {
		in.SSE.Algorithm = v
		if v == "none" {
			in.SSE.Algorithm = ""
		}
	}
	if v, ok := lower[metaKMS]; ok {
		in.SSE.KMSKeyID = v
		if v == "-" {
			in.SSE.KMSKeyID = ""
		}
	}
	if in.SSE.Algorithm != "aws:kms" {
		in.SSE.KMSKeyID = ""
	}
	if v, ok := lower[metaHeaders]; ok {
		in.Headers = objstore.Headers{}
		if v != "-" {
			_ = json.Unmarshal([]byte(v), &in.Headers) // unreadable: as if absent
		}
	}
	var keep map[string]bool // nil: every non-reserved key (objects other tools wrote)
	if v, ok := lower[metaKeys]; ok {
		keep = map[string]bool{}
		if v != "-" {
			for _, k := range strings.Split(v, ",") {
				keep[k] = true
			}
		}
	}
	for k, v := range lower {
		if reserved(k) || (keep != nil && !keep[k]) {
			continue
		}
		if in.Metadata == nil {
			in.Metadata = map[string]string{}
		}
		in.Metadata[k] = v
	}
	return in
}

// Head implements objstore.Store.
func (s *Store) Head(ctx context.Context, bucket, key string) (objstore.Info, error) {
	if err := s.checkKey(bucket, key); err != nil {
		return objstore.Info{}, err
	}
	if err := s.needBucket(ctx, bucket); err != nil {
		return objstore.Info{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(s.dir(bucket) + key)})
	if err != nil {
		return objstore.Info{}, s.mapErr(ctx, err, bucket)
	}
	hdr := headers(out.ContentEncoding, out.ContentDisposition, out.ContentLanguage, out.CacheControl)
	return s.info(key, aws.ToInt64(out.ContentLength), out.ETag, out.LastModified, out.ContentType, hdr, out.Metadata,
		out.ServerSideEncryption, out.SSEKMSKeyId), nil
}

// Get implements objstore.Store.
func (s *Store) Get(ctx context.Context, bucket, key string, rng *objstore.Range) (io.ReadCloser, objstore.Info, error) {
	if err := s.checkKey(bucket, key); err != nil {
		return nil, objstore.Info{}, err
	}
	if err := s.needBucket(ctx, bucket); err != nil {
		return nil, objstore.Info{}, err
	}
	in := &s3.GetObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(s.dir(bucket) + key)}
	if rng != nil {
		switch {
		case rng.First < 0:
			if rng.Last <= 0 {
				return nil, objstore.Info{}, objstore.ErrInvalidRange
			}
			in.Range = aws.String(fmt.Sprintf("bytes=-%d", rng.Last))
		case rng.Last < 0:
			in.Range = aws.String(fmt.Sprintf("bytes=%d-", rng.First))
		default:
			in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", rng.First, rng.Last))
		}
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil && rng != nil && rng.First < 0 && s.mapErr(ctx, err, bucket) == objstore.ErrInvalidRange {
		// A suffix longer than the object is the whole object (S3); some
		// stores refuse it.
		in.Range = nil
		out, err = s.client.GetObject(ctx, in)
	}
	if err != nil {
		return nil, objstore.Info{}, s.mapErr(ctx, err, bucket)
	}
	size := aws.ToInt64(out.ContentLength)
	if cr := aws.ToString(out.ContentRange); cr != "" {
		// "bytes a-b/total"
		if i := strings.LastIndexByte(cr, '/'); i >= 0 {
			if total, err := strconv.ParseInt(cr[i+1:], 10, 64); err == nil {
				size = total
			}
		}
	}
	hdr := headers(out.ContentEncoding, out.ContentDisposition, out.ContentLanguage, out.CacheControl)
	return out.Body, s.info(key, size, out.ETag, out.LastModified, out.ContentType, hdr, out.Metadata,
		out.ServerSideEncryption, out.SSEKMSKeyId), nil
}

// Delete implements objstore.Store.
func (s *Store) Delete(ctx context.Context, bucket, key string) error {
	if err := s.checkKey(bucket, key); err != nil {
		return err
	}
	if err := s.needBucket(ctx, bucket); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(s.dir(bucket) + key)})
	if err != nil && status(err) != http.StatusNotFound {
		return s.mapErr(ctx, err, bucket)
	}
	return nil
}

// List implements objstore.Store with ListObjectsV2 on the store. A page
// may hold fewer than MaxKeys entries while IsTruncated is set.
func (s *Store) List(ctx context.Context, bucket string, opts objstore.ListOptions) (objstore.ListPage, error) {
	if err := s.needBucket(ctx, bucket); err != nil {
		return objstore.ListPage{}, err
	}
	max := opts.MaxKeys
	if max <= 0 || max > 1000 {
		max = 1000
	}
	dir := s.dir(bucket)
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.cfg.Bucket), Prefix: aws.String(dir + opts.Prefix), MaxKeys: aws.Int32(int32(max))}
	if opts.Delimiter != "" {
		in.Delimiter = aws.String(opts.Delimiter)
	}
	if opts.After != "" {
		after := dir + opts.After
		if opts.Delimiter != "" && strings.HasSuffix(opts.After, opts.Delimiter) {
			// After is a common prefix: skip every key under it.
			after += "\U0010FFFF"
		}
		in.StartAfter = aws.String(after)
	}
	var p objstore.ListPage
	for range 100 {
		out, err := s.client.ListObjectsV2(ctx, in)
		if err != nil {
			return objstore.ListPage{}, s.mapErr(ctx, err, bucket)
		}
		for _, o := range out.Contents {
			k := strings.TrimPrefix(aws.ToString(o.Key), dir)
			if k <= opts.After {
				continue
			}
			info := objstore.Info{Key: k, Size: aws.ToInt64(o.Size), ETag: aws.ToString(o.ETag)}
			if o.LastModified != nil {
				info.LastModified = o.LastModified.UTC()
			}
			p.Objects = append(p.Objects, info)
		}
		for _, cp := range out.CommonPrefixes {
			if c := strings.TrimPrefix(aws.ToString(cp.Prefix), dir); c > opts.After {
				p.CommonPrefixes = append(p.CommonPrefixes, c)
			}
		}
		p.IsTruncated = aws.ToBool(out.IsTruncated)
		if len(p.Objects)+len(p.CommonPrefixes) > 0 || !p.IsTruncated || out.NextContinuationToken == nil {
			break
		}
		// Everything on this page was at or before After: go on.
		in.ContinuationToken, in.StartAfter = out.NextContinuationToken, nil
	}
	// Keys and common prefixes come interleaved in key order; Next is the
	// greater of the last of each.
	if n := len(p.Objects); n > 0 {
		p.Next = p.Objects[n-1].Key
	}
	if n := len(p.CommonPrefixes); n > 0 && p.CommonPrefixes[n-1] > p.Next {
		p.Next = p.CommonPrefixes[n-1]
	}
	if !p.IsTruncated {
		p.Next = ""
	}
	return p, nil
}
