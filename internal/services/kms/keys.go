package kms

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/policy"
	"lextrail/internal/protocol"
	"lextrail/internal/store"
)

// Tag is a key tag.
type Tag struct {
	TagKey   string `json:"TagKey"`
	TagValue string `json:"TagValue"`
}

// KeyMetadata is DescribeKey's (and CreateKey's) description of a key.
type KeyMetadata struct {
	AWSAccountId          string         `json:"AWSAccountId"`
	KeyId                 string         `json:"KeyId"`
	Arn                   string         `json:"Arn"`
	CreationDate          protocol.Time  `json:"CreationDate"`
	Enabled               bool           `json:"Enabled"`
	Description           string         `json:"Description"`
	KeyUsage              string         `json:"KeyUsage"`
	KeyState              string         `json:"KeyState"`
	DeletionDate          *protocol.Time `json:"DeletionDate,omitempty"`
	Origin                string         `json:"Origin"`
	KeyManager            string         `json:"KeyManager"`
	CustomerMasterKeySpec string         `json:"CustomerMasterKeySpec"`
	KeySpec               string         `json:"KeySpec"`
	EncryptionAlgorithms  []string       `json:"EncryptionAlgorithms"`
	MultiRegion           bool           `json:"MultiRegion"`
}

func (k *key) metadata() *KeyMetadata {
	m := &KeyMetadata{
		AWSAccountId: k.Account, KeyId: k.ID, Arn: k.ARN(), CreationDate: protocol.NewTime(store.FromMillis(k.CreatedMS)),
		Enabled: k.State == StateEnabled, Description: k.Description, KeyUsage: k.Usage, KeyState: k.State,
		Origin: "AWS_KMS", KeyManager: k.Manager, CustomerMasterKeySpec: k.Spec, KeySpec: k.Spec,
		EncryptionAlgorithms: []string{AlgSymmetricDefault},
	}
	if k.State == StatePendingDeletion {
		m.DeletionDate = protocol.TimePtr(store.FromMillis(k.DeletionMS))
	}
	return m
}

// Enumerations.
const (
	AlgSymmetricDefault = "SYMMETRIC_DEFAULT"
	UsageEncryptDecrypt = "ENCRYPT_DECRYPT"
	SpecSymmetric       = "SYMMETRIC_DEFAULT"
)

var (
	keyUsages = []string{"SIGN_VERIFY", "ENCRYPT_DECRYPT", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"}
	keySpecs  = []string{"RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1",
		"SYMMETRIC_DEFAULT", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512", "SM2", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87"}
	origins    = []string{"AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"}
	algorithms = []string{"SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE"}
)

func enumErr(v, member string, set []string) *awserr.Error {
	return errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
		v, member, strings.Join(set, ", "))
}

func inSet(v string, set []string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

// Limits.
const (
	MaxDescription = 8192
	MaxPolicy      = 32768
	MaxTags        = 50
)

// DefaultKeyPolicy is the key policy AWS gives a key created without one:
// the account (its root, and through it the account's IAM policies) may
// do everything with the key.
func DefaultKeyPolicy(account string) string {
	return `{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::` + account + `:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}`
}

func validatePolicy(doc string) error {
	if len(doc) > MaxPolicy {
		return errValidation("1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to %d", MaxPolicy)
	}
	if strings.TrimSpace(doc) == "" {
		return errValidation("1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if _, err := policy.Parse(doc, policy.Resource); err != nil {
		return awserr.New(http.StatusBadRequest, "MalformedPolicyDocumentException", "%s", err.Error())
	}
	return nil
}

func validateTags(tags []Tag) error {
	if len(tags) > MaxTags {
		return awserr.New(http.StatusBadRequest, "TagException", "Too many tags: at most %d are allowed.", MaxTags)
	}
	seen := map[string]bool{}
	for _, t := range tags {
		switch {
		case t.TagKey == "" || len(t.TagKey) > 128:
			return awserr.New(http.StatusBadRequest, "TagException", "Tag keys must be 1 to 128 characters.")
		case len(t.TagValue) > 256:
			return awserr.New(http.StatusBadRequest, "TagException", "Tag values must be at most 256 characters.")
		case strings.HasPrefix(strings.ToLower(t.TagKey), "aws:"):
			return awserr.New(http.StatusBadRequest, "TagException", "Tags beginning with aws: are reserved.")
		case seen[t.TagKey]:
			return awserr.New(http.StatusBadRequest, "TagException", "Duplicate tag key %s.", t.TagKey)
		}
		seen[t.TagKey] = true
	}
	return nil
}

// CreateKeyInput is CreateKey's input.
type CreateKeyInput struct {
	Policy                         *string
	Description                    *string
	KeyUsage                       *string
	CustomerMasterKeySpec          *string
	KeySpec                        *string
	Origin                         *string
	CustomKeyStoreId               *string
	BypassPolicyLockoutSafetyCheck *bool
	Tags                           []Tag
	MultiRegion                    *bool
	XksKeyId                       *string
}

// KeyMetadataOutput is CreateKey's and DescribeKey's result.
type KeyMetadataOutput struct {
	KeyMetadata *KeyMetadata `json:"KeyMetadata"`
}

func (s *Service) createKey(ctx context.Context, c *catalog.Call, in *CreateKeyInput) (*KeyMetadataOutput, error) {
	usage := UsageEncryptDecrypt
	if in.KeyUsage != nil {
		if !inSet(*in.KeyUsage, keyUsages) {
			return nil, enumErr(*in.KeyUsage, "keyUsage", keyUsages)
		}
		usage = *in.KeyUsage
	}
	spec := SpecSymmetric
	for _, p := range []struct {
		v      *string
		member string
	}{{in.KeySpec, "keySpec"}, {in.CustomerMasterKeySpec, "customerMasterKeySpec"}} {
		if p.v == nil {
			continue
		}
		if !inSet(*p.v, keySpecs) {
			return nil, enumErr(*p.v, p.member, keySpecs)
		}
		spec = *p.v
	}
	if in.KeySpec != nil && in.CustomerMasterKeySpec != nil && *in.KeySpec != *in.CustomerMasterKeySpec {
		return nil, errValidation("You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec parameter is deprecated. Use KeySpec parameter.")
	}
	if in.Origin != nil && !inSet(*in.Origin, origins) {
		return nil, enumErr(*in.Origin, "origin", origins)
	}
	switch {
	case usage != UsageEncryptDecrypt:
		return nil, errUnsupported("lextrail KMS supports only ENCRYPT_DECRYPT keys, not %s.", usage)
	case spec != SpecSymmetric:
		return nil, errUnsupported("lextrail KMS supports only SYMMETRIC_DEFAULT keys, not %s.", spec)
	case in.Origin != nil && *in.Origin != "AWS_KMS":
		return nil, errUnsupported("lextrail KMS supports only keys of origin AWS_KMS, not %s.", *in.Origin)
	case in.MultiRegion != nil && *in.MultiRegion:
		return nil, errUnsupported("lextrail KMS does not support multi-Region keys.")
	case in.CustomKeyStoreId != nil || in.XksKeyId != nil:
		return nil, errUnsupported("lextrail KMS does not support custom key stores.")
	}
	desc := ""
	if in.Description != nil {
		if len(*in.Description) > MaxDescription {
			return nil, errValidation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to %d", MaxDescription)
		}
		desc = *in.Description
	}
	pol := DefaultKeyPolicy(c.AccountID())
	if in.Policy != nil {
		if err := validatePolicy(*in.Policy); err != nil {
			return nil, err
		}
		pol = *in.Policy
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	k, err := s.newKey(c.AccountID(), c.Region, desc, ManagerCustomer, pol, in.Tags, c.Now)
	if err != nil {
		return nil, err
	}
	if err := insertKey(ctx, c.Tx, k); err != nil {
		return nil, err
	}
	c.Audit.Resources = []catalog.Resource{k.resource()}
	return &KeyMetadataOutput{KeyMetadata: k.metadata()}, nil
}

// newKey makes a key with fresh material, sealed and bound to its ARN.
func (s *Service) newKey(account, region, desc, manager, pol string, tags []Tag, now time.Time) (*key, error) {
	k := &key{ID: uuid.NewString(), Account: account, Region: region, Description: desc, Usage: UsageEncryptDecrypt,
		Spec: SpecSymmetric, Manager: manager, State: StateEnabled, Policy: pol, CreatedMS: store.Millis(now), Tags: tags}
	material := make([]byte, 32)
	if _, err := rand.Read(material); err != nil {
		return nil, err
	}
	sealed, err := s.cfg.Sealer.Seal(string(material), k.ARN())
	if err != nil {
		return nil, err
	}
	k.Material = sealed
	return k, nil
}

// KeyIDInput names a key.
type KeyIDInput struct {
	KeyId       string
	GrantTokens []string
}

// callKey resolves a KeyId for an API call: in the caller's account and
// the request's region, and only in the caller's account when
// crossAccount is false; then authorizes action on it.
func (s *Service) callKey(ctx context.Context, c *catalog.Call, keyID, action string, crossAccount bool, extra map[string][]string) (*key, error) {
	r, err := parseRef(keyID, c.AccountID(), c.Region)
	if err != nil {
		return nil, err
	}
	if !crossAccount {
		if err := own(c, r); err != nil {
			return nil, err
		}
	}
	if r.region != c.Region {
		return nil, errNotFound("Invalid arn %s: the key is in region %s, the request in %s", keyID, r.region, c.Region)
	}
	var k *key
	if err := s.read(ctx, c.Tx, func(tx *store.Tx) error {
		var err error
		k, err = s.resolve(ctx, tx, r)
		return err
	}); err != nil {
		return nil, err
	}
	c.Audit.Resources = []catalog.Resource{k.resource()}
	if err := s.authorizeKey(ctx, c, k, action, extra); err != nil {
		return nil, err
	}
	return k, nil
}

func (s *Service) describeKey(ctx context.Context, c *catalog.Call, in *KeyIDInput) (*KeyMetadataOutput, error) {
	k, err := s.callKey(ctx, c, in.KeyId, "kms:DescribeKey", true, nil)
	if err != nil {
		return nil, err
	}
	return &KeyMetadataOutput{KeyMetadata: k.metadata()}, nil
}

// ListInput is ListKeys' input.
type ListInput struct {
	Limit  *int32
	Marker *string
}

// KeyListEntry is a listed key.
type KeyListEntry struct {
	KeyId  string `json:"KeyId"`
	KeyArn string `json:"KeyArn"`
}

// ListKeysOutput is ListKeys' result.
type ListKeysOutput struct {
	Keys       []KeyListEntry `json:"Keys"`
	NextMarker string         `json:"NextMarker,omitempty"`
	Truncated  bool           `json:"Truncated"`
}

// paging validates Limit (1..max, default def) and decodes Marker.
func paging(limit *int32, marker *string, max int) (int, string, error) {
	n := 100
	if limit != nil {
		if *limit < 1 || int(*limit) > max {
			return 0, "", errValidation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and %d", *limit, max)
		}
		n = int(*limit)
	}
	after := ""
	if marker != nil && *marker != "" {
		b, err := base64.RawURLEncoding.DecodeString(*marker)
		if err != nil || len(b) == 0 || len(*marker) > 1024 {
			return 0, "", awserr.New(http.StatusBadRequest, "InvalidMarkerException", "Invalid marker: %s", *marker)
		}
		after = string(b)
	}
	return n, after, nil
}

func encodeMarker(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func (s *Service) listKeys(ctx context.Context, c *catalog.Call, in *ListInput) (*ListKeysOutput, error) {
	n, after, err := paging(in.Limit, in.Marker, 1000)
	if err != nil {
		return nil, err
	}
	rows, err := c.Tx.Query(ctx, `SELECT key_id FROM kms_keys WHERE account_id = $1 AND region = $2 AND key_id > $3
		AND NOT (state = $4 AND deletion_ms <= $5) ORDER BY key_id LIMIT $6`,
		c.AccountID(), c.Region, after, StatePendingDeletion, store.Millis(c.Now), n+1)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := &ListKeysOutput{Keys: []KeyListEntry{}}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		if len(out.Keys) == n {
			out.Truncated = true
			out.NextMarker = encodeMarker(out.Keys[n-1].KeyId)
			break
		}
		out.Keys = append(out.Keys, KeyListEntry{KeyId: id, KeyArn: KeyARN(c.Region, c.AccountID(), id)})
	}
	return out, rows.Err()
}

// manageKey resolves a key of the caller's account for a management
// operation and authorizes it; AWS managed keys cannot be managed.
func (s *Service) manageKey(ctx context.Context, c *catalog.Call, keyID, action string) (*key, error) {
	k, err := s.callKey(ctx, c, keyID, action, false, nil)
	if err != nil {
		return nil, err
	}
	if k.Manager == ManagerAWS {
		return nil, errUnsupported("%s is an AWS managed key: %s is not allowed on it.", k.ARN(), action)
	}
	return k, nil
}

func (s *Service) setState(ctx context.Context, tx *store.Tx, k *key, state string, deletionMS int64) error {
	_, err := tx.Exec(ctx, `UPDATE kms_keys SET state = $1, deletion_ms = $2 WHERE key_id = $3`, state, deletionMS, k.ID)
	return err
}

func (s *Service) enableKey(ctx context.Context, c *catalog.Call, in *KeyIDInput) (*struct{}, error) {
	k, err := s.manageKey(ctx, c, in.KeyId, "kms:EnableKey")
	if err != nil {
		return nil, err
	}
	if k.State == StatePendingDeletion {
		return nil, errInvalidState("%s is pending deletion.", k.ARN())
	}
	return &struct{}{}, s.setState(ctx, c.Tx, k, StateEnabled, 0)
}

func (s *Service) disableKey(ctx context.Context, c *catalog.Call, in *KeyIDInput) (*struct{}, error) {
	k, err := s.manageKey(ctx, c, in.KeyId, "kms:DisableKey")
	if err != nil {
		return nil, err
	}
	if k.State == StatePendingDeletion {
		return nil, errInvalidState("%s is pending deletion.", k.ARN())
	}
	return &struct{}{}, s.setState(ctx, c.Tx, k, StateDisabled, 0)
}

// ScheduleKeyDeletionInput is its input.
type ScheduleKeyDeletionInput struct {
	KeyId               string
	PendingWindowInDays *int32
}

// ScheduleKeyDeletionOutput is its result.
type ScheduleKeyDeletionOutput struct {
	KeyId               string        `json:"KeyId"`
	DeletionDate        protocol.Time `json:"DeletionDate"`
	KeyState            string        `json:"KeyState"`
	PendingWindowInDays int32         `json:"PendingWindowInDays"`
}

func (s *Service) scheduleKeyDeletion(ctx context.Context, c *catalog.Call, in *ScheduleKeyDeletionInput) (*ScheduleKeyDeletionOutput, error) {
	days := int32(30)
	if in.PendingWindowInDays != nil {
		days = *in.PendingWindowInDays
		if days < 7 || days > 30 {
			return nil, errValidation("1 validation error detected: Value '%d' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value between 7 and 30", days)
		}
	}
	k, err := s.manageKey(ctx, c, in.KeyId, "kms:ScheduleKeyDeletion")
	if err != nil {
		return nil, err
	}
	if k.State == StatePendingDeletion {
		return nil, errInvalidState("%s is pending deletion.", k.ARN())
	}
	at := c.Now.Add(time.Duration(days) * 24 * time.Hour)
	if err := s.setState(ctx, c.Tx, k, StatePendingDeletion, store.Millis(at)); err != nil {
		return nil, err
	}
	return &ScheduleKeyDeletionOutput{KeyId: k.ARN(), DeletionDate: protocol.NewTime(store.FromMillis(store.Millis(at))),
		KeyState: StatePendingDeletion, PendingWindowInDays: days}, nil
}

// KeyARNOutput is CancelKeyDeletion's result.
type KeyARNOutput struct {
	KeyId string `json:"KeyId"`
}

func (s *Service) cancelKeyDeletion(ctx context.Context, c *catalog.Call, in *KeyIDInput) (*KeyARNOutput, error) {
	k, err := s.manageKey(ctx, c, in.KeyId, "kms:CancelKeyDeletion")
	if err != nil {
		return nil, err
	}
	if k.State != StatePendingDeletion {
		return nil, errInvalidState("%s is not pending deletion.", k.ARN())
	}
	// A key whose deletion is cancelled is disabled (as in AWS).
	return &KeyARNOutput{KeyId: k.ARN()}, s.setState(ctx, c.Tx, k, StateDisabled, 0)
}

// KeyPolicyInput is GetKeyPolicy's input.
type KeyPolicyInput struct {
	KeyId      string
	PolicyName *string
}

// KeyPolicyOutput is GetKeyPolicy's result.
type KeyPolicyOutput struct {
	Policy     string `json:"Policy"`
	PolicyName string `json:"PolicyName"`
}

func policyName(p *string) (string, error) {
	if p == nil || *p == "default" {
		return "default", nil
	}
	return "", errNotFound("Policy name %s is not found: a key has only the policy named default.", *p)
}

func (s *Service) getKeyPolicy(ctx context.Context, c *catalog.Call, in *KeyPolicyInput) (*KeyPolicyOutput, error) {
	name, err := policyName(in.PolicyName)
	if err != nil {
		return nil, err
	}
	k, err := s.callKey(ctx, c, in.KeyId, "kms:GetKeyPolicy", false, nil)
	if err != nil {
		return nil, err
	}
	return &KeyPolicyOutput{Policy: k.Policy, PolicyName: name}, nil
}

// PutKeyPolicyInput is PutKeyPolicy's input.
type PutKeyPolicyInput struct {
	KeyId                          string
	PolicyName                     *string
	Policy                         string
	BypassPolicyLockoutSafetyCheck *bool
}

func (s *Service) putKeyPolicy(ctx context.Context, c *catalog.Call, in *PutKeyPolicyInput) (*struct{}, error) {
	if _, err := policyName(in.PolicyName); err != nil {
		return nil, err
	}
	if err := validatePolicy(in.Policy); err != nil {
		return nil, err
	}
	k, err := s.manageKey(ctx, c, in.KeyId, "kms:PutKeyPolicy")
	if err != nil {
		return nil, err
	}
	_, err = c.Tx.Exec(ctx, `UPDATE kms_keys SET policy = $1 WHERE key_id = $2`, in.Policy, k.ID)
	if err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

// ListResourceTagsInput is its input.
type ListResourceTagsInput struct {
	KeyId  string
	Limit  *int32
	Marker *string
}

// ListResourceTagsOutput is its result.
type ListResourceTagsOutput struct {
	Tags      []Tag `json:"Tags"`
	Truncated bool  `json:"Truncated"`
}

func (s *Service) listResourceTags(ctx context.Context, c *catalog.Call, in *ListResourceTagsInput) (*ListResourceTagsOutput, error) {
	if _, _, err := paging(in.Limit, nil, 50); err != nil {
		return nil, err
	}
	k, err := s.callKey(ctx, c, in.KeyId, "kms:ListResourceTags", false, nil)
	if err != nil {
		return nil, err
	}
	tags := k.Tags
	if tags == nil {
		tags = []Tag{}
	}
	return &ListResourceTagsOutput{Tags: tags}, nil
}

// ensureManagedKey returns the AWS managed key of alias name ("aws/s3")
// in account and region, creating it (and its alias) on first use.
func (s *Service) ensureManagedKey(ctx context.Context, tx *store.Tx, account, region, name string) (*key, error) {
	r := ref{account: account, region: region, alias: "alias/" + name}
	for attempt := 0; ; attempt++ {
		var k *key
		err := s.read(ctx, tx, func(tx *store.Tx) error {
			var err error
			k, err = s.resolve(ctx, tx, r)
			return err
		})
		if err == nil {
			return k, nil
		}
		if e := awserr.As(err); e.Code != "NotFoundException" || attempt > 0 {
			return nil, err
		}
		pol, desc := managedKeyPolicy(name, account, region)
		nk, err := s.newKey(account, region, desc, ManagerAWS, pol, nil, s.cfg.Now())
		if err != nil {
			return nil, err
		}
		err = s.write(ctx, tx, func(wtx *store.Tx) error {
			if err := insertKey(ctx, wtx, nk); err != nil {
				return err
			}
			now := store.Millis(s.cfg.Now())
			_, err := wtx.Exec(ctx, `INSERT INTO kms_aliases (account_id, region, name, key_id, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $5)`,
				account, region, r.alias, nk.ID, now)
			return err
		})
		if err == nil {
			return nk, nil
		}
		if !store.IsUniqueViolation(err) {
			return nil, err
		}
		// Created concurrently: read it again.
	}
}

// managedKeyPolicy is the key policy and description of an AWS managed
// key: any principal of the account may use it through the service the
// key belongs to; the account may read its metadata directly.
func managedKeyPolicy(name, account, region string) (string, string) {
	svc := strings.TrimPrefix(name, "aws/")
	doc := map[string]any{
		"Version": "2012-10-17",
		"Id":      "auto-" + svc + "-2",
		"Statement": []any{
			map[string]any{
				"Sid":       fmt.Sprintf("Allow access through %s for all principals in the account that are authorized to use %s", strings.ToUpper(svc), strings.ToUpper(svc)),
				"Effect":    "Allow",
				"Principal": map[string]any{"AWS": "*"},
				"Action":    []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"},
				"Resource":  "*",
				"Condition": map[string]any{"StringEquals": map[string]string{
					"kms:CallerAccount": account,
					"kms:ViaService":    svc + "." + region + ".amazonaws.com",
				}},
			},
			map[string]any{
				"Sid":       "Allow direct access to key metadata to the account",
				"Effect":    "Allow",
				"Principal": map[string]any{"AWS": "arn:aws:iam::" + account + ":root"},
				"Action":    []string{"kms:Describe*", "kms:Get*", "kms:List*"},
				"Resource":  "*",
			},
		},
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	desc := "Default key that protects my " + strings.ToUpper(svc) + " objects when no other key is defined"
	return string(b), desc
}
