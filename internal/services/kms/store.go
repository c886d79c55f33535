package kms

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"lextrail/internal/catalog"
	"lextrail/internal/store"
)

// Key states.
const (
	StateEnabled         = "Enabled"
	StateDisabled        = "Disabled"
	StatePendingDeletion = "PendingDeletion"
)

// Key managers.
const (
	ManagerCustomer = "CUSTOMER"
	ManagerAWS      = "AWS"
)

// key is a row of kms_keys.
type key struct {
	ID, Account, Region string
	Description         string
	Usage, Spec         string
	Manager, State      string
	Policy              string
	Material            string // sealed
	CreatedMS           int64
	DeletionMS          int64 // PendingDeletion only
	Tags                []Tag
}

// ARN is the key's ARN.
func (k *key) ARN() string { return KeyARN(k.Region, k.Account, k.ID) }

func (k *key) resource() catalog.Resource {
	return catalog.Resource{ARN: k.ARN(), AccountID: k.Account, Type: "AWS::KMS::Key"}
}

// KeyARN is the ARN of key id in account and region.
func KeyARN(region, account, id string) string {
	return "arn:aws:kms:" + region + ":" + account + ":key/" + id
}

// AliasARN is the ARN of an alias ("alias/x") in account and region.
func AliasARN(region, account, name string) string {
	return "arn:aws:kms:" + region + ":" + account + ":" + name
}

const keyColumns = `key_id, account_id, region, description, key_usage, key_spec, manager, state, policy, material, created_ms, deletion_ms, tags`

type querier interface {
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

func scanKey(row *sql.Row) (*key, error) {
	var k key
	var tags string
	if err := row.Scan(&k.ID, &k.Account, &k.Region, &k.Description, &k.Usage, &k.Spec, &k.Manager, &k.State,
		&k.Policy, &k.Material, &k.CreatedMS, &k.DeletionMS, &tags); err != nil {
		return nil, err
	}
	if tags != "" {
		if err := json.Unmarshal([]byte(tags), &k.Tags); err != nil {
			return nil, fmt.Errorf("kms: corrupt tags of key %s: %w", k.ID, err)
		}
	}
	return &k, nil
}

// deleted reports whether a key scheduled for deletion has reached its
// deletion date (it is then gone, whether or not the purge ran).
func (k *key) deleted(now time.Time) bool {
	return k.State == StatePendingDeletion && k.DeletionMS > 0 && now.UnixMilli() >= k.DeletionMS
}

// loadKey reads a key by ID; nil, nil when it does not exist (or is
// deleted).
func (s *Service) loadKey(ctx context.Context, q querier, id string) (*key, error) {
	k, err := scanKey(q.QueryRow(ctx, `SELECT `+keyColumns+` FROM kms_keys WHERE key_id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if k.deleted(s.cfg.Now()) {
		return nil, nil
	}
	return k, nil
}

var (
	uuidRE  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	aliasRE = regexp.MustCompile(`^alias/[a-zA-Z0-9/_-]+$`)
	arnRE   = regexp.MustCompile(`^arn:aws:kms:([a-z0-9-]+):(\d{12}):(key/.+|alias/.+)$`)
)

// ref is a parsed key identifier: a key ID or an alias name, in an
// account and region.
type ref struct {
	account, region string
	keyID           string // set for key IDs and key ARNs
	alias           string // "alias/x", set for alias names and alias ARNs
	input           string
}

// parseRef parses a KeyId as KMS accepts it: a key ID, a key ARN, an alias
// name or an alias ARN. IDs and alias names are in account and region.
func parseRef(id, account, region string) (ref, error) {
	r := ref{account: account, region: region, input: id}
	switch {
	case id == "":
		return r, errValidation("1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null")
	case len(id) > 2048:
		return r, errValidation("1 validation error detected: Value at 'keyId' failed to satisfy constraint: Member must have length less than or equal to 2048")
	case uuidRE.MatchString(id):
		r.keyID = id
	case strings.HasPrefix(id, "alias/"):
		if !aliasRE.MatchString(id) || len(id) > 256 {
			return r, errNotFound("Invalid keyId '%s'", id)
		}
		r.alias = id
	case strings.HasPrefix(id, "arn:"):
		m := arnRE.FindStringSubmatch(id)
		if m == nil {
			return r, errNotFound("Invalid arn %s", id)
		}
		r.region, r.account = m[1], m[2]
		if rest, ok := strings.CutPrefix(m[3], "key/"); ok {
			if !uuidRE.MatchString(rest) {
				return r, errNotFound("Invalid arn %s", id)
			}
			r.keyID = rest
		} else {
			if !aliasRE.MatchString(m[3]) || len(m[3]) > 256 {
				return r, errNotFound("Invalid arn %s", id)
			}
			r.alias = m[3]
		}
	default:
		return r, errNotFound("Invalid keyId '%s'", id)
	}
	return r, nil
}

// resolve finds the key a ref names, or NotFoundException.
func (s *Service) resolve(ctx context.Context, q querier, r ref) (*key, error) {
	id := r.keyID
	if r.alias != "" {
		err := q.QueryRow(ctx, `SELECT key_id FROM kms_aliases WHERE account_id = $1 AND region = $2 AND name = $3`,
			r.account, r.region, r.alias).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound("Alias %s is not found.", AliasARN(r.region, r.account, r.alias))
		}
		if err != nil {
			return nil, err
		}
	}
	k, err := s.loadKey(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if k == nil || k.Account != r.account || k.Region != r.region {
		if r.alias != "" {
			return nil, errNotFound("Alias %s is not found.", AliasARN(r.region, r.account, r.alias))
		}
		return nil, errNotFound("Key '%s' does not exist", KeyARN(r.region, r.account, id))
	}
	return k, nil
}

// usable checks the key state for cryptographic use.
func usable(k *key) error {
	switch k.State {
	case StateEnabled:
		return nil
	case StateDisabled:
		return errDisabled(k.ARN())
	case StatePendingDeletion:
		return errInvalidState("%s is pending deletion.", k.ARN())
	}
	return errInvalidState("%s is in state %s.", k.ARN(), k.State)
}

// aead returns the key's unsealed material as an AEAD (cached: material
// never changes).
func (s *Service) aead(k *key) (cipher.AEAD, error) {
	s.mu.RLock()
	a := s.aeads[k.ID]
	s.mu.RUnlock()
	if a != nil {
		return a, nil
	}
	raw, err := s.cfg.Sealer.Open(k.Material, k.ARN())
	if err != nil {
		return nil, fmt.Errorf("kms: key %s: %w", k.ID, err)
	}
	b, err := aes.NewCipher([]byte(raw))
	if err != nil {
		return nil, err
	}
	a, err = cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.aeads) > 100_000 {
		clear(s.aeads)
	}
	s.aeads[k.ID] = a
	s.mu.Unlock()
	return a, nil
}

func marshalTags(tags []Tag) string {
	if len(tags) == 0 {
		return ""
	}
	b, _ := json.Marshal(tags)
	return string(b)
}

// insertKey stores a new key.
func insertKey(ctx context.Context, tx *store.Tx, k *key) error {
	_, err := tx.Exec(ctx, `INSERT INTO kms_keys (`+keyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		k.ID, k.Account, k.Region, k.Description, k.Usage, k.Spec, k.Manager, k.State, k.Policy, k.Material, k.CreatedMS, k.DeletionMS, marshalTags(k.Tags))
	return err
}
