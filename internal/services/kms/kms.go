// Package kms serves the AWS Key Management Service subset lextrail
// supports (JSON 1.1, target prefix "TrentService", signing name "kms",
// regional, eventSource kms.amazonaws.com): symmetric encryption keys
// (CreateKey, DescribeKey, ListKeys, Enable/DisableKey, Schedule/
// CancelKeyDeletion, Get/PutKeyPolicy, ListResourceTags), aliases
// (CreateAlias, UpdateAlias, ListAliases, DeleteAlias) and the
// cryptographic operations Encrypt, Decrypt, GenerateDataKey and
// GenerateDataKeyWithoutPlaintext.
//
// Key material is 256 random bits per key, stored sealed under lextrail's
// master key (internal/secrets) and bound to the key's ARN. Ciphertext
// blobs are AES-256-GCM and self-describing (blob.go): they name the key's
// region, account and ID, so Decrypt needs no KeyId, and they are bound to
// the encryption context, so decrypting with another context fails with
// InvalidCiphertextException.
//
// Authorization: key policies are evaluated as AWS evaluates them. The
// package is the authorizer's resource-policy source for "kms" actions
// (ResourcePolicy, registered with authz.RegisterResourcePolicies): a key
// policy must allow the request even within the key's account, and a
// statement naming the account root delegates to the caller's IAM
// policies. Operations on a key resolve the key in their handler (an alias
// or a key ID needs the database) and then ask the authorizer; service
// principals and role sessions used by other lextrail services go through
// the same evaluation via the Go API (api.go).
//
// Cryptographic operations are management events with readOnly true (as
// CloudTrail records them); plaintexts and ciphertexts are never recorded.
//
// It owns the kms_keys and kms_aliases tables (migration 0600).
package kms

import (
	"context"
	"crypto/cipher"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/secrets"
	"lextrail/internal/store"
)

// TargetPrefix is KMS's X-Amz-Target prefix.
const TargetPrefix = "TrentService"

// EventSource is KMS's CloudTrail eventSource.
const EventSource = "kms.amazonaws.com"

// Authorizer decides whether a call's principal may perform action on
// resources, with extra condition keys (authz.Authorizer implements it,
// including the resource policies of registered sources).
type Authorizer interface {
	Check(ctx context.Context, c *catalog.Call, action string, resources []catalog.Resource, extra map[string][]string) error
}

// Config configures the service. The zero value of each optional field is
// its documented default.
type Config struct {
	// DB holds the keys and aliases. Required.
	DB *store.DB
	// Sealer seals key material under the master key. Required.
	Sealer *secrets.Sealer
	// Authorizer checks key use against key policies and identity
	// policies. Required.
	Authorizer Authorizer
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// PurgeInterval is how often the worker deletes keys whose deletion
	// date has passed (they are treated as deleted from that date on
	// anyway). Default 1 minute.
	PurgeInterval time.Duration
}

// Service is the KMS service.
type Service struct {
	cfg Config
	db  *store.DB

	mu    sync.RWMutex
	aeads map[string]cipher.AEAD // key ID -> unsealed key material
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PurgeInterval <= 0 {
		cfg.PurgeInterval = time.Minute
	}
	return &Service{cfg: cfg, db: cfg.DB, aeads: map[string]cipher.AEAD{}}
}

// Catalog declares KMS's operations. Operations on a key are NoAuthz for
// the gateway: their handlers resolve the key and ask the authorizer, with
// the key as the resource (so the key policy applies) and the encryption
// context as condition keys. Account-wide operations (CreateKey, ListKeys,
// ListAliases) are authorized by the gateway on "*".
func (s *Service) Catalog() *catalog.Service {
	key := func(name string, readOnly bool) catalog.Operation {
		return catalog.Operation{Name: name, ReadOnly: readOnly, Audited: true, NoAuthz: true}
	}
	ops := []*catalog.Operation{
		catalog.Define(catalog.Operation{Name: "CreateKey", Audited: true, RecordResponse: true}, s.createKey),
		catalog.Define(key("DescribeKey", true), s.describeKey),
		catalog.Define(catalog.Operation{Name: "ListKeys", ReadOnly: true, Audited: true}, s.listKeys),
		catalog.Define(key("EnableKey", false), s.enableKey),
		catalog.Define(key("DisableKey", false), s.disableKey),
		catalog.Define(withResponse(key("ScheduleKeyDeletion", false)), s.scheduleKeyDeletion),
		catalog.Define(withResponse(key("CancelKeyDeletion", false)), s.cancelKeyDeletion),
		catalog.Define(key("GetKeyPolicy", true), s.getKeyPolicy),
		catalog.Define(key("PutKeyPolicy", false), s.putKeyPolicy),
		catalog.Define(key("ListResourceTags", true), s.listResourceTags),
		catalog.Define(key("CreateAlias", false), s.createAlias),
		catalog.Define(key("UpdateAlias", false), s.updateAlias),
		catalog.Define(key("DeleteAlias", false), s.deleteAlias),
		catalog.Define(catalog.Operation{Name: "ListAliases", ReadOnly: true, Audited: true}, s.listAliases),
		catalog.Define(key("Encrypt", true), s.encrypt),
		catalog.Define(key("Decrypt", true), s.decrypt),
		catalog.Define(key("GenerateDataKey", true), s.generateDataKey),
		catalog.Define(key("GenerateDataKeyWithoutPlaintext", true), s.generateDataKeyWithoutPlaintext),
	}
	return catalog.NewService(&catalog.Service{
		Name:         "kms",
		SigningName:  "kms",
		EventSource:  EventSource,
		Protocol:     catalog.JSON,
		TargetPrefix: TargetPrefix,
		// KMS answers an authorization failure with a 400.
		AccessDeniedCode:   "AccessDeniedException",
		AccessDeniedStatus: http.StatusBadRequest,
		Ops:                ops,
	})
}

func withResponse(o catalog.Operation) catalog.Operation {
	o.RecordResponse = true
	return o
}

// Errors, as KMS names them (all 400).

func errNotFound(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusBadRequest, "NotFoundException", format, args...)
}

func errValidation(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusBadRequest, "ValidationException", format, args...)
}

func errInvalidCiphertext() *awserr.Error {
	return awserr.New(http.StatusBadRequest, "InvalidCiphertextException", "")
}

func errDisabled(arn string) *awserr.Error {
	return awserr.New(http.StatusBadRequest, "DisabledException", "%s is disabled.", arn)
}

func errInvalidState(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusBadRequest, "KMSInvalidStateException", format, args...)
}

func errUnsupported(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusBadRequest, "UnsupportedOperationException", format, args...)
}

func errKeyUsage(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusBadRequest, "InvalidKeyUsageException", format, args...)
}

// read runs fn in the call's transaction when it has one, else in a read
// transaction of its own.
func (s *Service) read(ctx context.Context, tx *store.Tx, fn func(*store.Tx) error) error {
	if tx != nil {
		return fn(tx)
	}
	return s.db.Read(ctx, fn)
}

// write runs fn in tx when it is a write transaction, else in a write
// transaction of its own (a caller holding a write transaction must pass
// it: SQLite has a single writer, and a second write transaction would
// wait for the first forever).
func (s *Service) write(ctx context.Context, tx *store.Tx, fn func(*store.Tx) error) error {
	if tx != nil && !tx.ReadOnly() {
		return fn(tx)
	}
	return s.db.Write(ctx, fn)
}
