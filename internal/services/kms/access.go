package kms

import (
	"context"
	"net/http"
	"sort"

	"lextrail/internal/authz"
	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/identity"
	"lextrail/internal/store"
)

// loadedKey carries a key the handler already read to the authorizer's
// ResourcePolicy call back, which then needs no second read.
type loadedKey struct{}

// ResourcePolicy is the authorizer's resource-policy source for "kms"
// actions: the key policy of the key an ARN names, which must allow the
// request even in the key's own account (RequireAllow). A key that does
// not exist has no policy (denied). Alias ARNs have no resource policy:
// the identity side alone decides for them, as in AWS.
func (s *Service) ResourcePolicy(ctx context.Context, c *catalog.Call, r catalog.Resource) (*authz.ResourcePolicy, error) {
	m := arnRE.FindStringSubmatch(r.ARN)
	if m == nil || len(m[3]) < 4 || m[3][:4] != "key/" {
		return nil, nil
	}
	id := m[3][4:]
	if k, ok := ctx.Value(loadedKey{}).(*key); ok && k.ID == id {
		return &authz.ResourcePolicy{Document: k.Policy, Owner: k.Account, RequireAllow: true}, nil
	}
	rp := &authz.ResourcePolicy{Owner: m[2], RequireAllow: true}
	var tx *store.Tx
	if c != nil {
		tx = c.Tx
	}
	err := s.read(ctx, tx, func(tx *store.Tx) error {
		k, err := s.loadKey(ctx, tx, id)
		if err != nil || k == nil {
			return err
		}
		if k.Account == m[2] && k.Region == m[1] {
			rp.Document = k.Policy
		}
		return nil
	})
	return rp, err
}

// authorizeKey asks the authorizer whether the call's principal may
// perform action with key k, given extra condition keys. The key policy
// comes from k (via ResourcePolicy).
func (s *Service) authorizeKey(ctx context.Context, c *catalog.Call, k *key, action string, extra map[string][]string) error {
	keys := map[string][]string{}
	if c.Principal != nil && c.Principal.Type != identity.TypeAWSService {
		keys["kms:calleraccount"] = []string{c.Principal.AccountID}
	}
	for name, v := range extra {
		keys[name] = v
	}
	return s.cfg.Authorizer.Check(context.WithValue(ctx, loadedKey{}, k), c, action, []catalog.Resource{k.resource()}, keys)
}

// contextKeys are the kms:EncryptionContext condition keys of a context.
func contextKeys(ectx map[string]string) map[string][]string {
	m := make(map[string][]string, len(ectx)+1)
	names := make([]string, 0, len(ectx))
	for k, v := range ectx {
		m["kms:encryptioncontext:"+k] = []string{v}
		names = append(names, k)
	}
	if len(names) > 0 {
		sort.Strings(names)
		m["kms:encryptioncontextkeys"] = names
	}
	return m
}

// MaxEncryptionContext bounds the encryption context (keys and values
// together, in bytes).
const MaxEncryptionContext = 8192

func validateContext(ectx map[string]string) error {
	n := 0
	for k, v := range ectx {
		if k == "" {
			return errValidation("Encryption context keys must not be empty.")
		}
		n += len(k) + len(v)
	}
	if n > MaxEncryptionContext {
		return errValidation("Encryption context must be at most %d bytes.", MaxEncryptionContext)
	}
	return nil
}

// own refuses a key identifier of another account for operations KMS
// does not allow across accounts (they see only the caller's keys).
func own(c *catalog.Call, r ref) error {
	if r.account != c.Principal.AccountID {
		if r.alias != "" {
			return errNotFound("Alias %s is not found.", AliasARN(r.region, r.account, r.alias))
		}
		return errNotFound("Key '%s' does not exist", KeyARN(r.region, r.account, r.keyID))
	}
	return nil
}

func errDryRun() *awserr.Error {
	return awserr.New(http.StatusPreconditionFailed, "DryRunOperationException", "The request would have succeeded, but the DryRun option is set.")
}
