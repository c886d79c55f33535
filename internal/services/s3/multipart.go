package s3

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/objstore"
	"lextrail/internal/protocol"
	"lextrail/internal/store"
)

// partsBucket is the bucket of Config.Parts that stages parts, under
// "<uploadId>/<part number, 5 digits>".
const partsBucket = "multipart-parts"

// Multipart limits (S3's).
const (
	MinPartSize = 5 << 20
	MaxPartSize = 5 << 30
	MaxParts    = 10000
)

// CreateMultipartUploadInput is its input.
type CreateMultipartUploadInput struct {
	Bucket             string            `location:"uri" locationName:"Bucket"`
	Key                string            `location:"uri" locationName:"Key"`
	ContentType        string            `location:"header" locationName:"Content-Type"`
	ContentEncoding    string            `location:"header" locationName:"Content-Encoding"`
	ContentDisposition string            `location:"header" locationName:"Content-Disposition"`
	ContentLanguage    string            `location:"header" locationName:"Content-Language"`
	CacheControl       string            `location:"header" locationName:"Cache-Control"`
	Expires            string            `location:"header" locationName:"Expires"`
	Metadata           map[string]string `location:"headers" locationName:"x-amz-meta-"`
	SSE                string            `location:"header" locationName:"x-amz-server-side-encryption"`
	SSEKMSKeyID        string            `location:"header" locationName:"x-amz-server-side-encryption-aws-kms-key-id"`
}

func (o *CreateMultipartUploadInput) bucketName() string { return o.Bucket }
func (o *CreateMultipartUploadInput) keyName() string    { return o.Key }

// CreateMultipartUploadOutput is InitiateMultipartUploadResult.
type CreateMultipartUploadOutput struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ InitiateMultipartUploadResult"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
	SSE      string   `location:"header" locationName:"x-amz-server-side-encryption"`
	KMSKeyID string   `location:"header" locationName:"x-amz-server-side-encryption-aws-kms-key-id"`
}

type uploadOptions struct {
	ContentType string            `json:"ct,omitempty"`
	Headers     objstore.Headers  `json:"hdr,omitzero"`
	Metadata    map[string]string `json:"meta,omitempty"`
	SSE         objstore.SSE      `json:"sse"`
}

func (s *Service) createMultipartUpload(ctx context.Context, c *catalog.Call, in *CreateMultipartUploadInput) (*CreateMultipartUploadOutput, error) {
	b, err := s.objectAccess(ctx, c, in.Bucket, in.Key, "s3:PutObject")
	if err != nil {
		return nil, err
	}
	sse, err := s.sseFor(ctx, c, b, in.Key, in.SSE, in.SSEKMSKeyID)
	if err != nil {
		return nil, err
	}
	id := make([]byte, 24)
	rand.Read(id)
	uploadID := hex.EncodeToString(id)
	opts, _ := json.Marshal(uploadOptions{ContentType: in.ContentType, Metadata: in.Metadata, SSE: sse,
		Headers: headersOf(in.ContentEncoding, in.ContentDisposition, in.ContentLanguage, in.CacheControl, in.Expires)})
	err = s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO s3_uploads (upload_id, bucket, object_key, account_id, created_ms, options) VALUES ($1, $2, $3, $4, $5, $6)`,
			uploadID, in.Bucket, in.Key, c.AccountID(), store.Millis(c.Now), string(opts))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &CreateMultipartUploadOutput{Bucket: in.Bucket, Key: in.Key, UploadID: uploadID, SSE: sse.Algorithm, KMSKeyID: sse.KMSKeyID}, nil
}

type upload struct {
	bucket, key string
	opts        uploadOptions
}

func (s *Service) loadUpload(ctx context.Context, uploadID, bucketName, key string) (*upload, error) {
	var u upload
	var opts string
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `SELECT bucket, object_key, options FROM s3_uploads WHERE upload_id = $1`, uploadID).Scan(&u.bucket, &u.key, &opts)
	})
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (u.bucket != bucketName || u.key != key)) {
		return nil, awserr.New(http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.").With("UploadId", uploadID)
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(opts), &u.opts); err != nil {
		return nil, err
	}
	return &u, nil
}

func partKey(uploadID string, n int) string { return fmt.Sprintf("%s/%05d", uploadID, n) }

// UploadPartInput is its input; the body is read raw.
type UploadPartInput struct {
	Bucket     string `location:"uri" locationName:"Bucket"`
	Key        string `location:"uri" locationName:"Key"`
	PartNumber int    `location:"querystring" locationName:"partNumber"`
	UploadID   string `location:"querystring" locationName:"uploadId"`
}

func (o *UploadPartInput) bucketName() string { return o.Bucket }
func (o *UploadPartInput) keyName() string    { return o.Key }

// UploadPartOutput is its result.
type UploadPartOutput struct {
	ETag     string `location:"header" locationName:"ETag"`
	SSE      string `location:"header" locationName:"x-amz-server-side-encryption"`
	KMSKeyID string `location:"header" locationName:"x-amz-server-side-encryption-aws-kms-key-id"`
}

func (s *Service) uploadPart(ctx context.Context, c *catalog.Call, in *UploadPartInput) (*UploadPartOutput, error) {
	if _, err := s.objectAccess(ctx, c, in.Bucket, in.Key, "s3:PutObject"); err != nil {
		return nil, err
	}
	if in.PartNumber < 1 || in.PartNumber > MaxParts {
		return nil, awserr.New(http.StatusBadRequest, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive").With("ArgumentName", "partNumber")
	}
	u, err := s.loadUpload(ctx, in.UploadID, in.Bucket, in.Key)
	if err != nil {
		return nil, err
	}
	// Parts of an SSE-KMS upload are staged encrypted under the same key.
	var partOpts objstore.PutOptions
	if u.opts.SSE.Algorithm == "aws:kms" && s.cfg.Keys != nil {
		partOpts.SSE = u.opts.SSE
	}
	info, err := s.cfg.Parts.Put(ctx, partsBucket, partKey(in.UploadID, in.PartNumber), body(c, MaxPartSize), partOpts)
	if err != nil {
		return nil, storeErr(err, in.Bucket, in.Key)
	}
	return &UploadPartOutput{ETag: info.ETag, SSE: u.opts.SSE.Algorithm, KMSKeyID: u.opts.SSE.KMSKeyID}, nil
}

// MultipartInput names an upload.
type MultipartInput struct {
	Bucket   string `location:"uri" locationName:"Bucket"`
	Key      string `location:"uri" locationName:"Key"`
	UploadID string `location:"querystring" locationName:"uploadId"`
}

func (o *MultipartInput) bucketName() string { return o.Bucket }
func (o *MultipartInput) keyName() string    { return o.Key }

// CompletedPart names a part in CompleteMultipartUpload.
type CompletedPart struct {
	PartNumber int    `xml:"PartNumber"`
	ETag       string `xml:"ETag"`
}

// CompleteMultipartUploadInput is its input.
type CompleteMultipartUploadInput struct {
	Bucket   string `location:"uri" locationName:"Bucket"`
	Key      string `location:"uri" locationName:"Key"`
	UploadID string `location:"querystring" locationName:"uploadId"`
	Upload   *struct {
		Parts []CompletedPart `xml:"Part"`
	} `location:"payload"`
}

func (o *CompleteMultipartUploadInput) bucketName() string { return o.Bucket }
func (o *CompleteMultipartUploadInput) keyName() string    { return o.Key }

// CompleteMultipartUploadOutput is CompleteMultipartUploadResult.
type CompleteMultipartUploadOutput struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CompleteMultipartUploadResult"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
	SSE      string   `location:"header" locationName:"x-amz-server-side-encryption"`
	KMSKeyID string   `location:"header" locationName:"x-amz-server-side-encryption-aws-kms-key-id"`
}

// partsReader streams the parts one after another, opening each lazily.
type partsReader struct {
	ctx   context.Context
	s     objstore.Store
	keys  []string
	cur   io.ReadCloser
	index int
}

func (p *partsReader) Read(b []byte) (int, error) {
	for {
		if p.cur == nil {
			if p.index == len(p.keys) {
				return 0, io.EOF
			}
			rc, _, err := p.s.Get(p.ctx, partsBucket, p.keys[p.index], nil)
			if err != nil {
				return 0, err
			}
			p.cur, p.index = rc, p.index+1
		}
		n, err := p.cur.Read(b)
		if err == io.EOF {
			p.cur.Close()
			p.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (s *Service) completeMultipartUpload(ctx context.Context, c *catalog.Call, in *CompleteMultipartUploadInput) (*CompleteMultipartUploadOutput, error) {
	if _, err := s.objectAccess(ctx, c, in.Bucket, in.Key, "s3:PutObject"); err != nil {
		return nil, err
	}
	u, err := s.loadUpload(ctx, in.UploadID, in.Bucket, in.Key)
	if err != nil {
		return nil, err
	}
	if in.Upload == nil || len(in.Upload.Parts) == 0 {
		return nil, awserr.New(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
	}
	sums := md5.New()
	var keys []string
	prev := 0
	for _, p := range in.Upload.Parts {
		if p.PartNumber <= prev {
			return nil, awserr.New(http.StatusBadRequest, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number.")
		}
		prev = p.PartNumber
	}
	for i, p := range in.Upload.Parts {
		k := partKey(in.UploadID, p.PartNumber)
		info, err := s.cfg.Parts.Head(ctx, partsBucket, k)
		if err != nil || strings.Trim(info.ETag, `"`) != strings.Trim(p.ETag, `"`) {
			return nil, awserr.New(http.StatusBadRequest, "InvalidPart", "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.").With("PartNumber", p.PartNumber)
		}
		if i < len(in.Upload.Parts)-1 && info.Size < MinPartSize {
			return nil, awserr.New(http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.").With("PartNumber", p.PartNumber)
		}
		raw, _ := hex.DecodeString(strings.Trim(info.ETag, `"`))
		sums.Write(raw)
		keys = append(keys, k)
	}
	etag := fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(sums.Sum(nil)), len(keys))
	info, err := s.st.Put(ctx, in.Bucket, in.Key, &partsReader{ctx: ctx, s: s.cfg.Parts, keys: keys}, objstore.PutOptions{
		ContentType: u.opts.ContentType, Headers: u.opts.Headers, Metadata: u.opts.Metadata, SSE: u.opts.SSE, ETag: etag})
	if err != nil {
		return nil, storeErr(err, in.Bucket, in.Key)
	}
	if err := s.dropUpload(ctx, in.UploadID); err != nil {
		return nil, err
	}
	return &CompleteMultipartUploadOutput{Location: "/" + in.Bucket + "/" + in.Key, Bucket: in.Bucket, Key: in.Key, ETag: info.ETag,
		SSE: info.SSE.Algorithm, KMSKeyID: info.SSE.KMSKeyID}, nil
}

func (s *Service) dropUpload(ctx context.Context, uploadID string) error {
	if err := s.db.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM s3_uploads WHERE upload_id = $1`, uploadID)
		return err
	}); err != nil {
		return err
	}
	after := ""
	for {
		p, err := s.cfg.Parts.List(ctx, partsBucket, objstore.ListOptions{Prefix: uploadID + "/", After: after})
		if err != nil {
			return err
		}
		for _, o := range p.Objects {
			s.cfg.Parts.Delete(ctx, partsBucket, o.Key)
		}
		if !p.IsTruncated {
			return nil
		}
		after = p.Next
	}
}

func (s *Service) abortMultipartUpload(ctx context.Context, c *catalog.Call, in *MultipartInput) (*struct{}, error) {
	if _, err := s.objectAccess(ctx, c, in.Bucket, in.Key, "s3:AbortMultipartUpload"); err != nil {
		return nil, err
	}
	if _, err := s.loadUpload(ctx, in.UploadID, in.Bucket, in.Key); err != nil {
		return nil, err
	}
	return &struct{}{}, s.dropUpload(ctx, in.UploadID)
}

// PartEntry is a listed part.
type PartEntry struct {
	PartNumber   int           `xml:"PartNumber"`
	LastModified protocol.Time `xml:"LastModified"`
	ETag         string        `xml:"ETag"`
	Size         int64         `xml:"Size"`
}

// ListPartsOutput is ListPartsResult.
type ListPartsOutput struct {
	XMLName     xml.Name    `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListPartsResult"`
	Bucket      string      `xml:"Bucket"`
	Key         string      `xml:"Key"`
	UploadID    string      `xml:"UploadId"`
	MaxParts    int         `xml:"MaxParts"`
	IsTruncated bool        `xml:"IsTruncated"`
	Parts       []PartEntry `xml:"Part"`
}

func (s *Service) listParts(ctx context.Context, c *catalog.Call, in *MultipartInput) (*ListPartsOutput, error) {
	if _, err := s.objectAccess(ctx, c, in.Bucket, in.Key, "s3:ListMultipartUploadParts"); err != nil {
		return nil, err
	}
	if _, err := s.loadUpload(ctx, in.UploadID, in.Bucket, in.Key); err != nil {
		return nil, err
	}
	p, err := s.cfg.Parts.List(ctx, partsBucket, objstore.ListOptions{Prefix: in.UploadID + "/"})
	if err != nil {
		return nil, err
	}
	out := &ListPartsOutput{Bucket: in.Bucket, Key: in.Key, UploadID: in.UploadID, MaxParts: 1000, IsTruncated: p.IsTruncated}
	for _, o := range p.Objects {
		var n int
		fmt.Sscanf(o.Key[len(in.UploadID)+1:], "%d", &n)
		out.Parts = append(out.Parts, PartEntry{PartNumber: n, LastModified: protocol.NewTime(o.LastModified), ETag: o.ETag, Size: o.Size})
	}
	return out, nil
}

// EnsurePartsBucket creates the staging bucket in the parts store.
func EnsurePartsBucket(ctx context.Context, parts objstore.Store) error {
	if err := parts.CreateBucket(ctx, partsBucket); err != nil && !errors.Is(err, objstore.ErrBucketExists) {
		return err
	}
	return nil
}
