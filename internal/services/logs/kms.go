package logs

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/store"
)

// Keys is what the logs service needs from KMS (the server adapts the kms
// service to it, using keys as the logs service principal): make a 32-byte
// data key under a KMS key of an account and region, bound to an
// encryption context, and unwrap it again. tx is the caller's transaction
// (KMS reads the key in it). Errors that are the caller's fault (no such
// key, key disabled, the key policy does not allow CloudWatch Logs) are
// *awserr.Error values.
type Keys interface {
	GenerateDataKey(ctx context.Context, tx *store.Tx, accountID, region, keyARN string, encryptionContext map[string]string) (plaintext, wrapped []byte, err error)
	Decrypt(ctx context.Context, tx *store.Tx, accountID, region, keyARN string, wrapped []byte, encryptionContext map[string]string) ([]byte, error)
}

// EncryptionContextKey is the encryption-context key CloudWatch Logs binds
// data keys to; its value is the log group's ARN (without ":*").
const EncryptionContextKey = "aws:logs:arn"

// kmsKeyARN is a KMS key ARN (aliases are not accepted by AssociateKmsKey).
var kmsKeyARN = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$`)

// dataKey is an unwrapped data key.
type dataKey struct {
	aead    cipher.AEAD
	expires time.Time
}

// keyCache keeps unwrapped data keys for KeyCacheTTL so that reads do not
// call KMS per block.
type keyCache struct {
	mu   sync.Mutex
	keys map[int64]dataKey
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// associateKey creates a data key wrapped by keyARN for the group and makes
// it the group's key for new blocks. It runs in tx.
func (s *Service) associateKey(ctx context.Context, tx *store.Tx, c *catalog.Call, g *group, keyARN string) error {
	if s.cfg.Keys == nil {
		return invalidParam("KMS encryption is not available on this lextrail server (no KMS service is configured).")
	}
	if !kmsKeyARN.MatchString(keyARN) {
		return invalidParam("Invalid KMS key ARN %q: specify the full ARN of a symmetric KMS key (arn:aws:kms:REGION:ACCOUNT:key/KEY_ID).", keyARN)
	}
	if parts := strings.Split(keyARN, ":"); parts[3] != c.Region {
		return invalidParam("The KMS key %s is not in the log group's region %s.", keyARN, c.Region)
	}
	groupARN := groupARN(c.Region, g.AccountID, g.Name)
	plain, wrapped, err := s.cfg.Keys.GenerateDataKey(ctx, tx, g.AccountID, c.Region, keyARN, map[string]string{EncryptionContextKey: groupARN})
	if err == nil && len(plain) != 32 {
		err = errors.New("logs: KMS returned a data key that is not 32 bytes")
	}
	if err != nil {
		var ae *awserr.Error
		if errors.As(err, &ae) && ae.Client() {
			// AWS: "If you attempt to associate a KMS key with a log group
			// but the KMS key does not exist or the KMS key is disabled,
			// you receive an InvalidParameterException error."
			return invalidParam("CloudWatch Logs (logs.%s.amazonaws.com) cannot use the KMS key %s: %s", c.Region, keyARN, ae.Message)
		}
		return err
	}
	id := randomID()
	if _, err := tx.Exec(ctx, `INSERT INTO logs_data_keys (dek_id, group_id, account_id, kms_key_arn, context_arn, wrapped, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		id, g.ID, g.AccountID, keyARN, groupARN, wrapped, store.Millis(c.Now)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE logs_groups SET kms_key_arn = $1, dek_id = $2 WHERE group_id = $3`, keyARN, id, g.ID); err != nil {
		return err
	}
	aead, err := newAEAD(plain)
	if err != nil {
		return err
	}
	tx.AfterCommit(func() { s.keys.put(id, aead, s.cfg.Now().Add(s.cfg.KeyCacheTTL)) })
	g.KMSKeyARN, g.DEK = keyARN, id
	return nil
}

func (kc *keyCache) get(id int64, now time.Time) cipher.AEAD {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	k, ok := kc.keys[id]
	if !ok || now.After(k.expires) {
		return nil
	}
	return k.aead
}

func (kc *keyCache) put(id int64, a cipher.AEAD, exp time.Time) {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	if kc.keys == nil || len(kc.keys) > 10_000 {
		kc.keys = map[int64]dataKey{}
	}
	kc.keys[id] = dataKey{aead: a, expires: exp}
}

// dataKeyFor returns the AEAD of data key id, unwrapping it with KMS when
// it is not cached. A KMS refusal (key disabled or deleted) is the
// caller's error, with KMS's message.
func (s *Service) dataKeyFor(ctx context.Context, q *store.Tx, id int64) (cipher.AEAD, error) {
	now := s.cfg.Now()
	if a := s.keys.get(id, now); a != nil {
		return a, nil
	}
	var acct, keyARN, ctxARN string
	var wrapped []byte
	err := q.QueryRow(ctx, `SELECT account_id, kms_key_arn, context_arn, wrapped FROM logs_data_keys WHERE dek_id = $1`, id).Scan(&acct, &keyARN, &ctxARN, &wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, awserr.Internal(errors.New("logs: data key missing"))
	}
	if err != nil {
		return nil, err
	}
	if s.cfg.Keys == nil {
		return nil, awserr.New(http.StatusBadRequest, "InvalidParameterException", "The log data is encrypted with KMS key %s, but this lextrail server has no KMS service configured.", keyARN)
	}
	region := ""
	if p := strings.SplitN(ctxARN, ":", 5); len(p) == 5 {
		region = p[3]
	}
	plain, err := s.cfg.Keys.Decrypt(ctx, q, acct, region, keyARN, wrapped, map[string]string{EncryptionContextKey: ctxARN})
	if err != nil {
		var ae *awserr.Error
		if errors.As(err, &ae) && ae.Client() {
			return nil, awserr.New(http.StatusBadRequest, "InvalidParameterException", "The log data is encrypted with KMS key %s, which cannot be used: %s", keyARN, ae.Message)
		}
		return nil, err
	}
	a, err := newAEAD(plain)
	if err != nil {
		return nil, err
	}
	s.keys.put(id, a, now.Add(s.cfg.KeyCacheTTL))
	return a, nil
}

// seal encrypts plaintext with a fresh nonce: nonce || ciphertext.
func seal(a cipher.AEAD, plaintext, aad []byte) []byte {
	out := make([]byte, a.NonceSize(), a.NonceSize()+len(plaintext)+a.Overhead())
	rand.Read(out)
	return a.Seal(out, out, plaintext, aad)
}

func open(a cipher.AEAD, sealed, aad []byte) ([]byte, error) {
	n := a.NonceSize()
	if len(sealed) < n {
		return nil, errCorruptBlock
	}
	return a.Open(nil, sealed[:n], sealed[n:], aad)
}

// blockAAD binds a block's ciphertext to its place.
func blockAAD(streamID, firstSeq int64, part byte) []byte {
	b := make([]byte, 0, 24)
	b = append(b, "lextrail-logs"...)
	b = append(b, part)
	b = binary.BigEndian.AppendUint64(b, uint64(streamID))
	return binary.BigEndian.AppendUint64(b, uint64(firstSeq))
}
