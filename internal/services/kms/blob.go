package kms

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"sort"

	"github.com/google/uuid"
)

// Ciphertext blob, version 1 (all of it is authenticated):
//
//	0        1 byte    version (1)
//	1        1 byte    n = length of the region name (1..32)
//	2        n bytes   region
//	2+n      12 bytes  account ID (ASCII digits)
//	14+n     16 bytes  key ID (UUID, raw)
//	30+n     12 bytes  GCM nonce
//	42+n     ...       AES-256-GCM ciphertext and 16-byte tag
//
// The additional data is the header (bytes 0..30+n) followed by the
// canonical encryption context: the pairs sorted by key, each as
// uvarint(len(k)) k uvarint(len(v)) v. The header says which key made the
// blob, so Decrypt needs no KeyId; the context binds the blob to the
// context it was made with.
const (
	blobVersion  = 1
	nonceSize    = 12
	tagSize      = 16
	maxRegionLen = 32
	// MaxCiphertextBlob is KMS's limit on CiphertextBlob.
	MaxCiphertextBlob = 6144
)

var errBlob = errors.New("kms: malformed ciphertext blob")

// blob is a parsed ciphertext blob.
type blob struct {
	region, account, keyID string
	header                 []byte // bytes authenticated as the header
	nonce, sealed          []byte
}

func (b *blob) keyARN() string { return KeyARN(b.region, b.account, b.keyID) }

// parseBlob parses a blob's header; it never decrypts.
func parseBlob(p []byte) (*blob, error) {
	if len(p) < 2 || p[0] != blobVersion || len(p) > MaxCiphertextBlob {
		return nil, errBlob
	}
	n := int(p[1])
	if n == 0 || n > maxRegionLen {
		return nil, errBlob
	}
	hdrLen := 2 + n + 12 + 16
	if len(p) < hdrLen+nonceSize+tagSize {
		return nil, errBlob
	}
	region := p[2 : 2+n]
	for _, c := range region {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return nil, errBlob
		}
	}
	account := p[2+n : 14+n]
	for _, c := range account {
		if c < '0' || c > '9' {
			return nil, errBlob
		}
	}
	id, err := uuid.FromBytes(p[14+n : 30+n])
	if err != nil {
		return nil, errBlob
	}
	return &blob{region: string(region), account: string(account), keyID: id.String(),
		header: p[:hdrLen], nonce: p[hdrLen : hdrLen+nonceSize], sealed: p[hdrLen+nonceSize:]}, nil
}

// blobHeader builds the header of a blob made by key k.
func blobHeader(k *key) ([]byte, error) {
	id, err := uuid.Parse(k.ID)
	if err != nil || len(k.Region) == 0 || len(k.Region) > maxRegionLen || len(k.Account) != 12 {
		return nil, errBlob
	}
	h := make([]byte, 0, 30+len(k.Region)+nonceSize)
	h = append(h, blobVersion, byte(len(k.Region)))
	h = append(h, k.Region...)
	h = append(h, k.Account...)
	h = append(h, id[:]...)
	return h, nil
}

// canonicalContext is the encryption context as additional data.
func canonicalContext(b []byte, ectx map[string]string) []byte {
	keys := make([]string, 0, len(ectx))
	for k := range ectx {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		v := ectx[k]
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return b
}

// seal encrypts plaintext under key k (whose material is aead) bound to
// the encryption context.
func seal(aead cipher.AEAD, k *key, plaintext []byte, ectx map[string]string) ([]byte, error) {
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return sealNonce(aead, k, plaintext, ectx, nonce)
}

func sealNonce(aead cipher.AEAD, k *key, plaintext []byte, ectx map[string]string, nonce []byte) ([]byte, error) {
	h, err := blobHeader(k)
	if err != nil {
		return nil, err
	}
	ad := canonicalContext(append([]byte(nil), h...), ectx)
	out := make([]byte, 0, len(h)+nonceSize+len(plaintext)+tagSize)
	out = append(out, h...)
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plaintext, ad), nil
}

// open decrypts a parsed blob with its key's material.
func (b *blob) open(aead cipher.AEAD, ectx map[string]string) ([]byte, error) {
	ad := canonicalContext(append([]byte(nil), b.header...), ectx)
	pt, err := aead.Open(nil, b.nonce, b.sealed, ad)
	if err != nil {
		return nil, errBlob
	}
	return pt, nil
}
