package s3

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"regexp"
	"strings"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/objstore"
	"lextrail/internal/policy"
	"lextrail/internal/protocol"
	"lextrail/internal/store"
)

// BucketInput names a bucket.
type BucketInput struct {
	Bucket string `location:"uri" locationName:"Bucket"`
}

func (b *BucketInput) bucketName() string { return b.Bucket }

// Owner is an S3 owner.
type Owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName,omitempty"`
}

// BucketEntry is a ListBuckets entry.
type BucketEntry struct {
	Name         string        `xml:"Name"`
	CreationDate protocol.Time `xml:"CreationDate"`
	BucketRegion string        `xml:"BucketRegion,omitempty"`
}

// ListBucketsOutput is ListAllMyBucketsResult.
type ListBucketsOutput struct {
	XMLName xml.Name      `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
	Owner   Owner         `xml:"Owner"`
	Buckets []BucketEntry `xml:"Buckets>Bucket"`
}

func canonicalID(account string) string { return "lextrail-" + account }

func (s *Service) listBuckets(ctx context.Context, c *catalog.Call, _ *struct{}) (*ListBucketsOutput, error) {
	if err := s.authorize(ctx, c, nil, "s3:ListAllMyBuckets", "*", nil); err != nil {
		return nil, err
	}
	rows, err := c.Tx.Query(ctx, `SELECT name, region, created_ms FROM s3_buckets WHERE account_id = $1 ORDER BY name`, c.AccountID())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := &ListBucketsOutput{Owner: Owner{ID: canonicalID(c.AccountID()), DisplayName: "lextrail"}, Buckets: []BucketEntry{}}
	for rows.Next() {
		var e BucketEntry
		var ms int64
		if err := rows.Scan(&e.Name, &e.BucketRegion, &ms); err != nil {
			return nil, err
		}
		e.CreationDate = protocol.NewTime(store.FromMillis(ms))
		out.Buckets = append(out.Buckets, e)
	}
	return out, rows.Err()
}

// CreateBucketConfiguration is CreateBucket's body.
type CreateBucketConfiguration struct {
	LocationConstraint string `xml:"LocationConstraint"`
}

// CreateBucketInput is CreateBucket's input.
type CreateBucketInput struct {
	Bucket string                     `location:"uri" locationName:"Bucket"`
	ACL    string                     `location:"header" locationName:"x-amz-acl"`
	Config *CreateBucketConfiguration `location:"payload"`
}

func (b *CreateBucketInput) bucketName() string { return b.Bucket }

// CreateBucketOutput is CreateBucket's result.
type CreateBucketOutput struct {
	Location string `location:"header" locationName:"Location"`
}

var bucketNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$`)
var ipLike = regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+$`)

// ValidBucketName reports whether name follows S3's bucket naming rules.
func ValidBucketName(name string) bool {
	return bucketNameRE.MatchString(name) && !strings.Contains(name, "..") && !ipLike.MatchString(name) &&
		!strings.Contains(name, ".-") && !strings.Contains(name, "-.") && !strings.HasPrefix(name, "xn--") &&
		!strings.HasSuffix(name, "-s3alias")
}

var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)

func (s *Service) createBucket(ctx context.Context, c *catalog.Call, in *CreateBucketInput) (*CreateBucketOutput, error) {
	if !ValidBucketName(in.Bucket) {
		return nil, awserr.New(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid.").With("BucketName", in.Bucket)
	}
	region := c.Region
	if in.Config != nil && in.Config.LocationConstraint != "" {
		region = in.Config.LocationConstraint
		if region == "EU" {
			region = "eu-west-1"
		}
		if !regionRE.MatchString(region) {
			return nil, awserr.New(http.StatusBadRequest, "InvalidLocationConstraint", "The specified location-constraint is not valid").With("LocationConstraint", region)
		}
	}
	if err := s.authorize(ctx, c, nil, "s3:CreateBucket", "arn:aws:s3:::"+in.Bucket, nil); err != nil {
		return nil, err
	}
	if b, err := loadBucket(ctx, c.Tx, in.Bucket); err == nil {
		if b.AccountID == c.AccountID() {
			return nil, awserr.New(http.StatusConflict, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.").With("BucketName", in.Bucket)
		}
		return nil, awserr.New(http.StatusConflict, "BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.").With("BucketName", in.Bucket)
	}
	_, err := c.Tx.Exec(ctx, `INSERT INTO s3_buckets (name, account_id, region, created_ms) VALUES ($1, $2, $3, $4)`,
		in.Bucket, c.AccountID(), region, store.Millis(c.Now))
	if store.IsUniqueViolation(err) {
		return nil, awserr.New(http.StatusConflict, "BucketAlreadyExists", "The requested bucket name is not available.").With("BucketName", in.Bucket)
	}
	if err != nil {
		return nil, err
	}
	// The store's bucket is made inside the transaction: if it fails the
	// row is rolled back; a leftover store bucket (crash after this line,
	// or a bucket an external store already has) is adopted.
	if err := s.st.CreateBucket(ctx, in.Bucket); err != nil && !errors.Is(err, objstore.ErrBucketExists) {
		return nil, err
	}
	return &CreateBucketOutput{Location: "/" + in.Bucket}, nil
}

// ownBucket loads a bucket and authorizes action on it.
func (s *Service) ownBucket(ctx context.Context, c *catalog.Call, name, action string) (*bucket, error) {
	b, err := s.bucket(ctx, c, name)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, c, b, action, "arn:aws:s3:::"+name, nil); err != nil {
		return nil, err
	}
	return b, nil
}

func (s *Service) deleteBucket(ctx context.Context, c *catalog.Call, in *BucketInput) (*struct{}, error) {
	if _, err := s.ownBucket(ctx, c, in.Bucket, "s3:DeleteBucket"); err != nil {
		return nil, err
	}
	p, err := s.st.List(ctx, in.Bucket, objstore.ListOptions{MaxKeys: 1})
	if err != nil && !errors.Is(err, objstore.ErrNoBucket) {
		return nil, err
	}
	if len(p.Objects) > 0 || len(p.CommonPrefixes) > 0 {
		return nil, bucketNotEmpty(in.Bucket)
	}
	if _, err := c.Tx.Exec(ctx, `DELETE FROM s3_buckets WHERE name = $1`, in.Bucket); err != nil {
		return nil, err
	}
	if _, err := c.Tx.Exec(ctx, `DELETE FROM s3_uploads WHERE bucket = $1`, in.Bucket); err != nil {
		return nil, err
	}
	if err := s.st.DeleteBucket(ctx, in.Bucket); err != nil && !errors.Is(err, objstore.ErrNoBucket) {
		if errors.Is(err, objstore.ErrNotEmpty) {
			return nil, bucketNotEmpty(in.Bucket)
		}
		return nil, err
	}
	c.Status = http.StatusNoContent
	return &struct{}{}, nil
}

func bucketNotEmpty(name string) *awserr.Error {
	return awserr.New(http.StatusConflict, "BucketNotEmpty", "The bucket you tried to delete is not empty").With("BucketName", name)
}

// HeadBucketOutput is HeadBucket's result.
type HeadBucketOutput struct {
	Region string `location:"header" locationName:"x-amz-bucket-region"`
}

func (s *Service) headBucket(ctx context.Context, c *catalog.Call, in *BucketInput) (*HeadBucketOutput, error) {
	b, err := s.ownBucket(ctx, c, in.Bucket, "s3:ListBucket")
	if err != nil {
		e := awserr.As(err)
		// HEAD has no body: the SDK sees only the status.
		return nil, &awserr.Error{Code: map[int]string{404: "NotFound", 403: "Forbidden"}[e.Status], Status: e.Status, Message: e.Message}
	}
	return &HeadBucketOutput{Region: b.Region}, nil
}

// LocationOutput is GetBucketLocation's result.
type LocationOutput struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
	Location string   `xml:",chardata"`
}

func (s *Service) getBucketLocation(ctx context.Context, c *catalog.Call, in *BucketInput) (*LocationOutput, error) {
	b, err := s.ownBucket(ctx, c, in.Bucket, "s3:GetBucketLocation")
	if err != nil {
		return nil, err
	}
	loc := b.Region
	if loc == "us-east-1" {
		loc = ""
	}
	return &LocationOutput{Location: loc}, nil
}

// PolicyOutput is GetBucketPolicy's result.
type PolicyOutput struct {
	Policy string `location:"payload"`
}

func (s *Service) getBucketPolicy(ctx context.Context, c *catalog.Call, in *BucketInput) (*PolicyOutput, error) {
	b, err := s.ownBucket(ctx, c, in.Bucket, "s3:GetBucketPolicy")
	if err != nil {
		return nil, err
	}
	if b.Policy == "" {
		return nil, awserr.New(http.StatusNotFound, "NoSuchBucketPolicy", "The bucket policy does not exist").With("BucketName", in.Bucket)
	}
	return &PolicyOutput{Policy: b.Policy}, nil
}

// PutPolicyInput is PutBucketPolicy's input.
type PutPolicyInput struct {
	Bucket string `location:"uri" locationName:"Bucket"`
	Policy string `location:"payload"`
}

func (b *PutPolicyInput) bucketName() string { return b.Bucket }

// MaxPolicySize is S3's bucket policy limit.
const MaxPolicySize = 20 << 10

func (s *Service) putBucketPolicy(ctx context.Context, c *catalog.Call, in *PutPolicyInput) (*struct{}, error) {
	b, err := s.ownBucket(ctx, c, in.Bucket, "s3:PutBucketPolicy")
	if err != nil {
		return nil, err
	}
	// Only the owner account may change a bucket's policy.
	if b.AccountID != c.AccountID() {
		return nil, accessDenied()
	}
	if len(in.Policy) > MaxPolicySize {
		return nil, awserr.New(http.StatusBadRequest, "PolicyTooLarge", "Policy exceeds the maximum allowed document size.")
	}
	if _, err := policy.Parse(in.Policy, policy.Resource); err != nil {
		return nil, awserr.New(http.StatusBadRequest, "MalformedPolicy", "%s", err.Error())
	}
	if _, err := c.Tx.Exec(ctx, `UPDATE s3_buckets SET policy = $1 WHERE name = $2`, in.Policy, in.Bucket); err != nil {
		return nil, err
	}
	c.Status = http.StatusNoContent
	c.Audit.RequestParameters = map[string]any{"bucketName": in.Bucket, "bucketPolicy": json.RawMessage(in.Policy), "policy": ""}
	return &struct{}{}, nil
}

func (s *Service) deleteBucketPolicy(ctx context.Context, c *catalog.Call, in *BucketInput) (*struct{}, error) {
	b, err := s.ownBucket(ctx, c, in.Bucket, "s3:DeleteBucketPolicy")
	if err != nil {
		return nil, err
	}
	if b.AccountID != c.AccountID() {
		return nil, accessDenied()
	}
	if _, err := c.Tx.Exec(ctx, `UPDATE s3_buckets SET policy = '' WHERE name = $1`, in.Bucket); err != nil {
		return nil, err
	}
	c.Status = http.StatusNoContent
	return &struct{}{}, nil
}

// Grantee of an ACL grant.
type Grantee struct {
	XMLNSXSI    string `xml:"xmlns:xsi,attr"`
	Type        string `xml:"xsi:type,attr"`
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName,omitempty"`
}

// Grant of an ACL.
type Grant struct {
	Grantee    Grantee `xml:"Grantee"`
	Permission string  `xml:"Permission"`
}

// ACLOutput is GetBucketAcl's AccessControlPolicy.
type ACLOutput struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ AccessControlPolicy"`
	Owner   Owner    `xml:"Owner"`
	Grants  []Grant  `xml:"AccessControlList>Grant"`
}

func (s *Service) getBucketAcl(ctx context.Context, c *catalog.Call, in *BucketInput) (*ACLOutput, error) {
	b, err := s.ownBucket(ctx, c, in.Bucket, "s3:GetBucketAcl")
	if err != nil {
		return nil, err
	}
	owner := Owner{ID: canonicalID(b.AccountID), DisplayName: "lextrail"}
	return &ACLOutput{Owner: owner, Grants: []Grant{{
		Grantee:    Grantee{XMLNSXSI: "http://www.w3.org/2001/XMLSchema-instance", Type: "CanonicalUser", ID: owner.ID, DisplayName: owner.DisplayName},
		Permission: "FULL_CONTROL",
	}}}, nil
}

// SSEDefault is ApplyServerSideEncryptionByDefault.
type SSEDefault struct {
	SSEAlgorithm   string `xml:"SSEAlgorithm" json:"alg"`
	KMSMasterKeyID string `xml:"KMSMasterKeyID,omitempty" json:"kms,omitempty"`
}

// SSERule is one encryption rule.
type SSERule struct {
	Default          *SSEDefault `xml:"ApplyServerSideEncryptionByDefault" json:"default"`
	BucketKeyEnabled bool        `xml:"BucketKeyEnabled" json:"bucketKey"`
}

// EncryptionConfiguration is ServerSideEncryptionConfiguration.
type EncryptionConfiguration struct {
	XMLName xml.Name  `xml:"ServerSideEncryptionConfiguration" json:"-"`
	Rules   []SSERule `xml:"Rule" json:"rules"`
}

// EncryptionOutput is GetBucketEncryption's result.
type EncryptionOutput struct {
	Config *EncryptionConfiguration `location:"payload"`
}

// PutEncryptionInput is PutBucketEncryption's input.
type PutEncryptionInput struct {
	Bucket string                   `location:"uri" locationName:"Bucket"`
	Config *EncryptionConfiguration `location:"payload"`
}

func (b *PutEncryptionInput) bucketName() string { return b.Bucket }

func (s *Service) getBucketEncryption(ctx context.Context, c *catalog.Call, in *BucketInput) (*EncryptionOutput, error) {
	b, err := s.ownBucket(ctx, c, in.Bucket, "s3:GetEncryptionConfiguration")
	if err != nil {
		return nil, err
	}
	if b.Encryption == "" {
		return nil, awserr.New(http.StatusNotFound, "ServerSideEncryptionConfigurationNotFoundError",
			"The server side encryption configuration was not found").With("BucketName", in.Bucket)
	}
	var cfg EncryptionConfiguration
	if err := json.Unmarshal([]byte(b.Encryption), &cfg); err != nil {
		return nil, err
	}
	return &EncryptionOutput{Config: &cfg}, nil
}

func (s *Service) putBucketEncryption(ctx context.Context, c *catalog.Call, in *PutEncryptionInput) (*struct{}, error) {
	if _, err := s.ownBucket(ctx, c, in.Bucket, "s3:PutEncryptionConfiguration"); err != nil {
		return nil, err
	}
	if in.Config == nil || len(in.Config.Rules) != 1 || in.Config.Rules[0].Default == nil {
		return nil, awserr.New(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
	}
	d := in.Config.Rules[0].Default
	switch d.SSEAlgorithm {
	case "AES256":
		if d.KMSMasterKeyID != "" {
			return nil, awserr.New(http.StatusBadRequest, "InvalidArgument", "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms")
		}
	case "aws:kms":
		// A default key is checked and stored as its ARN; none means the
		// account's aws/s3 key, made on first use.
		if s.cfg.Keys != nil && d.KMSMasterKeyID != "" {
			b, err := s.bucket(ctx, c, in.Bucket)
			if err != nil {
				return nil, err
			}
			arn, err := s.cfg.Keys.AuthorizeKeyUse(ctx, c, b.Region, d.KMSMasterKeyID, "kms:DescribeKey", nil)
			if err != nil {
				return nil, storeErr(err, in.Bucket, "")
			}
			d.KMSMasterKeyID = arn
		}
	default:
		return nil, awserr.New(http.StatusBadRequest, "InvalidArgument", "Invalid SSEAlgorithm: %s", d.SSEAlgorithm)
	}
	doc, _ := json.Marshal(in.Config)
	if _, err := c.Tx.Exec(ctx, `UPDATE s3_buckets SET encryption = $1 WHERE name = $2`, string(doc), in.Bucket); err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

func (s *Service) deleteBucketEncryption(ctx context.Context, c *catalog.Call, in *BucketInput) (*struct{}, error) {
	if _, err := s.ownBucket(ctx, c, in.Bucket, "s3:PutEncryptionConfiguration"); err != nil {
		return nil, err
	}
	if _, err := c.Tx.Exec(ctx, `UPDATE s3_buckets SET encryption = '' WHERE name = $1`, in.Bucket); err != nil {
		return nil, err
	}
	c.Status = http.StatusNoContent
	return &struct{}{}, nil
}

// defaultSSE is the bucket's default encryption.
func (b *bucket) defaultSSE() objstore.SSE {
	if b.Encryption == "" {
		return objstore.SSE{}
	}
	var cfg EncryptionConfiguration
	if json.Unmarshal([]byte(b.Encryption), &cfg) != nil || len(cfg.Rules) == 0 || cfg.Rules[0].Default == nil {
		return objstore.SSE{}
	}
	return objstore.SSE{Algorithm: cfg.Rules[0].Default.SSEAlgorithm, KMSKeyID: cfg.Rules[0].Default.KMSMasterKeyID}
}
