package s3

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/identity"
	"lextrail/internal/objstore"
	"lextrail/internal/protocol"
	"lextrail/internal/sigv4"
)

// MaxPutSize is the largest single PutObject (S3: 5 GiB).
const MaxPutSize = 5 << 30

// ObjectInput names an object.
type ObjectInput struct {
	Bucket string `location:"uri" locationName:"Bucket"`
	Key    string `location:"uri" locationName:"Key"`
}

func (o *ObjectInput) bucketName() string { return o.Bucket }
func (o *ObjectInput) keyName() string    { return o.Key }

// storeErr maps an objstore error to S3's.
func storeErr(err error, bucket, key string) error {
	var se *sigv4.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return se.AWS(sigv4.FlavorS3)
	case errors.Is(err, objstore.ErrNoBucket):
		return errNoSuchBucket(bucket)
	case errors.Is(err, objstore.ErrNotFound):
		return awserr.New(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.").With("Key", key)
	case errors.Is(err, objstore.ErrExists):
		return awserr.New(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold").With("Condition", "If-None-Match")
	case errors.Is(err, objstore.ErrInvalidRange):
		return awserr.New(http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable")
	case errors.Is(err, objstore.ErrInvalidKey):
		return keyErr(key)
	case errors.Is(err, errTooLarge):
		return awserr.New(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
	}
	var ae *awserr.Error
	if errors.As(err, &ae) {
		return kmsErr(ae)
	}
	return err
}

// kmsErr turns a KMS error met during an S3 request into S3's form:
// KMS's client errors keep their code with a "KMS." prefix, as S3 reports
// them (400 KMS.NotFoundException, KMS.DisabledException, ...).
func kmsErr(e *awserr.Error) *awserr.Error {
	switch e.Code {
	case "NotFoundException", "DisabledException", "KMSInvalidStateException", "InvalidKeyUsageException",
		"InvalidCiphertextException", "IncorrectKeyException", "ValidationException", "UnsupportedOperationException":
		return awserr.New(http.StatusBadRequest, "KMS."+e.Code, "%s", e.Message)
	}
	return e
}

// encryptionContext is the KMS encryption context S3 uses for an object.
func encryptionContext(bucket, key string) map[string]string {
	return map[string]string{"aws:s3:arn": "arn:aws:s3:::" + bucket + "/" + key}
}

// authorizeKey checks KMS key use for an S3 request on bucket b's key.
func (s *Service) authorizeKey(ctx context.Context, c *catalog.Call, b *bucket, objKey, keyID, action string) (string, error) {
	arn, err := s.cfg.Keys.AuthorizeKeyUse(ctx, c, b.Region, keyID, action, encryptionContext(b.Name, objKey))
	if err != nil {
		return "", storeErr(err, b.Name, objKey)
	}
	return arn, nil
}

func keyErr(key string) error {
	if len(key) > objstore.MaxKeyLen {
		return awserr.New(http.StatusBadRequest, "KeyTooLongError", "Your key is too long").With("Size", len(key)).With("MaxSizeAllowed", objstore.MaxKeyLen)
	}
	return awserr.New(http.StatusBadRequest, "InvalidArgument", "Object key is not allowed: empty, NUL, absolute or with a '..' segment.").With("ArgumentName", "key")
}

// objectAccess loads the bucket, validates the key and authorizes action.
func (s *Service) objectAccess(ctx context.Context, c *catalog.Call, bucketName, key, action string) (*bucket, error) {
	b, err := s.bucket(ctx, c, bucketName)
	if err != nil {
		return nil, err
	}
	if err := objstore.ValidateKey(key); err != nil {
		return nil, keyErr(key)
	}
	if err := s.authorize(ctx, c, b, action, "arn:aws:s3:::"+bucketName+"/"+key, nil); err != nil {
		return nil, err
	}
	return b, nil
}

// PutObjectInput is PutObject's (and CopyObject's) input; the body is
// read raw.
type PutObjectInput struct {
	Bucket             string            `location:"uri" locationName:"Bucket"`
	Key                string            `location:"uri" locationName:"Key"`
	ContentType        string            `location:"header" locationName:"Content-Type"`
	ContentEncoding    string            `location:"header" locationName:"Content-Encoding"`
	ContentDisposition string            `location:"header" locationName:"Content-Disposition"`
	ContentLanguage    string            `location:"header" locationName:"Content-Language"`
	CacheControl       string            `location:"header" locationName:"Cache-Control"`
	Expires            string            `location:"header" locationName:"Expires"`
	ContentLength      *int64            `location:"header" locationName:"Content-Length"`
	DecodedLength      *int64            `location:"header" locationName:"x-amz-decoded-content-length"`
	Metadata           map[string]string `location:"headers" locationName:"x-amz-meta-"`
	SSE                string            `location:"header" locationName:"x-amz-server-side-encryption"`
	SSEKMSKeyID        string            `location:"header" locationName:"x-amz-server-side-encryption-aws-kms-key-id"`
	IfNoneMatch        string            `location:"header" locationName:"If-None-Match"`
	CopySource         string            `location:"header" locationName:"x-amz-copy-source"`
	Directive          string            `location:"header" locationName:"x-amz-metadata-directive"`
}

// headers are the system metadata the request sets.
func (o *PutObjectInput) headers() objstore.Headers {
	return headersOf(o.ContentEncoding, o.ContentDisposition, o.ContentLanguage, o.CacheControl, o.Expires)
}

// headersOf is the system metadata a request's headers set.
func headersOf(encoding, disposition, language, cache, expires string) objstore.Headers {
	return objstore.Headers{ContentEncoding: storedEncoding(encoding), ContentDisposition: disposition,
		ContentLanguage: language, CacheControl: cache, Expires: expires}
}

// storedEncoding is the Content-Encoding S3 keeps: the request's without
// aws-chunked, which only says how the upload was framed.
func storedEncoding(h string) string {
	if !strings.Contains(strings.ToLower(h), "aws-chunked") {
		return h
	}
	var keep []string
	for _, e := range strings.Split(h, ",") {
		if e = strings.TrimSpace(e); e != "" && !strings.EqualFold(e, "aws-chunked") {
			keep = append(keep, e)
		}
	}
	return strings.Join(keep, ",")
}

func (o *PutObjectInput) bucketName() string { return o.Bucket }
func (o *PutObjectInput) keyName() string    { return o.Key }

// CopyObjectResult is CopyObject's body.
type CopyObjectResult struct {
	XMLName      xml.Name      `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CopyObjectResult"`
	ETag         string        `xml:"ETag"`
	LastModified protocol.Time `xml:"LastModified"`
}

// PutObjectOutput is PutObject's (and CopyObject's) result.
type PutObjectOutput struct {
	ETag     string            `location:"header" locationName:"ETag"`
	SSE      string            `location:"header" locationName:"x-amz-server-side-encryption"`
	KMSKeyID string            `location:"header" locationName:"x-amz-server-side-encryption-aws-kms-key-id"`
	Copy     *CopyObjectResult `location:"payload"`
}

// sseFor resolves the SSE of a write of objKey: the request's headers,
// else the bucket default; for aws:kms the key must exist and the caller
// must be allowed to use it (kms:GenerateDataKey).
func (s *Service) sseFor(ctx context.Context, c *catalog.Call, b *bucket, objKey, alg, keyID string) (objstore.SSE, error) {
	sse := objstore.SSE{Algorithm: alg, KMSKeyID: keyID}
	if alg == "" {
		sse = b.defaultSSE()
	}
	switch sse.Algorithm {
	case "", "AES256":
		if keyID != "" {
			return sse, awserr.New(http.StatusBadRequest, "InvalidArgument", "Specifying a KMS key is only valid with aws:kms encryption")
		}
	case "aws:kms", "aws:kms:dsse":
		sse.Algorithm = "aws:kms"
		if s.cfg.Keys != nil {
			arn, err := s.authorizeKey(ctx, c, b, objKey, sse.KMSKeyID, "kms:GenerateDataKey")
			if err != nil {
				return sse, err
			}
			sse.KMSKeyID = arn
		}
	default:
		return sse, awserr.New(http.StatusBadRequest, "InvalidArgument", "The encryption method specified is not supported").With("ArgumentName", "x-amz-server-side-encryption")
	}
	return sse, nil
}

var errTooLarge = errors.New("s3: entity too large")

type limitedReader struct {
	r    io.Reader
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, errTooLarge
	}
	return n, err
}

// body returns the verified request body, bounded by max bytes.
func body(c *catalog.Call, max int64) io.Reader {
	var r io.Reader = c.Request.Body
	if c.Payload != nil {
		r = c.Payload(r)
	}
	return &limitedReader{r: r, left: max}
}

func (s *Service) putObject(ctx context.Context, c *catalog.Call, in *PutObjectInput) (*PutObjectOutput, error) {
	if in.CopySource != "" {
		return s.copyObject(ctx, c, in)
	}
	b, err := s.objectAccess(ctx, c, in.Bucket, in.Key, "s3:PutObject")
	if err != nil {
		return nil, err
	}
	size := in.ContentLength
	if in.DecodedLength != nil {
		size = in.DecodedLength
	}
	if size != nil && *size > MaxPutSize {
		return nil, storeErr(errTooLarge, in.Bucket, in.Key)
	}
	sse, err := s.sseFor(ctx, c, b, in.Key, in.SSE, in.SSEKMSKeyID)
	if err != nil {
		return nil, err
	}
	info, err := s.st.Put(ctx, in.Bucket, in.Key, body(c, MaxPutSize), objstore.PutOptions{
		ContentType: in.ContentType, Headers: in.headers(), Metadata: in.Metadata, SSE: sse, IfNoneMatch: in.IfNoneMatch == "*",
	})
	if err != nil {
		return nil, storeErr(err, in.Bucket, in.Key)
	}
	return &PutObjectOutput{ETag: info.ETag, SSE: info.SSE.Algorithm, KMSKeyID: info.SSE.KMSKeyID}, nil
}

func (s *Service) copyObject(ctx context.Context, c *catalog.Call, in *PutObjectInput) (*PutObjectOutput, error) {
	src, err := url.PathUnescape(strings.TrimPrefix(in.CopySource, "/"))
	if err != nil {
		return nil, awserr.New(http.StatusBadRequest, "InvalidArgument", "Invalid copy source encoding")
	}
	if i := strings.Index(src, "?versionId="); i >= 0 {
		src = src[:i]
	}
	sb, sk, ok := strings.Cut(src, "/")
	if !ok || sk == "" {
		return nil, awserr.New(http.StatusBadRequest, "InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey").With("ArgumentName", "x-amz-copy-source")
	}
	srcB, err := s.objectAccess(ctx, c, sb, sk, "s3:GetObject")
	if err != nil {
		return nil, err
	}
	dst, err := s.objectAccess(ctx, c, in.Bucket, in.Key, "s3:PutObject")
	if err != nil {
		return nil, err
	}
	// Drain the (empty) body so the payload signature is verified.
	if _, err := io.Copy(io.Discard, body(c, 0)); err != nil {
		return nil, storeErr(err, in.Bucket, in.Key)
	}
	rc, info, err := s.open(ctx, c, srcB, sk, nil)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	opts := objstore.PutOptions{ContentType: info.ContentType, Headers: info.Headers, Metadata: info.Metadata}
	if strings.EqualFold(in.Directive, "REPLACE") {
		opts.ContentType, opts.Headers, opts.Metadata = in.ContentType, in.headers(), in.Metadata
	} else if sb == in.Bucket && sk == in.Key && in.SSE == "" {
		return nil, awserr.New(http.StatusBadRequest, "InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	if opts.SSE, err = s.sseFor(ctx, c, dst, in.Key, in.SSE, in.SSEKMSKeyID); err != nil {
		return nil, err
	}
	out, err := s.st.Put(ctx, in.Bucket, in.Key, rc, opts)
	if err != nil {
		return nil, storeErr(err, in.Bucket, in.Key)
	}
	return &PutObjectOutput{ETag: out.ETag, SSE: out.SSE.Algorithm, KMSKeyID: out.SSE.KMSKeyID,
		Copy: &CopyObjectResult{ETag: out.ETag, LastModified: protocol.NewTime(out.LastModified)}}, nil
}

// open reads an object, checking KMS key use for SSE-KMS objects.
func (s *Service) open(ctx context.Context, c *catalog.Call, b *bucket, key string, rng *objstore.Range) (io.ReadCloser, objstore.Info, error) {
	info, err := s.st.Head(ctx, b.Name, key)
	if err != nil {
		return nil, info, storeErr(err, b.Name, key)
	}
	if info.SSE.Algorithm == "aws:kms" && s.cfg.Keys != nil && c != nil {
		if _, err := s.authorizeKey(ctx, c, b, key, info.SSE.KMSKeyID, "kms:Decrypt"); err != nil {
			return nil, info, err
		}
	}
	rc, info, err := s.st.Get(ctx, b.Name, key, rng)
	if err != nil {
		return nil, info, storeErr(err, b.Name, key)
	}
	return rc, info, nil
}

// GetObjectInput is GetObject's and HeadObject's input.
type GetObjectInput struct {
	Bucket string `location:"uri" locationName:"Bucket"`
	Key    string `location:"uri" locationName:"Key"`
	Range  string `location:"header" locationName:"Range"`
	// The response-* parameters override the answer's headers (GetObject
	// only; pre-signed download links use them).
	ResponseContentType        string `location:"querystring" locationName:"response-content-type"`
	ResponseContentEncoding    string `location:"querystring" locationName:"response-content-encoding"`
	ResponseContentDisposition string `location:"querystring" locationName:"response-content-disposition"`
	ResponseContentLanguage    string `location:"querystring" locationName:"response-content-language"`
	ResponseCacheControl       string `location:"querystring" locationName:"response-cache-control"`
	ResponseExpires            string `location:"querystring" locationName:"response-expires"`
}

// override applies the response-* parameters to out.
func (o *GetObjectInput) override(out *GetObjectOutput) {
	for _, f := range []struct {
		v   string
		dst *string
	}{
		{o.ResponseContentType, &out.ContentType}, {o.ResponseContentEncoding, &out.ContentEncoding},
		{o.ResponseContentDisposition, &out.ContentDisposition}, {o.ResponseContentLanguage, &out.ContentLanguage},
		{o.ResponseCacheControl, &out.CacheControl}, {o.ResponseExpires, &out.Expires},
	} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
}

func (o *GetObjectInput) bucketName() string { return o.Bucket }
func (o *GetObjectInput) keyName() string    { return o.Key }

// GetObjectOutput is GetObject's and HeadObject's result.
type GetObjectOutput struct {
	ContentLength      *int64            `location:"header" locationName:"Content-Length"`
	ContentType        string            `location:"header" locationName:"Content-Type"`
	ContentEncoding    string            `location:"header" locationName:"Content-Encoding"`
	ContentDisposition string            `location:"header" locationName:"Content-Disposition"`
	ContentLanguage    string            `location:"header" locationName:"Content-Language"`
	CacheControl       string            `location:"header" locationName:"Cache-Control"`
	Expires            string            `location:"header" locationName:"Expires"`
	ContentRange       string            `location:"header" locationName:"Content-Range"`
	AcceptRanges       string            `location:"header" locationName:"Accept-Ranges"`
	ETag               string            `location:"header" locationName:"ETag"`
	LastModified       protocol.Time     `location:"header" locationName:"Last-Modified"`
	Metadata           map[string]string `location:"headers" locationName:"x-amz-meta-"`
	SSE                string            `location:"header" locationName:"x-amz-server-side-encryption"`
	KMSKeyID           string            `location:"header" locationName:"x-amz-server-side-encryption-aws-kms-key-id"`
	Body               io.ReadCloser     `location:"payload"`
}

// parseRange reads "bytes=a-b", "bytes=a-" or "bytes=-n"; anything else
// (including several ranges) is ignored, as S3 does.
func parseRange(h string) *objstore.Range {
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return nil
	}
	a, bs, ok := strings.Cut(spec, "-")
	if !ok {
		return nil
	}
	if a == "" {
		n, err := strconv.ParseInt(bs, 10, 64)
		if err != nil || n < 0 {
			return nil
		}
		return &objstore.Range{First: -1, Last: n}
	}
	first, err := strconv.ParseInt(a, 10, 64)
	if err != nil || first < 0 {
		return nil
	}
	last := int64(-1)
	if bs != "" {
		if last, err = strconv.ParseInt(bs, 10, 64); err != nil || last < first {
			return nil
		}
	}
	return &objstore.Range{First: first, Last: last}
}

func (s *Service) getObject(ctx context.Context, c *catalog.Call, in *GetObjectInput) (*GetObjectOutput, error) {
	b, err := s.objectAccess(ctx, c, in.Bucket, in.Key, "s3:GetObject")
	if err != nil {
		return nil, err
	}
	rng := parseRange(in.Range)
	rc, info, err := s.open(ctx, c, b, in.Key, rng)
	if err != nil {
		return nil, err
	}
	out := objectHeaders(info)
	in.override(out)
	out.Body = rc
	if rng != nil {
		off, n, _ := rng.Resolve(info.Size)
		out.ContentLength = &n
		out.ContentRange = fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, info.Size)
		c.Status = http.StatusPartialContent
	}
	return out, nil
}

func objectHeaders(info objstore.Info) *GetObjectOutput {
	ct := info.ContentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	size := info.Size
	h := info.Headers
	return &GetObjectOutput{ContentLength: &size, ContentType: ct, ContentEncoding: h.ContentEncoding, ContentDisposition: h.ContentDisposition,
		ContentLanguage: h.ContentLanguage, CacheControl: h.CacheControl, Expires: h.Expires, AcceptRanges: "bytes", ETag: info.ETag,
		LastModified: protocol.NewTime(info.LastModified), Metadata: info.Metadata, SSE: info.SSE.Algorithm, KMSKeyID: info.SSE.KMSKeyID}
}

func (s *Service) headObject(ctx context.Context, c *catalog.Call, in *GetObjectInput) (*GetObjectOutput, error) {
	b, err := s.objectAccess(ctx, c, in.Bucket, in.Key, "s3:GetObject")
	if err != nil {
		return nil, err
	}
	info, err := s.st.Head(ctx, b.Name, in.Key)
	if err != nil {
		return nil, storeErr(err, in.Bucket, in.Key)
	}
	return objectHeaders(info), nil
}

func (s *Service) deleteObject(ctx context.Context, c *catalog.Call, in *ObjectInput) (*struct{}, error) {
	if _, err := s.objectAccess(ctx, c, in.Bucket, in.Key, "s3:DeleteObject"); err != nil {
		return nil, err
	}
	if err := s.st.Delete(ctx, in.Bucket, in.Key); err != nil {
		return nil, storeErr(err, in.Bucket, in.Key)
	}
	return &struct{}{}, nil
}

// DeleteObjectsInput is DeleteObjects' input.
type DeleteObjectsInput struct {
	Bucket string `location:"uri" locationName:"Bucket"`
	Delete *struct {
		Quiet   bool `xml:"Quiet"`
		Objects []struct {
			Key string `xml:"Key"`
		} `xml:"Object"`
	} `location:"payload"`
}

func (o *DeleteObjectsInput) bucketName() string { return o.Bucket }

// DeletedEntry is a deleted key.
type DeletedEntry struct {
	Key string `xml:"Key"`
}

// DeleteError is a key that was not deleted.
type DeleteError struct {
	Key     string `xml:"Key"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// DeleteObjectsOutput is DeleteResult.
type DeleteObjectsOutput struct {
	XMLName xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ DeleteResult"`
	Deleted []DeletedEntry `xml:"Deleted"`
	Errors  []DeleteError  `xml:"Error"`
}

func (s *Service) deleteObjects(ctx context.Context, c *catalog.Call, in *DeleteObjectsInput) (*DeleteObjectsOutput, error) {
	b, err := s.bucket(ctx, c, in.Bucket)
	if err != nil {
		return nil, err
	}
	if in.Delete == nil || len(in.Delete.Objects) == 0 || len(in.Delete.Objects) > 1000 {
		return nil, awserr.New(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
	}
	out := &DeleteObjectsOutput{}
	for _, o := range in.Delete.Objects {
		err := objstore.ValidateKey(o.Key)
		if err == nil {
			err = s.authorize(ctx, c, b, "s3:DeleteObject", "arn:aws:s3:::"+in.Bucket+"/"+o.Key, nil)
		}
		if err == nil {
			err = storeErr(s.st.Delete(ctx, in.Bucket, o.Key), in.Bucket, o.Key)
		} else if errors.Is(err, objstore.ErrInvalidKey) {
			err = keyErr(o.Key)
		}
		if err != nil {
			e := awserr.As(err)
			out.Errors = append(out.Errors, DeleteError{Key: o.Key, Code: e.Code, Message: e.Message})
			continue
		}
		if !in.Delete.Quiet {
			out.Deleted = append(out.Deleted, DeletedEntry{Key: o.Key})
		}
	}
	return out, nil
}

// Put stores an object on behalf of lextrail itself (trail delivery,
// conversation logs): no caller is authorized here (use Authorize first);
// the bucket's default encryption applies when opts.SSE is empty.
func (s *Service) Put(ctx context.Context, bucketName, key string, r io.Reader, opts objstore.PutOptions) (objstore.Info, error) {
	b, err := s.bucket(ctx, nil, bucketName)
	if err != nil {
		return objstore.Info{}, err
	}
	if opts.SSE.Algorithm == "" {
		opts.SSE = b.defaultSSE()
	}
	if opts.SSE.Algorithm == "aws:kms" && s.cfg.Keys != nil {
		arn, err := s.cfg.Keys.ResolveKey(ctx, nil, b.AccountID, b.Region, opts.SSE.KMSKeyID)
		if err != nil {
			return objstore.Info{}, storeErr(err, bucketName, key)
		}
		opts.SSE.KMSKeyID = arn
	}
	info, err := s.st.Put(ctx, bucketName, key, r, opts)
	return info, storeErr(err, bucketName, key)
}

// PutAsInput is an object write lextrail makes as a principal (the
// session of a role a service assumed, such as Lex's conversation-log
// role).
type PutAsInput struct {
	Principal   *identity.Principal
	Bucket, Key string
	Body        io.Reader
	ContentType string
	Headers     objstore.Headers
	Metadata    map[string]string
	// SSE is x-amz-server-side-encryption ("" for the bucket's default,
	// "AES256" or "aws:kms") and KMSKeyID its key ("" with aws:kms: the
	// account's aws/s3 key).
	SSE, KMSKeyID string
}

// PutAs stores an object as PutObject does for in.Principal: its identity
// (and session) policies and the bucket policy must allow s3:PutObject on
// the object, and for SSE-KMS it must be allowed to use the key
// (kms:GenerateDataKey via S3). Errors are S3's (NoSuchBucket,
// AccessDenied, KMS.NotFoundException, ...) as *awserr.Error. Like
// PutObject it is a data event: nothing is audited.
func (s *Service) PutAs(ctx context.Context, in PutAsInput) (objstore.Info, error) {
	if in.Principal == nil {
		return objstore.Info{}, awserr.Internal(errors.New("s3: PutAs needs a principal"))
	}
	c := &catalog.Call{Principal: in.Principal, Now: s.cfg.Now(), SourceIP: in.Principal.InvokedBy, UserAgent: in.Principal.InvokedBy}
	b, err := s.bucket(ctx, nil, in.Bucket)
	if err != nil {
		return objstore.Info{}, err
	}
	c.Region = b.Region
	if _, err := s.objectAccess(ctx, c, in.Bucket, in.Key, "s3:PutObject"); err != nil {
		return objstore.Info{}, err
	}
	sse, err := s.sseFor(ctx, c, b, in.Key, in.SSE, in.KMSKeyID)
	if err != nil {
		return objstore.Info{}, err
	}
	info, err := s.st.Put(ctx, in.Bucket, in.Key, in.Body, objstore.PutOptions{ContentType: in.ContentType, Headers: in.Headers, Metadata: in.Metadata, SSE: sse})
	return info, storeErr(err, in.Bucket, in.Key)
}

// Get reads an object for lextrail itself (no authorization).
func (s *Service) Get(ctx context.Context, bucketName, key string, rng *objstore.Range) (io.ReadCloser, objstore.Info, error) {
	rc, info, err := s.st.Get(ctx, bucketName, key, rng)
	return rc, info, storeErr(err, bucketName, key)
}

// BucketInfo is what other services need to know about a bucket.
type BucketInfo struct {
	Name, AccountID, Region string
}

// Bucket returns a bucket's owner and region (NoSuchBucket if missing).
func (s *Service) Bucket(ctx context.Context, name string) (BucketInfo, error) {
	b, err := s.bucket(ctx, nil, name)
	if err != nil {
		return BucketInfo{}, err
	}
	return BucketInfo{Name: b.Name, AccountID: b.AccountID, Region: b.Region}, nil
}
