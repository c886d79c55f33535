// Package secrets owns the master key and the sealing of secrets at rest
// (secret access keys, session secrets). A sealed value is
// "v1:" + base64(nonce || AES-256-GCM ciphertext), bound to an associated
// string (the access key ID) so a sealed secret cannot be moved to another
// row. A copy of the database alone yields no usable secret.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KeyFile is the master key's file name inside the data dir.
const KeyFile = "master.key"

// Sealer seals and opens secrets with the master key.
type Sealer struct{ aead cipher.AEAD }

// New returns a Sealer for a 32-byte key.
func New(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secrets: master key must be 32 bytes, got %d", len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: g}, nil
}

// LoadOrCreate returns the master key: from envValue (base64 of 32 bytes)
// when it is set, else from dataDir/master.key, creating that file with mode
// 0600 when it does not exist. A key file readable by group or others is
// refused.
func LoadOrCreate(dataDir, envValue string) ([]byte, error) {
	if envValue != "" {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(envValue))
		if err != nil || len(k) != 32 {
			return nil, errors.New("secrets: LEXTRAIL_MASTER_KEY must be base64 of 32 bytes")
		}
		return k, nil
	}
	path := filepath.Join(dataDir, KeyFile)
	data, err := os.ReadFile(path)
	if err == nil {
		st, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		if st.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("secrets: %s has mode %v; it must not be readable by group or others (chmod 600)", path, st.Mode().Perm())
		}
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("secrets: %s is not base64 of 32 bytes", path)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) { // another process created it first
			return LoadOrCreate(dataDir, "")
		}
		return nil, err
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return k, f.Close()
}

// Seal encrypts plaintext bound to aad.
func (s *Sealer) Seal(plaintext, aad string) (string, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := s.aead.Seal(nonce, nonce, []byte(plaintext), []byte(aad))
	return "v1:" + base64.StdEncoding.EncodeToString(ct), nil
}

// Open decrypts a value produced by Seal with the same aad.
func (s *Sealer) Open(sealed, aad string) (string, error) {
	rest, ok := strings.CutPrefix(sealed, "v1:")
	if !ok {
		return "", errors.New("secrets: unknown sealed format")
	}
	raw, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return "", errors.New("secrets: corrupt sealed value")
	}
	pt, err := s.aead.Open(nil, raw[:s.aead.NonceSize()], raw[s.aead.NonceSize():], []byte(aad))
	if err != nil {
		return "", errors.New("secrets: cannot open sealed value (wrong master key?)")
	}
	return string(pt), nil
}
