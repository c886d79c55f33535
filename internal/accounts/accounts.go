// Package accounts owns accounts (12-digit IDs), their root users' access
// keys, and the lookup of any access key to its secret and principal for
// SigV4 verification. Secrets are sealed with the master key
// (internal/secrets) before they reach the database. Other principal kinds
// (IAM users, STS sessions) plug into the lookup through PrincipalLoader;
// this package does not know their tables.
package accounts

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"lextrail/internal/identity"
	"lextrail/internal/secrets"
	"lextrail/internal/store"
)

// DefaultAccountID is the account created on first start when
// LEXTRAIL_ACCOUNT_ID is unset.
const DefaultAccountID = "000000000000"

var accountIDRe = regexp.MustCompile(`^[0-9]{12}$`)

// ValidAccountID reports whether id is 12 digits.
func ValidAccountID(id string) bool { return accountIDRe.MatchString(id) }

// Errors.
var (
	ErrAccountExists   = errors.New("accounts: account already exists")
	ErrNoAccount       = errors.New("accounts: no such account")
	ErrInvalidID       = errors.New("accounts: account ID must be 12 digits")
	ErrInvalidKeyPair  = errors.New("accounts: access key ID must be 16-128 characters of [A-Z0-9] and the secret at least 16 characters")
	ErrKeyOwnedByOther = errors.New("accounts: that access key ID belongs to another principal")
)

// Config configures a Store.
type Config struct {
	// CacheTTL bounds how long a looked-up key is served from memory before
	// the database is asked again (so a key deactivated on another node is
	// refused within CacheTTL). Default 2s; negative disables the cache.
	CacheTTL time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Store manages accounts and keys.
type Store struct {
	db     *store.DB
	sealer *secrets.Sealer
	cfg    Config

	mu      sync.RWMutex
	cache   map[string]cachedKey
	loaders map[string]PrincipalLoader
}

// Key is a resolved access key.
type Key struct {
	AccessKeyID string
	Secret      string
	Status      string // "Active" or "Inactive"
	Principal   *identity.Principal
	// SessionToken is required (and must match) for temporary keys.
	SessionToken string
	// Expiration is set for temporary keys.
	Expiration time.Time
}

type cachedKey struct {
	key     *Key
	expires time.Time
}

// Row is an access_keys row as PrincipalLoaders receive it.
type Row struct {
	AccessKeyID   string
	AccountID     string
	PrincipalType string
	PrincipalName string
	Status        string
}

// PrincipalLoader builds the principal (and, for temporary credentials, the
// session token and expiry) of a key whose principal_type it registered for.
type PrincipalLoader func(ctx context.Context, tx *store.Tx, row Row, key *Key) error

// New returns a Store.
func New(db *store.DB, sealer *secrets.Sealer, cfg Config) *Store {
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 2 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Store{db: db, sealer: sealer, cfg: cfg, cache: map[string]cachedKey{}, loaders: map[string]PrincipalLoader{}}
}

// RegisterPrincipalType makes keys of principalType resolvable through fn.
func (s *Store) RegisterPrincipalType(principalType string, fn PrincipalLoader) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loaders[principalType] = fn
}

// Sealer returns the sealer, for packages that store keys of their own
// principal types.
func (s *Store) Sealer() *secrets.Sealer { return s.sealer }

// Account is one account.
type Account struct {
	ID      string
	Alias   string
	Created time.Time
}

// CreateAccount creates an account with a fresh root key pair and returns
// the pair.
func (s *Store) CreateAccount(ctx context.Context, id string) (Credentials, error) {
	if !ValidAccountID(id) {
		return Credentials{}, ErrInvalidID
	}
	creds := NewRootCredentials()
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		if err := s.insertAccount(ctx, tx, id); err != nil {
			return err
		}
		return s.insertKey(ctx, tx, id, identity.TypeRoot, "", creds)
	})
	return creds, err
}

func (s *Store) insertAccount(ctx context.Context, tx *store.Tx, id string) error {
	_, err := tx.Exec(ctx, `INSERT INTO accounts (account_id, created_ms) VALUES ($1, $2)`, id, store.Millis(s.cfg.Now()))
	if store.IsUniqueViolation(err) {
		return ErrAccountExists
	}
	return err
}

// InsertKey stores a key for a principal inside tx, sealing the secret.
func (s *Store) InsertKey(ctx context.Context, tx *store.Tx, accountID, principalType, principalName string, c Credentials) error {
	return s.insertKey(ctx, tx, accountID, principalType, principalName, c)
}

func (s *Store) insertKey(ctx context.Context, tx *store.Tx, accountID, principalType, principalName string, c Credentials) error {
	sealed, err := s.sealer.Seal(c.SecretAccessKey, c.AccessKeyID)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO access_keys (access_key_id, account_id, principal_type, principal_name, secret_sealed, status, created_ms)
		VALUES ($1, $2, $3, $4, $5, 'Active', $6)`, c.AccessKeyID, accountID, principalType, principalName, sealed, store.Millis(s.cfg.Now()))
	if store.IsUniqueViolation(err) {
		return ErrKeyOwnedByOther
	}
	return err
}

// Accounts lists all accounts.
func (s *Store) Accounts(ctx context.Context) ([]Account, error) {
	var out []Account
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT account_id, alias, created_ms FROM accounts ORDER BY account_id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a Account
			var ms int64
			if err := rows.Scan(&a.ID, &a.Alias, &ms); err != nil {
				return err
			}
			a.Created = store.FromMillis(ms)
			out = append(out, a)
		}
		return rows.Err()
	})
	return out, err
}

// AccountExists reports whether id exists.
func (s *Store) AccountExists(ctx context.Context, tx *store.Tx, id string) (bool, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM accounts WHERE account_id = $1`, id).Scan(&n)
	return n > 0, err
}

// RootCredentials returns the active root key pairs of an account.
func (s *Store) RootCredentials(ctx context.Context, accountID string) ([]Credentials, error) {
	var out []Credentials
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		ok, err := s.AccountExists(ctx, tx, accountID)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNoAccount
		}
		rows, err := tx.Query(ctx, `SELECT access_key_id, secret_sealed FROM access_keys
			WHERE account_id = $1 AND principal_type = $2 AND status = 'Active' ORDER BY created_ms, access_key_id`, accountID, identity.TypeRoot)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, sealed string
			if err := rows.Scan(&id, &sealed); err != nil {
				return err
			}
			secret, err := s.sealer.Open(sealed, id)
			if err != nil {
				return fmt.Errorf("key %s: %w", id, err)
			}
			out = append(out, Credentials{AccessKeyID: id, SecretAccessKey: secret})
		}
		return rows.Err()
	})
	return out, err
}

// RotateRoot replaces every root key of the account with one new pair and
// returns it. The old keys stop working at once on this node and within
// CacheTTL on others.
func (s *Store) RotateRoot(ctx context.Context, accountID string) (Credentials, error) {
	creds := NewRootCredentials()
	var old []string
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		ok, err := s.AccountExists(ctx, tx, accountID)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNoAccount
		}
		rows, err := tx.Query(ctx, `SELECT access_key_id FROM access_keys WHERE account_id = $1 AND principal_type = $2`, accountID, identity.TypeRoot)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			old = append(old, id)
		}
		rows.Close()
		if _, err := tx.Exec(ctx, `DELETE FROM access_keys WHERE account_id = $1 AND principal_type = $2`, accountID, identity.TypeRoot); err != nil {
			return err
		}
		tx.AfterCommit(func() { s.Forget(old...) })
		return s.insertKey(ctx, tx, accountID, identity.TypeRoot, "", creds)
	})
	return creds, err
}

// Bootstrap describes the default account wanted on start.
type Bootstrap struct {
	AccountID       string // default DefaultAccountID
	AccessKeyID     string // optional fixed root key
	SecretAccessKey string
}

// EnsureDefault creates the default account when the database has no
// account yet, and makes sure a configured root key pair exists for it. It
// returns the generated credentials when it generated some (to be shown
// once), else nil.
func (s *Store) EnsureDefault(ctx context.Context, b Bootstrap) (*Credentials, error) {
	if b.AccountID == "" {
		b.AccountID = DefaultAccountID
	}
	if !ValidAccountID(b.AccountID) {
		return nil, ErrInvalidID
	}
	fixed := b.AccessKeyID != "" || b.SecretAccessKey != ""
	if fixed && !validKeyPair(b.AccessKeyID, b.SecretAccessKey) {
		return nil, ErrInvalidKeyPair
	}
	var generated *Credentials
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		exists, err := s.AccountExists(ctx, tx, b.AccountID)
		if err != nil {
			return err
		}
		if !exists {
			if err := s.insertAccount(ctx, tx, b.AccountID); err != nil {
				return err
			}
		}
		if fixed {
			return s.upsertRootKey(ctx, tx, b.AccountID, Credentials{AccessKeyID: b.AccessKeyID, SecretAccessKey: b.SecretAccessKey})
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM access_keys WHERE account_id = $1 AND principal_type = $2`, b.AccountID, identity.TypeRoot).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			c := NewRootCredentials()
			generated = &c
			return s.insertKey(ctx, tx, b.AccountID, identity.TypeRoot, "", c)
		}
		return nil
	})
	return generated, err
}

// upsertRootKey makes the given pair a root key of the account, replacing
// the secret if the key already belongs to that root user.
func (s *Store) upsertRootKey(ctx context.Context, tx *store.Tx, accountID string, c Credentials) error {
	var acct, ptype string
	err := tx.QueryRow(ctx, `SELECT account_id, principal_type FROM access_keys WHERE access_key_id = $1`, c.AccessKeyID).Scan(&acct, &ptype)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return s.insertKey(ctx, tx, accountID, identity.TypeRoot, "", c)
	case err != nil:
		return err
	case acct != accountID || ptype != identity.TypeRoot:
		return ErrKeyOwnedByOther
	}
	sealed, err := s.sealer.Seal(c.SecretAccessKey, c.AccessKeyID)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE access_keys SET secret_sealed = $1, status = 'Active' WHERE access_key_id = $2`, sealed, c.AccessKeyID)
	tx.AfterCommit(func() { s.Forget(c.AccessKeyID) })
	return err
}

// ErrUnknownKey is returned by Lookup for a key that does not exist.
var ErrUnknownKey = errors.New("accounts: unknown access key")

// Lookup resolves an access key ID to its secret and principal. Results are
// cached for CacheTTL. It returns ErrUnknownKey for keys that don't exist;
// the caller checks Status, SessionToken and Expiration.
func (s *Store) Lookup(ctx context.Context, accessKeyID string) (*Key, error) {
	now := s.cfg.Now()
	if s.cfg.CacheTTL > 0 {
		s.mu.RLock()
		c, ok := s.cache[accessKeyID]
		s.mu.RUnlock()
		if ok && now.Before(c.expires) {
			return c.key, nil
		}
	}
	var key *Key
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var row Row
		var sealed string
		err := tx.QueryRow(ctx, `SELECT access_key_id, account_id, principal_type, principal_name, secret_sealed, status
			FROM access_keys WHERE access_key_id = $1`, accessKeyID).Scan(&row.AccessKeyID, &row.AccountID, &row.PrincipalType, &row.PrincipalName, &sealed, &row.Status)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrUnknownKey
		}
		if err != nil {
			return err
		}
		secret, err := s.sealer.Open(sealed, row.AccessKeyID)
		if err != nil {
			return err
		}
		key = &Key{AccessKeyID: row.AccessKeyID, Secret: secret, Status: row.Status}
		if row.PrincipalType == identity.TypeRoot {
			key.Principal = identity.Root(row.AccountID, row.AccessKeyID)
			return nil
		}
		s.mu.RLock()
		load := s.loaders[row.PrincipalType]
		s.mu.RUnlock()
		if load == nil {
			return fmt.Errorf("accounts: no loader for principal type %q", row.PrincipalType)
		}
		return load(ctx, tx, row, key)
	})
	if err != nil {
		return nil, err
	}
	if s.cfg.CacheTTL > 0 {
		s.mu.Lock()
		if len(s.cache) > 100_000 { // bound memory under key floods
			s.cache = map[string]cachedKey{}
		}
		s.cache[accessKeyID] = cachedKey{key: key, expires: now.Add(s.cfg.CacheTTL)}
		s.mu.Unlock()
	}
	return key, nil
}

// Forget drops keys from the lookup cache (after they change).
func (s *Store) Forget(accessKeyIDs ...string) {
	s.mu.Lock()
	for _, id := range accessKeyIDs {
		delete(s.cache, id)
	}
	s.mu.Unlock()
}

// Credentials is an access key pair.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
}

const keyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// NewKeyID returns a new access key ID with the given 4-letter prefix
// ("AKIA" for long-term keys, "ASIA" for temporary ones), 20 characters in
// all as AWS forms them.
func NewKeyID(prefix string) string { return prefix + randomString(keyAlphabet, 20-len(prefix)) }

// NewSecret returns a new 40-character secret access key.
func NewSecret() string {
	return randomString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40)
}

// NewRootCredentials returns a fresh long-term key pair.
func NewRootCredentials() Credentials {
	return Credentials{AccessKeyID: NewKeyID("AKIA"), SecretAccessKey: NewSecret()}
}

// RandomID returns n characters from alphabet, using crypto/rand.
func RandomID(alphabet string, n int) string { return randomString(alphabet, n) }

func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	for i := range b {
		b[i] = alphabet[int(buf[i])%len(alphabet)]
	}
	return string(b)
}

var keyIDRe = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)

func validKeyPair(id, secret string) bool {
	return keyIDRe.MatchString(id) && len(secret) >= 16 && len(secret) <= 128
}
