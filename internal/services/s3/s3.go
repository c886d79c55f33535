// Package s3 serves lextrail's S3-compatible endpoint (rest-xml, signing
// name "s3", path-style): buckets owned per account with globally unique
// names, bucket policies evaluated with internal/policy, default
// encryption, objects in an objstore.Store, multipart uploads. It also
// offers the Go API other services deliver through (Put, Authorize,
// BucketInfo): trail delivery writes log files as the cloudtrail
// service principal with it.
//
// Bucket calls are audited management events; object calls are data
// events (not in event history). Authorization is done here, not by the
// gateway's authorizer (operations are NoAuthz), because a bucket policy
// can grant access to other accounts and to service principals: the
// identity side is asked of Config.Identity, the resource side is the
// bucket policy, and policy.Decide combines them.
//
// It owns the s3_buckets and s3_uploads tables; object bytes are the
// store's.
package s3

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"lextrail/internal/catalog"
	"lextrail/internal/objstore"
	"lextrail/internal/store"
)

// Namespace is the xmlns of S3 documents.
const Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// IdentityAuthorizer is the identity side of authorization (the gateway's
// authorizer): nil error means the caller's identity policies allow
// action on the resources.
type IdentityAuthorizer interface {
	Authorize(ctx context.Context, c *catalog.Call, action string, resources []catalog.Resource) error
}

// Keys resolves KMS key IDs for SSE-KMS and checks that a principal may
// use a key (internal/services/kms implements it, as kms.S3Keys). Nil
// disables SSE-KMS checks (aws:kms is then recorded, not enforced).
type Keys interface {
	// AuthorizeKeyUse checks the key policy for action ("kms:GenerateDataKey",
	// "kms:Decrypt") by the caller with the encryption context and returns
	// the key's ARN. keyID may be an ID, ARN, alias name or alias ARN
	// (resolved in the caller's account and in region, the bucket's); ""
	// means the account's aws/s3 key, created on first use. Errors carry
	// KMS's codes (NotFoundException, DisabledException, ...) or the call's
	// AccessDenied.
	AuthorizeKeyUse(ctx context.Context, c *catalog.Call, region, keyID, action string, encCtx map[string]string) (keyARN string, err error)
	// ResolveKey resolves keyID in accountID and region without
	// authorization, for lextrail's own writes ("" as above). tx, when
	// set, is the caller's transaction.
	ResolveKey(ctx context.Context, tx *store.Tx, accountID, region, keyID string) (keyARN string, err error)
}

// Config configures the service.
type Config struct {
	DB *store.DB
	// Store holds the objects. Required.
	Store objstore.Store
	// Parts stages multipart upload parts. Required.
	Parts objstore.Store
	// Identity answers the identity side of authorization. Required.
	Identity IdentityAuthorizer
	// Keys enables SSE-KMS key checks.
	Keys   Keys
	Now    func() time.Time
	Logger *slog.Logger
}

// Service is the S3 service.
type Service struct {
	cfg Config
	db  *store.DB
	st  objstore.Store
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{cfg: cfg, db: cfg.DB, st: cfg.Store}
}

func bucketRes(c *catalog.Call, in any) []catalog.Resource {
	b := bucketOf(in)
	if b == "" {
		return nil
	}
	return []catalog.Resource{{ARN: "arn:aws:s3:::" + b, Type: "AWS::S3::Bucket"}}
}

func objectRes(c *catalog.Call, in any) []catalog.Resource {
	b, k := bucketOf(in), keyOf(in)
	return []catalog.Resource{{ARN: "arn:aws:s3:::" + b + "/" + k, Type: "AWS::S3::Object"}}
}

type hasBucket interface{ bucketName() string }
type hasKey interface{ keyName() string }

func bucketOf(in any) string {
	if b, ok := in.(hasBucket); ok {
		return b.bucketName()
	}
	return ""
}

func keyOf(in any) string {
	if k, ok := in.(hasKey); ok {
		return k.keyName()
	}
	return ""
}

// Catalog declares the operations.
func (s *Service) Catalog() *catalog.Service {
	mgmt := func(name, http, action string, readOnly bool) catalog.Operation {
		return catalog.Operation{Name: name, HTTP: http, Action: action, ReadOnly: readOnly, Audited: true, NoAuthz: true, Resources: bucketRes}
	}
	data := func(name, http, action string) catalog.Operation {
		// Object-level calls are recorded as data events: never in event
		// history, delivered by the trails whose selectors ask for them.
		return catalog.Operation{Name: name, HTTP: http, Action: action, Audited: true, DataEvent: true, NoAuthz: true, NoTx: true, Resources: objectRes}
	}
	list := func(name, http string) catalog.Operation {
		return catalog.Operation{Name: name, HTTP: http, Action: "s3:ListBucket", ReadOnly: true, Audited: true, DataEvent: true, NoAuthz: true, NoTx: true, Resources: bucketRes}
	}
	ops := []*catalog.Operation{
		catalog.Define(catalog.Operation{Name: "ListBuckets", HTTP: "GET /", Action: "s3:ListAllMyBuckets", ReadOnly: true, Audited: true, NoAuthz: true}, s.listBuckets),
		catalog.Define(mgmt("CreateBucket", "PUT /{Bucket}", "s3:CreateBucket", false), s.createBucket),
		catalog.Define(mgmt("DeleteBucket", "DELETE /{Bucket}", "s3:DeleteBucket", false), s.deleteBucket),
		catalog.Define(catalog.Operation{Name: "HeadBucket", HTTP: "HEAD /{Bucket}", Action: "s3:ListBucket", ReadOnly: true, NoAuthz: true, Resources: bucketRes}, s.headBucket),
		catalog.Define(mgmt("GetBucketLocation", "GET /{Bucket}?location", "s3:GetBucketLocation", true), s.getBucketLocation),
		catalog.Define(mgmt("GetBucketPolicy", "GET /{Bucket}?policy", "s3:GetBucketPolicy", true), s.getBucketPolicy),
		catalog.Define(mgmt("PutBucketPolicy", "PUT /{Bucket}?policy", "s3:PutBucketPolicy", false), s.putBucketPolicy),
		catalog.Define(mgmt("DeleteBucketPolicy", "DELETE /{Bucket}?policy", "s3:DeleteBucketPolicy", false), s.deleteBucketPolicy),
		catalog.Define(mgmt("GetBucketAcl", "GET /{Bucket}?acl", "s3:GetBucketAcl", true), s.getBucketAcl),
		catalog.Define(mgmt("GetBucketEncryption", "GET /{Bucket}?encryption", "s3:GetEncryptionConfiguration", true), s.getBucketEncryption),
		catalog.Define(mgmt("PutBucketEncryption", "PUT /{Bucket}?encryption", "s3:PutEncryptionConfiguration", false), s.putBucketEncryption),
		catalog.Define(mgmt("DeleteBucketEncryption", "DELETE /{Bucket}?encryption", "s3:PutEncryptionConfiguration", false), s.deleteBucketEncryption),
		catalog.Define(list("ListObjects", "GET /{Bucket}"), s.listObjects),
		catalog.Define(list("ListObjectsV2", "GET /{Bucket}?list-type=2"), s.listObjectsV2),
		catalog.Define(catalog.Operation{Name: "DeleteObjects", HTTP: "POST /{Bucket}?delete", Action: "s3:DeleteObject", Audited: true, DataEvent: true, NoAuthz: true, NoTx: true, Resources: bucketRes}, s.deleteObjects),
		withRaw(catalog.Define(data("PutObject", "PUT /{Bucket}/{Key+}", "s3:PutObject"), s.putObject)),
		catalog.Define(data("GetObject", "GET /{Bucket}/{Key+}", "s3:GetObject"), s.getObject),
		catalog.Define(data("HeadObject", "HEAD /{Bucket}/{Key+}", "s3:GetObject"), s.headObject),
		catalog.Define(data("DeleteObject", "DELETE /{Bucket}/{Key+}", "s3:DeleteObject"), s.deleteObject),
		catalog.Define(data("CreateMultipartUpload", "POST /{Bucket}/{Key+}?uploads", "s3:PutObject"), s.createMultipartUpload),
		withRaw(catalog.Define(data("UploadPart", "PUT /{Bucket}/{Key+}?partNumber&uploadId", "s3:PutObject"), s.uploadPart)),
		catalog.Define(data("CompleteMultipartUpload", "POST /{Bucket}/{Key+}?uploadId", "s3:PutObject"), s.completeMultipartUpload),
		catalog.Define(data("AbortMultipartUpload", "DELETE /{Bucket}/{Key+}?uploadId", "s3:AbortMultipartUpload"), s.abortMultipartUpload),
		catalog.Define(data("ListParts", "GET /{Bucket}/{Key+}?uploadId", "s3:ListMultipartUploadParts"), s.listParts),
	}
	for _, o := range ops {
		switch o.Name {
		case "DeleteObject", "AbortMultipartUpload":
			o.Status = http.StatusNoContent
		case "GetObject", "HeadObject", "ListParts":
			o.ReadOnly = true // recorded readOnly: true (NoTx still decides the transaction)
		}
	}
	return catalog.NewService(&catalog.Service{
		Name:               "s3",
		SigningName:        "s3",
		EventSource:        "s3.amazonaws.com",
		Protocol:           catalog.RestXML,
		AccessDeniedCode:   "AccessDenied",
		AccessDeniedStatus: http.StatusForbidden,
		Ops:                ops,
	})
}

func withRaw(o *catalog.Operation) *catalog.Operation {
	o.RawBody = true
	return o
}
