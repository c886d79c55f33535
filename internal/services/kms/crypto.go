package kms

import (
	"context"
	"crypto/rand"
	"net/http"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/store"
)

// Plaintext limits (KMS's).
const (
	MaxPlaintext     = 4096
	MaxDataKeyLength = 1024
)

// EncryptInput is Encrypt's input. The plaintext is never recorded.
type EncryptInput struct {
	KeyId               string
	Plaintext           []byte `audit:"omit"`
	EncryptionContext   map[string]string
	GrantTokens         []string
	EncryptionAlgorithm *string
	DryRun              *bool
}

// EncryptOutput is Encrypt's result.
type EncryptOutput struct {
	CiphertextBlob      []byte `json:"CiphertextBlob" audit:"omit"`
	KeyId               string `json:"KeyId"`
	EncryptionAlgorithm string `json:"EncryptionAlgorithm"`
}

// algorithm validates an EncryptionAlgorithm for a symmetric key.
func algorithm(a *string) (string, error) {
	if a == nil {
		return AlgSymmetricDefault, nil
	}
	if !inSet(*a, algorithms) {
		return "", enumErr(*a, "encryptionAlgorithm", algorithms)
	}
	if *a != AlgSymmetricDefault {
		return "", errKeyUsage("The encryption algorithm %s is not compatible with a SYMMETRIC_DEFAULT key.", *a)
	}
	return *a, nil
}

func dryRun(b *bool) bool { return b != nil && *b }

// cryptoParams is what CloudTrail records of a cryptographic call.
func cryptoParams(keyID, alg string, ectx map[string]string) map[string]any {
	m := map[string]any{}
	if keyID != "" {
		m["keyId"] = keyID
	}
	if alg != "" {
		m["encryptionAlgorithm"] = alg
	}
	if len(ectx) > 0 {
		m["encryptionContext"] = ectx
	}
	return m
}

func (s *Service) encrypt(ctx context.Context, c *catalog.Call, in *EncryptInput) (*EncryptOutput, error) {
	alg, err := algorithm(in.EncryptionAlgorithm)
	if err != nil {
		return nil, err
	}
	c.Audit.RequestParameters = cryptoParams(in.KeyId, alg, in.EncryptionContext)
	switch {
	case len(in.Plaintext) == 0:
		return nil, errValidation("1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length greater than or equal to 1")
	case len(in.Plaintext) > MaxPlaintext:
		return nil, errValidation("1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to %d", MaxPlaintext)
	}
	if err := validateContext(in.EncryptionContext); err != nil {
		return nil, err
	}
	extra := contextKeys(in.EncryptionContext)
	extra["kms:encryptionalgorithm"] = []string{alg}
	k, err := s.callKey(ctx, c, in.KeyId, "kms:Encrypt", true, extra)
	if err != nil {
		return nil, err
	}
	if err := usable(k); err != nil {
		return nil, err
	}
	if dryRun(in.DryRun) {
		return nil, errDryRun()
	}
	blob, err := s.sealWith(k, in.Plaintext, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	return &EncryptOutput{CiphertextBlob: blob, KeyId: k.ARN(), EncryptionAlgorithm: alg}, nil
}

func (s *Service) sealWith(k *key, plaintext []byte, ectx map[string]string) ([]byte, error) {
	a, err := s.aead(k)
	if err != nil {
		return nil, err
	}
	return seal(a, k, plaintext, ectx)
}

// DecryptInput is Decrypt's input. The ciphertext is never recorded.
type DecryptInput struct {
	CiphertextBlob      []byte `audit:"omit"`
	EncryptionContext   map[string]string
	GrantTokens         []string
	KeyId               *string
	EncryptionAlgorithm *string
	DryRun              *bool
}

// DecryptOutput is Decrypt's result.
type DecryptOutput struct {
	KeyId               string `json:"KeyId"`
	Plaintext           []byte `json:"Plaintext" audit:"omit"`
	EncryptionAlgorithm string `json:"EncryptionAlgorithm"`
}

func (s *Service) decrypt(ctx context.Context, c *catalog.Call, in *DecryptInput) (*DecryptOutput, error) {
	alg, err := algorithm(in.EncryptionAlgorithm)
	keyID := ""
	if in.KeyId != nil {
		keyID = *in.KeyId
	}
	// CloudTrail always records the algorithm of a Decrypt.
	c.Audit.RequestParameters = cryptoParams(keyID, AlgSymmetricDefault, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	c.Audit.RequestParameters["encryptionAlgorithm"] = alg
	if len(in.CiphertextBlob) == 0 {
		return nil, errValidation("1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(in.CiphertextBlob) > MaxCiphertextBlob {
		return nil, errValidation("1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: Member must have length less than or equal to %d", MaxCiphertextBlob)
	}
	if err := validateContext(in.EncryptionContext); err != nil {
		return nil, err
	}
	b, err := parseBlob(in.CiphertextBlob)
	if err != nil || b.region != c.Region {
		return nil, errInvalidCiphertext()
	}
	extra := contextKeys(in.EncryptionContext)
	extra["kms:encryptionalgorithm"] = []string{alg}
	var k *key
	if keyID != "" {
		if k, err = s.callKey(ctx, c, keyID, "kms:Decrypt", true, extra); err != nil {
			return nil, err
		}
		if k.ARN() != b.keyARN() {
			return nil, awserr.New(http.StatusBadRequest, "IncorrectKeyException", "The key ID in the request does not identify a CMK that can perform this operation.")
		}
	} else {
		if k, err = s.blobKey(ctx, c.Tx, b); err != nil {
			return nil, err
		}
		c.Audit.Resources = []catalog.Resource{k.resource()}
		if err := s.authorizeKey(ctx, c, k, "kms:Decrypt", extra); err != nil {
			return nil, err
		}
	}
	if err := usable(k); err != nil {
		return nil, err
	}
	if dryRun(in.DryRun) {
		return nil, errDryRun()
	}
	pt, err := s.openWith(k, b, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	return &DecryptOutput{KeyId: k.ARN(), Plaintext: pt, EncryptionAlgorithm: alg}, nil
}

// blobKey loads the key a blob names.
func (s *Service) blobKey(ctx context.Context, tx *store.Tx, b *blob) (*key, error) {
	var k *key
	err := s.read(ctx, tx, func(tx *store.Tx) error {
		var err error
		k, err = s.loadKey(ctx, tx, b.keyID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if k == nil || k.Account != b.account || k.Region != b.region {
		return nil, errNotFound("Key '%s' does not exist", b.keyARN())
	}
	return k, nil
}

func (s *Service) openWith(k *key, b *blob, ectx map[string]string) ([]byte, error) {
	a, err := s.aead(k)
	if err != nil {
		return nil, err
	}
	pt, err := b.open(a, ectx)
	if err != nil {
		return nil, errInvalidCiphertext()
	}
	return pt, nil
}

// GenerateDataKeyInput is GenerateDataKey's (and
// GenerateDataKeyWithoutPlaintext's) input.
type GenerateDataKeyInput struct {
	KeyId             string
	EncryptionContext map[string]string
	NumberOfBytes     *int32
	KeySpec           *string
	GrantTokens       []string
	DryRun            *bool
}

// GenerateDataKeyOutput is GenerateDataKey's result.
type GenerateDataKeyOutput struct {
	CiphertextBlob []byte `json:"CiphertextBlob" audit:"omit"`
	Plaintext      []byte `json:"Plaintext,omitempty" audit:"omit"`
	KeyId          string `json:"KeyId"`
}

var dataKeySpecs = []string{"AES_256", "AES_128"}

// dataKeyLength validates KeySpec / NumberOfBytes.
func dataKeyLength(in *GenerateDataKeyInput) (int, error) {
	switch {
	case in.KeySpec != nil && in.NumberOfBytes != nil, in.KeySpec == nil && in.NumberOfBytes == nil:
		return 0, errValidation("Please specify either number of bytes or key spec.")
	case in.KeySpec != nil:
		switch *in.KeySpec {
		case "AES_256":
			return 32, nil
		case "AES_128":
			return 16, nil
		}
		return 0, enumErr(*in.KeySpec, "keySpec", dataKeySpecs)
	}
	n := int(*in.NumberOfBytes)
	if n < 1 || n > MaxDataKeyLength {
		return 0, errValidation("1 validation error detected: Value '%d' at 'numberOfBytes' failed to satisfy constraint: Member must have value between 1 and %d", n, MaxDataKeyLength)
	}
	return n, nil
}

func (s *Service) generateDataKey(ctx context.Context, c *catalog.Call, in *GenerateDataKeyInput) (*GenerateDataKeyOutput, error) {
	return s.dataKey(ctx, c, in, "kms:GenerateDataKey", true)
}

func (s *Service) generateDataKeyWithoutPlaintext(ctx context.Context, c *catalog.Call, in *GenerateDataKeyInput) (*GenerateDataKeyOutput, error) {
	return s.dataKey(ctx, c, in, "kms:GenerateDataKeyWithoutPlaintext", false)
}

func (s *Service) dataKey(ctx context.Context, c *catalog.Call, in *GenerateDataKeyInput, action string, withPlaintext bool) (*GenerateDataKeyOutput, error) {
	params := cryptoParams(in.KeyId, "", in.EncryptionContext)
	if in.KeySpec != nil {
		params["keySpec"] = *in.KeySpec
	}
	if in.NumberOfBytes != nil {
		params["numberOfBytes"] = *in.NumberOfBytes
	}
	c.Audit.RequestParameters = params
	n, err := dataKeyLength(in)
	if err != nil {
		return nil, err
	}
	if err := validateContext(in.EncryptionContext); err != nil {
		return nil, err
	}
	k, err := s.callKey(ctx, c, in.KeyId, action, true, contextKeys(in.EncryptionContext))
	if err != nil {
		return nil, err
	}
	if err := usable(k); err != nil {
		return nil, err
	}
	if dryRun(in.DryRun) {
		return nil, errDryRun()
	}
	plain, blob, err := s.newDataKey(k, n, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	out := &GenerateDataKeyOutput{CiphertextBlob: blob, KeyId: k.ARN()}
	if withPlaintext {
		out.Plaintext = plain
	}
	return out, nil
}

// newDataKey makes n random bytes and their blob under k.
func (s *Service) newDataKey(k *key, n int, ectx map[string]string) (plain, blob []byte, err error) {
	plain = make([]byte, n)
	if _, err := rand.Read(plain); err != nil {
		return nil, nil, err
	}
	blob, err = s.sealWith(k, plain, ectx)
	return plain, blob, err
}
