package kms

import (
	"context"
	"net/http"
	"strings"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/protocol"
	"lextrail/internal/store"
)

// validateAliasName applies KMS's alias rules: the "alias/" prefix, 1 to
// 256 characters of [a-zA-Z0-9/_-], and alias/aws/ reserved for AWS
// managed keys.
func validateAliasName(name string) error {
	switch {
	case name == "":
		return errValidation("1 validation error detected: Value null at 'aliasName' failed to satisfy constraint: Member must not be null")
	case len(name) > 256:
		return errValidation("1 validation error detected: Value '%s' at 'aliasName' failed to satisfy constraint: Member must have length less than or equal to 256", name)
	case !strings.HasPrefix(name, "alias/"):
		return errValidation(`Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html`)
	case !aliasRE.MatchString(name):
		return errValidation("1 validation error detected: Value '%s' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$", name)
	case strings.HasPrefix(name, "alias/aws/"):
		return awserr.New(http.StatusBadRequest, "NotAuthorizedException", "Alias names beginning with alias/aws/ are reserved for AWS managed keys.")
	}
	return nil
}

func aliasResource(c *catalog.Call, name string) catalog.Resource {
	return catalog.Resource{ARN: AliasARN(c.Region, c.AccountID(), name), AccountID: c.AccountID(), Type: "AWS::KMS::Alias"}
}

// AliasInput is CreateAlias' and UpdateAlias' input.
type AliasInput struct {
	AliasName   string
	TargetKeyId string
}

// targetKey resolves a TargetKeyId (key ID or key ARN of the caller's
// account; not an alias) and authorizes action on it.
func (s *Service) targetKey(ctx context.Context, c *catalog.Call, id, action string) (*key, error) {
	if strings.HasPrefix(id, "alias/") || strings.Contains(id, ":alias/") {
		return nil, errValidation("Aliases are not supported for TargetKeyId: use a key ID or key ARN.")
	}
	k, err := s.callKey(ctx, c, id, action, false, nil)
	if err != nil {
		return nil, err
	}
	if k.Manager == ManagerAWS {
		return nil, awserr.New(http.StatusBadRequest, "NotAuthorizedException", "%s is an AWS managed key: aliases cannot point to it.", k.ARN())
	}
	if k.State == StatePendingDeletion {
		return nil, errInvalidState("%s is pending deletion.", k.ARN())
	}
	return k, nil
}

// authorizeAlias checks action on the alias itself (identity policies
// only: aliases have no key policy).
func (s *Service) authorizeAlias(ctx context.Context, c *catalog.Call, name, action string) error {
	return s.cfg.Authorizer.Check(ctx, c, action, []catalog.Resource{aliasResource(c, name)}, nil)
}

func (s *Service) createAlias(ctx context.Context, c *catalog.Call, in *AliasInput) (*struct{}, error) {
	if err := validateAliasName(in.AliasName); err != nil {
		return nil, err
	}
	if err := s.authorizeAlias(ctx, c, in.AliasName, "kms:CreateAlias"); err != nil {
		return nil, err
	}
	k, err := s.targetKey(ctx, c, in.TargetKeyId, "kms:CreateAlias")
	if err != nil {
		return nil, err
	}
	c.Audit.Resources = []catalog.Resource{aliasResource(c, in.AliasName), k.resource()}
	now := store.Millis(c.Now)
	_, err = c.Tx.Exec(ctx, `INSERT INTO kms_aliases (account_id, region, name, key_id, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $5)`,
		c.AccountID(), c.Region, in.AliasName, k.ID, now)
	if store.IsUniqueViolation(err) {
		return nil, awserr.New(http.StatusBadRequest, "AlreadyExistsException", "An alias with the name %s already exists",
			AliasARN(c.Region, c.AccountID(), in.AliasName))
	}
	if err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

// aliasKey returns the key an existing alias of the caller points to.
func (s *Service) aliasKey(ctx context.Context, c *catalog.Call, name string) (*key, error) {
	r := ref{account: c.AccountID(), region: c.Region, alias: name}
	return s.resolve(ctx, c.Tx, r)
}

func (s *Service) updateAlias(ctx context.Context, c *catalog.Call, in *AliasInput) (*struct{}, error) {
	if err := validateAliasName(in.AliasName); err != nil {
		return nil, err
	}
	if err := s.authorizeAlias(ctx, c, in.AliasName, "kms:UpdateAlias"); err != nil {
		return nil, err
	}
	old, err := s.aliasKey(ctx, c, in.AliasName)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeKey(ctx, c, old, "kms:UpdateAlias", nil); err != nil {
		return nil, err
	}
	k, err := s.targetKey(ctx, c, in.TargetKeyId, "kms:UpdateAlias")
	if err != nil {
		return nil, err
	}
	c.Audit.Resources = []catalog.Resource{aliasResource(c, in.AliasName), old.resource(), k.resource()}
	_, err = c.Tx.Exec(ctx, `UPDATE kms_aliases SET key_id = $1, updated_ms = $2 WHERE account_id = $3 AND region = $4 AND name = $5`,
		k.ID, store.Millis(c.Now), c.AccountID(), c.Region, in.AliasName)
	return &struct{}{}, err
}

// DeleteAliasInput is DeleteAlias' input.
type DeleteAliasInput struct {
	AliasName string
}

func (s *Service) deleteAlias(ctx context.Context, c *catalog.Call, in *DeleteAliasInput) (*struct{}, error) {
	if err := validateAliasName(in.AliasName); err != nil {
		return nil, err
	}
	if err := s.authorizeAlias(ctx, c, in.AliasName, "kms:DeleteAlias"); err != nil {
		return nil, err
	}
	k, err := s.aliasKey(ctx, c, in.AliasName)
	if err != nil {
		return nil, err
	}
	c.Audit.Resources = []catalog.Resource{aliasResource(c, in.AliasName), k.resource()}
	if err := s.authorizeKey(ctx, c, k, "kms:DeleteAlias", nil); err != nil {
		return nil, err
	}
	_, err = c.Tx.Exec(ctx, `DELETE FROM kms_aliases WHERE account_id = $1 AND region = $2 AND name = $3`, c.AccountID(), c.Region, in.AliasName)
	return &struct{}{}, err
}

// ListAliasesInput is ListAliases' input.
type ListAliasesInput struct {
	KeyId  *string
	Limit  *int32
	Marker *string
}

// AliasListEntry is a listed alias.
type AliasListEntry struct {
	AliasName       string         `json:"AliasName"`
	AliasArn        string         `json:"AliasArn"`
	TargetKeyId     string         `json:"TargetKeyId"`
	CreationDate    protocol.Time  `json:"CreationDate"`
	LastUpdatedDate *protocol.Time `json:"LastUpdatedDate,omitempty"`
}

// ListAliasesOutput is ListAliases' result.
type ListAliasesOutput struct {
	Aliases    []AliasListEntry `json:"Aliases"`
	NextMarker string           `json:"NextMarker,omitempty"`
	Truncated  bool             `json:"Truncated"`
}

func (s *Service) listAliases(ctx context.Context, c *catalog.Call, in *ListAliasesInput) (*ListAliasesOutput, error) {
	n, after, err := paging(in.Limit, in.Marker, 100)
	if err != nil {
		return nil, err
	}
	keyFilter := ""
	if in.KeyId != nil && *in.KeyId != "" {
		r, err := parseRef(*in.KeyId, c.AccountID(), c.Region)
		if err != nil {
			return nil, err
		}
		if r.alias != "" {
			return nil, errValidation("KeyId must be a key ID or key ARN, not an alias.")
		}
		if err := own(c, r); err != nil {
			return nil, err
		}
		k, err := s.resolve(ctx, c.Tx, r)
		if err != nil {
			return nil, err
		}
		keyFilter = k.ID
	}
	rows, err := c.Tx.Query(ctx, `SELECT a.name, a.key_id, a.created_ms, a.updated_ms FROM kms_aliases a
		JOIN kms_keys k ON k.key_id = a.key_id
		WHERE a.account_id = $1 AND a.region = $2 AND a.name > $3 AND ($4 = '' OR a.key_id = $4)
		AND NOT (k.state = $5 AND k.deletion_ms <= $6)
		ORDER BY a.name LIMIT $7`,
		c.AccountID(), c.Region, after, keyFilter, StatePendingDeletion, store.Millis(c.Now), n+1)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := &ListAliasesOutput{Aliases: []AliasListEntry{}}
	for rows.Next() {
		var e AliasListEntry
		var created, updated int64
		if err := rows.Scan(&e.AliasName, &e.TargetKeyId, &created, &updated); err != nil {
			return nil, err
		}
		if len(out.Aliases) == n {
			out.Truncated = true
			out.NextMarker = encodeMarker(out.Aliases[n-1].AliasName)
			break
		}
		e.AliasArn = AliasARN(c.Region, c.AccountID(), e.AliasName)
		e.CreationDate = protocol.NewTime(store.FromMillis(created))
		e.LastUpdatedDate = protocol.TimePtr(store.FromMillis(updated))
		out.Aliases = append(out.Aliases, e)
	}
	return out, rows.Err()
}
