package kms

// The Go API other lextrail services use keys through (S3 SSE-KMS,
// CloudTrail trails, Lex conversation logs). It is not audited: it acts
// for lextrail itself, like the S3 Go API.
//
//	// Resolve a KmsKeyId given to CreateTrail (NotFoundException if there
//	// is no such key: map it to KmsKeyNotFoundException).
//	info, err := svc.ResolveKey(ctx, accountID, region, "alias/trail-logs")
//
//	// Use the key as the cloudtrail service principal, with CloudTrail's
//	// encryption context and source condition keys.
//	dk, err := svc.GenerateDataKey(ctx, kms.Use{
//		Principal: kms.ServicePrincipal("cloudtrail.amazonaws.com"),
//		KeyID: info.ARN, Region: region,
//		EncryptionContext: map[string]string{"aws:cloudtrail:arn": trailARN},
//		ConditionKeys: map[string][]string{"aws:SourceArn": {trailARN}, "aws:SourceAccount": {accountID}},
//	})
//	// ... encrypt with dk.Plaintext, store dk.CiphertextBlob beside the data ...
//	plain, info, err := svc.Decrypt(ctx, kms.Use{Principal: p, Region: region, EncryptionContext: ectx}, dk.CiphertextBlob)
//
// Conversation logs use the principal of the role Lex assumes (an
// AssumedRole principal): its identity policies and the key policy are
// evaluated as for any caller.

import (
	"context"
	"errors"
	"net/http"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/identity"
	"lextrail/internal/store"
)

// KeyInfo describes a key for other services.
type KeyInfo struct {
	ARN       string
	KeyID     string
	AccountID string
	Region    string
	// State is Enabled, Disabled or PendingDeletion.
	State string
	// Manager is CUSTOMER or AWS.
	Manager string
}

func (k *key) info() KeyInfo {
	return KeyInfo{ARN: k.ARN(), KeyID: k.ID, AccountID: k.Account, Region: k.Region, State: k.State, Manager: k.Manager}
}

// ServicePrincipal is the principal of an AWS service acting on its own
// ("cloudtrail.amazonaws.com"): only a key policy statement naming the
// service can let it use a key.
func ServicePrincipal(service string) *identity.Principal {
	return &identity.Principal{Type: identity.TypeAWSService, InvokedBy: service}
}

// Use says which key is used, by whom and with what encryption context.
type Use struct {
	// Principal uses the key: a caller's principal, a role session a
	// service assumed, or ServicePrincipal(...). Required.
	Principal *identity.Principal
	// KeyID is a key ID, key ARN, alias name or alias ARN. Key IDs and
	// alias names are resolved in AccountID (default: the principal's
	// account) and Region. Decrypt may leave it empty: the blob names its
	// key.
	KeyID     string
	AccountID string
	// Region is the region of the key. Required.
	Region string
	// EncryptionContext is bound to the data key (Decrypt needs the same).
	EncryptionContext map[string]string
	// ConditionKeys are extra condition keys the key policy may test
	// (aws:SourceArn, aws:SourceAccount, kms:ViaService), names
	// case-insensitive.
	ConditionKeys map[string][]string
	// Tx, when set, is used to read the key (a caller holding a write
	// transaction must pass it: SQLite has one writer).
	Tx *store.Tx
}

// call builds the authorization context of a Go API use.
func (s *Service) call(u Use) *catalog.Call {
	return &catalog.Call{Principal: u.Principal, Region: u.Region, Now: s.cfg.Now(), Tx: u.Tx, ConditionKeys: u.ConditionKeys}
}

func (u Use) account() string {
	if u.AccountID != "" {
		return u.AccountID
	}
	if u.Principal != nil {
		return u.Principal.AccountID
	}
	return ""
}

// ResolveKey resolves keyID (key ID, key ARN, alias name or alias ARN) in
// accountID and region to its key, without authorization. A missing key
// is NotFoundException; a key scheduled for deletion resolves (check
// State).
func (s *Service) ResolveKey(ctx context.Context, accountID, region, keyID string) (KeyInfo, error) {
	k, err := s.lookup(ctx, nil, accountID, region, keyID)
	if err != nil {
		return KeyInfo{}, err
	}
	return k.info(), nil
}

func (s *Service) lookup(ctx context.Context, tx *store.Tx, accountID, region, keyID string) (*key, error) {
	r, err := parseRef(keyID, accountID, region)
	if err != nil {
		return nil, err
	}
	if r.region != region {
		return nil, errNotFound("Invalid arn %s: the key is not in region %s", keyID, region)
	}
	var k *key
	err = s.read(ctx, tx, func(tx *store.Tx) error {
		var err error
		k, err = s.resolve(ctx, tx, r)
		return err
	})
	return k, err
}

// Authorize resolves u.KeyID and checks that u.Principal may perform
// action ("kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey") with it
// under its key policy (and the principal's IAM policies where the key
// policy delegates to the account), with u's encryption context as
// kms:EncryptionContext condition keys. The key must be enabled. Errors
// are KMS's (NotFoundException, DisabledException,
// KMSInvalidStateException, AccessDeniedException), as *awserr.Error.
func (s *Service) Authorize(ctx context.Context, u Use, action string) (KeyInfo, error) {
	k, err := s.authorizeUse(ctx, s.call(u), u, action)
	if err != nil {
		return KeyInfo{}, err
	}
	return k.info(), nil
}

func (s *Service) authorizeUse(ctx context.Context, c *catalog.Call, u Use, action string) (*key, error) {
	if u.Principal == nil || u.Region == "" {
		return nil, awserr.Internal(errMissingUse)
	}
	k, err := s.lookup(ctx, u.Tx, u.account(), u.Region, u.KeyID)
	if err != nil {
		return nil, err
	}
	extra := contextKeys(u.EncryptionContext)
	if err := s.authorizeKey(ctx, c, k, action, extra); err != nil {
		return nil, apiDenied(err)
	}
	return k, usable(k)
}

// apiDenied gives a denial of the Go API (which has no operation, so the
// authorizer answers with a generic AccessDenied) KMS's code and status.
func apiDenied(err error) error {
	var e *awserr.Error
	if errors.As(err, &e) && e.Code == "AccessDenied" {
		return awserr.New(http.StatusBadRequest, "AccessDeniedException", "%s", e.Message)
	}
	return err
}

// DataKey is a generated data key.
type DataKey struct {
	// Plaintext is the 32-byte AES-256 key; never store it.
	Plaintext []byte
	// CiphertextBlob is the key encrypted under the KMS key (store it
	// beside the data; Decrypt turns it back into Plaintext).
	CiphertextBlob []byte
	// KeyARN is the KMS key's ARN.
	KeyARN string
}

// GenerateDataKey makes an AES-256 data key under u.KeyID for u.Principal
// (kms:GenerateDataKey), bound to u.EncryptionContext.
func (s *Service) GenerateDataKey(ctx context.Context, u Use) (DataKey, error) {
	k, err := s.authorizeUse(ctx, s.call(u), u, "kms:GenerateDataKey")
	if err != nil {
		return DataKey{}, err
	}
	plain, blob, err := s.newDataKey(k, 32, u.EncryptionContext)
	if err != nil {
		return DataKey{}, err
	}
	return DataKey{Plaintext: plain, CiphertextBlob: blob, KeyARN: k.ARN()}, nil
}

// Decrypt decrypts a ciphertext blob (from GenerateDataKey or Encrypt)
// for u.Principal (kms:Decrypt) with u.EncryptionContext. u.KeyID may be
// empty; when set it must name the blob's key (IncorrectKeyException).
// A wrong context or a damaged blob is InvalidCiphertextException.
func (s *Service) Decrypt(ctx context.Context, u Use, ciphertext []byte) ([]byte, KeyInfo, error) {
	if u.Principal == nil || u.Region == "" {
		return nil, KeyInfo{}, awserr.Internal(errMissingUse)
	}
	b, err := parseBlob(ciphertext)
	if err != nil || b.region != u.Region {
		return nil, KeyInfo{}, errInvalidCiphertext()
	}
	k, err := s.blobKey(ctx, u.Tx, b)
	if err != nil {
		return nil, KeyInfo{}, err
	}
	if u.KeyID != "" {
		want, err := s.lookup(ctx, u.Tx, u.account(), u.Region, u.KeyID)
		if err != nil {
			return nil, KeyInfo{}, err
		}
		if want.ID != k.ID {
			return nil, KeyInfo{}, awserr.New(http.StatusBadRequest, "IncorrectKeyException", "The key ID in the request does not identify a CMK that can perform this operation.")
		}
	}
	if err := s.authorizeKey(ctx, s.call(u), k, "kms:Decrypt", contextKeys(u.EncryptionContext)); err != nil {
		return nil, KeyInfo{}, apiDenied(err)
	}
	if err := usable(k); err != nil {
		return nil, KeyInfo{}, err
	}
	pt, err := s.openWith(k, b, u.EncryptionContext)
	if err != nil {
		return nil, KeyInfo{}, err
	}
	return pt, k.info(), nil
}

// AWSManagedKey returns the AWS managed key "aws/<service>" (for example
// "aws/s3") of an account and region, creating it on first use as AWS
// does. tx, when set, is the caller's transaction.
func (s *Service) AWSManagedKey(ctx context.Context, tx *store.Tx, accountID, region, service string) (KeyInfo, error) {
	k, err := s.ensureManagedKey(ctx, tx, accountID, region, "aws/"+service)
	if err != nil {
		return KeyInfo{}, err
	}
	return k.info(), nil
}

type apiError string

func (e apiError) Error() string { return string(e) }

const errMissingUse = apiError("kms: Use needs a Principal and a Region")

// S3Keys is the view of the service the S3 endpoint uses for SSE-KMS
// (it implements internal/services/s3.Keys).
type S3Keys struct{ s *Service }

// S3 returns the S3 endpoint's view.
func (s *Service) S3() S3Keys { return S3Keys{s} }

// s3Managed reports whether keyID names S3's AWS managed key ("" is the
// default: aws/s3).
func s3Managed(keyID string) bool {
	return keyID == "" || keyID == "alias/aws/s3"
}

// AuthorizeKeyUse resolves keyID for an S3 request c (key IDs and alias
// names in the caller's account; "" or alias/aws/s3 is the account's aws/s3
// key, created on first use) in region (the bucket's) and checks that the
// caller may perform action with it via S3 (kms:ViaService
// s3.<region>.amazonaws.com) with the encryption context. It returns the
// key ARN. Errors are KMS's codes; the access denial is S3's AccessDenied
// (the call's service).
func (v S3Keys) AuthorizeKeyUse(ctx context.Context, c *catalog.Call, region, keyID, action string, encCtx map[string]string) (string, error) {
	s := v.s
	var k *key
	var err error
	if s3Managed(keyID) {
		k, err = s.ensureManagedKey(ctx, c.Tx, c.Principal.AccountID, region, "aws/s3")
	} else {
		k, err = s.lookup(ctx, c.Tx, c.Principal.AccountID, region, keyID)
	}
	if err != nil {
		return "", err
	}
	extra := contextKeys(encCtx)
	extra["kms:viaservice"] = []string{"s3." + region + ".amazonaws.com"}
	if err := s.authorizeKey(ctx, c, k, action, extra); err != nil {
		return "", err
	}
	return k.ARN(), usable(k)
}

// ResolveKey resolves keyID for lextrail's own S3 writes (no
// authorization): "" or alias/aws/s3 is the account's aws/s3 key.
func (v S3Keys) ResolveKey(ctx context.Context, tx *store.Tx, accountID, region, keyID string) (string, error) {
	if s3Managed(keyID) {
		k, err := v.s.ensureManagedKey(ctx, tx, accountID, region, "aws/s3")
		if err != nil {
			return "", err
		}
		return k.ARN(), nil
	}
	k, err := v.s.lookup(ctx, tx, accountID, region, keyID)
	if err != nil {
		return "", err
	}
	return k.ARN(), usable(k)
}

// StoreKeys is the view an object store uses for envelope encryption (it
// implements internal/objstore/localdir.KeyService). It authorizes
// nothing: callers authorize key use first (S3 does, with AuthorizeKeyUse).
type StoreKeys struct{ s *Service }

// StoreKeys returns the object store's view.
func (s *Service) StoreKeys() StoreKeys { return StoreKeys{s} }

// GenerateDataKey makes a 32-byte data key under the key keyID names (a
// key ARN), bound to encCtx.
func (v StoreKeys) GenerateDataKey(ctx context.Context, keyID string, encCtx map[string]string) (plain, wrapped []byte, keyARN string, err error) {
	r, err := parseRef(keyID, "", "")
	if err != nil || r.account == "" {
		return nil, nil, "", errNotFound("Invalid keyId '%s': the object store needs a key ARN", keyID)
	}
	k, err := v.s.lookup(ctx, nil, r.account, r.region, keyID)
	if err != nil {
		return nil, nil, "", err
	}
	if err := usable(k); err != nil {
		return nil, nil, "", err
	}
	plain, wrapped, err = v.s.newDataKey(k, 32, encCtx)
	return plain, wrapped, k.ARN(), err
}

// DecryptDataKey decrypts a data key made by GenerateDataKey.
func (v StoreKeys) DecryptDataKey(ctx context.Context, wrapped []byte, encCtx map[string]string) ([]byte, error) {
	b, err := parseBlob(wrapped)
	if err != nil {
		return nil, errInvalidCiphertext()
	}
	k, err := v.s.blobKey(ctx, nil, b)
	if err != nil {
		return nil, err
	}
	if err := usable(k); err != nil {
		return nil, err
	}
	return v.s.openWith(k, b, encCtx)
}

// IsNotFound reports whether err is KMS's NotFoundException (for callers
// that map it to their own code, as CloudTrail's KmsKeyNotFoundException).
func IsNotFound(err error) bool {
	var e *awserr.Error
	return errors.As(err, &e) && e.Code == "NotFoundException"
}
