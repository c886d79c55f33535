package iam

import (
	"context"
	"strings"

	"lextrail/internal/catalog"
	"lextrail/internal/policy"
	"lextrail/internal/store"
)

// InlinePolicies returns the identity policy documents of a user (kind
// KindUser) or role (KindRole): its inline policies in name order and, for
// a service-linked role, the permissions policy its service gives it
// (ServiceLinkedPolicy); none when it does not exist. The authorizer calls
// it (and caches the compiled result).
func (s *Service) InlinePolicies(ctx context.Context, accountID, kind, name string) ([]string, error) {
	var docs []string
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		if kind == KindRole {
			var svc string
			err := tx.QueryRow(ctx, `SELECT service_linked FROM iam_roles WHERE account_id = $1 AND name_key = $2`, accountID, strings.ToLower(name)).Scan(&svc)
			if err != nil && !isNoRows(err) {
				return err
			}
			if doc := ServiceLinkedPolicy(svc); doc != "" {
				docs = append(docs, doc)
			}
		}
		rows, err := tx.Query(ctx, `SELECT document FROM iam_inline_policies WHERE account_id = $1 AND owner_kind = $2 AND owner_key = $3 ORDER BY policy_key`,
			accountID, kind, strings.ToLower(name))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d string
			if err := rows.Scan(&d); err != nil {
				return err
			}
			docs = append(docs, d)
		}
		return rows.Err()
	})
	return docs, err
}

// owner is the user or role an inline-policy operation works on.
type owner struct {
	kind    string
	account string
	name    string // as stored
	limit   int    // aggregate inline size quota
}

func (s *Service) policyOwner(ctx context.Context, c *catalog.Call, kind, name string) (*owner, error) {
	if kind == KindUser {
		if err := checkName("userName", name, 128); err != nil {
			return nil, err
		}
		u, err := loadUser(ctx, c.Tx, c.AccountID(), name)
		if err != nil {
			return nil, err
		}
		return &owner{kind: kind, account: u.account, name: u.name, limit: policy.MaxUserInlineSize}, nil
	}
	if err := checkName("roleName", name, 64); err != nil {
		return nil, err
	}
	r, _, err := loadRole(ctx, c.Tx, c.AccountID(), name)
	if err != nil {
		return nil, err
	}
	if r.ServiceLinked != "" && c.Op.Name != "GetRolePolicy" && c.Op.Name != "ListRolePolicies" {
		return nil, awsUnmodifiable(r.Name)
	}
	return &owner{kind: kind, account: r.AccountID, name: r.Name, limit: policy.MaxRoleInlineSize}, nil
}

func (o *owner) notFound(policyName string) error {
	return noSuchEntity("The %s policy with name %s cannot be found.", o.kind, policyName)
}

func (s *Service) putPolicy(ctx context.Context, c *catalog.Call, kind, ownerName, policyName, document string) error {
	o, err := s.policyOwner(ctx, c, kind, ownerName)
	if err != nil {
		return err
	}
	if err := checkName("policyName", policyName, 128); err != nil {
		return err
	}
	doc := DecodeDocument(document)
	if doc == "" {
		return validation("1 validation error detected: Value null at 'policyDocument' failed to satisfy constraint: Member must not be null")
	}
	if _, err := policy.Parse(doc, policy.Identity); err != nil {
		return malformedPolicy(err.Error())
	}
	// The quota covers all of the owner's inline policies together.
	total := policy.NonWhitespaceLen(doc)
	rows, err := c.Tx.Query(ctx, `SELECT policy_key, document FROM iam_inline_policies WHERE account_id = $1 AND owner_kind = $2 AND owner_key = $3`,
		o.account, o.kind, strings.ToLower(o.name))
	if err != nil {
		return err
	}
	for rows.Next() {
		var key, d string
		if err := rows.Scan(&key, &d); err != nil {
			rows.Close()
			return err
		}
		if key != strings.ToLower(policyName) {
			total += policy.NonWhitespaceLen(d)
		}
	}
	rows.Close()
	if total > o.limit {
		return limitExceeded("Maximum policy size of %d bytes exceeded for %s %s", o.limit, o.kind, o.name)
	}
	if _, err := c.Tx.Exec(ctx, `INSERT INTO iam_inline_policies (account_id, owner_kind, owner_key, policy_key, policy_name, document)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (account_id, owner_kind, owner_key, policy_key) DO UPDATE SET policy_name = excluded.policy_name, document = excluded.document`,
		o.account, o.kind, strings.ToLower(o.name), strings.ToLower(policyName), policyName, doc); err != nil {
		return err
	}
	c.Tx.AfterCommit(func() { s.cfg.Changed(o.account, o.kind, o.name) })
	return nil
}

func (s *Service) getPolicy(ctx context.Context, c *catalog.Call, kind, ownerName, policyName string) (*owner, string, string, error) {
	o, err := s.policyOwner(ctx, c, kind, ownerName)
	if err != nil {
		return nil, "", "", err
	}
	if err := checkName("policyName", policyName, 128); err != nil {
		return nil, "", "", err
	}
	var name, doc string
	err = c.Tx.QueryRow(ctx, `SELECT policy_name, document FROM iam_inline_policies WHERE account_id = $1 AND owner_kind = $2 AND owner_key = $3 AND policy_key = $4`,
		o.account, o.kind, strings.ToLower(o.name), strings.ToLower(policyName)).Scan(&name, &doc)
	if isNoRows(err) {
		return nil, "", "", o.notFound(policyName)
	}
	return o, name, doc, err
}

func (s *Service) deletePolicy(ctx context.Context, c *catalog.Call, kind, ownerName, policyName string) error {
	o, err := s.policyOwner(ctx, c, kind, ownerName)
	if err != nil {
		return err
	}
	if err := checkName("policyName", policyName, 128); err != nil {
		return err
	}
	res, err := c.Tx.Exec(ctx, `DELETE FROM iam_inline_policies WHERE account_id = $1 AND owner_kind = $2 AND owner_key = $3 AND policy_key = $4`,
		o.account, o.kind, strings.ToLower(o.name), strings.ToLower(policyName))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return o.notFound(policyName)
	}
	c.Tx.AfterCommit(func() { s.cfg.Changed(o.account, o.kind, o.name) })
	return nil
}

// listPolicies returns a page of policy names.
func (s *Service) listPolicies(ctx context.Context, c *catalog.Call, kind, ownerName string, markerIn *string, maxItems *int32) ([]string, bool, string, error) {
	after, limit, err := page(markerIn, maxItems)
	if err != nil {
		return nil, false, "", err
	}
	o, err := s.policyOwner(ctx, c, kind, ownerName)
	if err != nil {
		return nil, false, "", err
	}
	rows, err := c.Tx.Query(ctx, `SELECT policy_key, policy_name FROM iam_inline_policies
		WHERE account_id = $1 AND owner_kind = $2 AND owner_key = $3 AND policy_key > $4 ORDER BY policy_key`,
		o.account, o.kind, strings.ToLower(o.name), after)
	if err != nil {
		return nil, false, "", err
	}
	defer rows.Close()
	names := []string{}
	var last string
	for rows.Next() {
		var key, name string
		if err := rows.Scan(&key, &name); err != nil {
			return nil, false, "", err
		}
		if len(names) == limit {
			return names, true, marker(last), nil
		}
		names = append(names, name)
		last = key
	}
	return names, false, "", rows.Err()
}

// PutUserPolicyInput is PutUserPolicy's input.
type PutUserPolicyInput struct {
	UserName       string
	PolicyName     string
	PolicyDocument string
}

func (s *Service) putUserPolicy(ctx context.Context, c *catalog.Call, in *PutUserPolicyInput) (*struct{}, error) {
	return nil, s.putPolicy(ctx, c, KindUser, in.UserName, in.PolicyName, in.PolicyDocument)
}

// PutRolePolicyInput is PutRolePolicy's input.
type PutRolePolicyInput struct {
	RoleName       string
	PolicyName     string
	PolicyDocument string
}

func (s *Service) putRolePolicy(ctx context.Context, c *catalog.Call, in *PutRolePolicyInput) (*struct{}, error) {
	return nil, s.putPolicy(ctx, c, KindRole, in.RoleName, in.PolicyName, in.PolicyDocument)
}

// UserPolicyInput names a user's inline policy (Get/DeleteUserPolicy).
type UserPolicyInput struct {
	UserName   string
	PolicyName string
}

// GetUserPolicyOutput is GetUserPolicy's result; the document is
// URL-encoded as IAM returns it.
type GetUserPolicyOutput struct {
	UserName       string `xml:"UserName"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

func (s *Service) getUserPolicy(ctx context.Context, c *catalog.Call, in *UserPolicyInput) (*GetUserPolicyOutput, error) {
	o, name, doc, err := s.getPolicy(ctx, c, KindUser, in.UserName, in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &GetUserPolicyOutput{UserName: o.name, PolicyName: name, PolicyDocument: EncodeDocument(doc)}, nil
}

func (s *Service) deleteUserPolicy(ctx context.Context, c *catalog.Call, in *UserPolicyInput) (*struct{}, error) {
	return nil, s.deletePolicy(ctx, c, KindUser, in.UserName, in.PolicyName)
}

// RolePolicyInput names a role's inline policy (Get/DeleteRolePolicy).
type RolePolicyInput struct {
	RoleName   string
	PolicyName string
}

// GetRolePolicyOutput is GetRolePolicy's result.
type GetRolePolicyOutput struct {
	RoleName       string `xml:"RoleName"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

func (s *Service) getRolePolicy(ctx context.Context, c *catalog.Call, in *RolePolicyInput) (*GetRolePolicyOutput, error) {
	o, name, doc, err := s.getPolicy(ctx, c, KindRole, in.RoleName, in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &GetRolePolicyOutput{RoleName: o.name, PolicyName: name, PolicyDocument: EncodeDocument(doc)}, nil
}

func (s *Service) deleteRolePolicy(ctx context.Context, c *catalog.Call, in *RolePolicyInput) (*struct{}, error) {
	return nil, s.deletePolicy(ctx, c, KindRole, in.RoleName, in.PolicyName)
}

// ListUserPoliciesInput is ListUserPolicies' input.
type ListUserPoliciesInput struct {
	UserName string
	Marker   *string
	MaxItems *int32
}

// ListPoliciesOutput is ListUserPolicies' and ListRolePolicies' result.
type ListPoliciesOutput struct {
	PolicyNames []string `xml:"PolicyNames>member"`
	IsTruncated bool     `xml:"IsTruncated"`
	Marker      string   `xml:"Marker,omitempty"`
}

func (s *Service) listUserPolicies(ctx context.Context, c *catalog.Call, in *ListUserPoliciesInput) (*ListPoliciesOutput, error) {
	names, trunc, m, err := s.listPolicies(ctx, c, KindUser, in.UserName, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &ListPoliciesOutput{PolicyNames: names, IsTruncated: trunc, Marker: m}, nil
}

// ListRolePoliciesInput is ListRolePolicies' input.
type ListRolePoliciesInput struct {
	RoleName string
	Marker   *string
	MaxItems *int32
}

func (s *Service) listRolePolicies(ctx context.Context, c *catalog.Call, in *ListRolePoliciesInput) (*ListPoliciesOutput, error) {
	names, trunc, m, err := s.listPolicies(ctx, c, KindRole, in.RoleName, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &ListPoliciesOutput{PolicyNames: names, IsTruncated: trunc, Marker: m}, nil
}
