package iam

import (
	"context"
	"strings"
	"time"

	"lextrail/internal/catalog"
	"lextrail/internal/policy"
	"lextrail/internal/protocol"
	"lextrail/internal/store"
)

// Session duration bounds of roles (seconds).
const (
	MinMaxSessionDuration     = 3600
	MaxMaxSessionDuration     = 43200
	DefaultMaxSessionDuration = 3600
)

// Role is an IAM role as the API returns it.
type Role struct {
	Path                     string        `xml:"Path"`
	RoleName                 string        `xml:"RoleName"`
	RoleId                   string        `xml:"RoleId"`
	Arn                      string        `xml:"Arn"`
	CreateDate               protocol.Time `xml:"CreateDate"`
	AssumeRolePolicyDocument string        `xml:"AssumeRolePolicyDocument,omitempty"`
	Description              string        `xml:"Description,omitempty"`
	MaxSessionDuration       int64         `xml:"MaxSessionDuration,omitempty"`
}

// RoleARN is the ARN of a role.
func RoleARN(accountID, path, name string) string {
	return "arn:aws:iam::" + accountID + ":role" + path + name
}

// RoleInfo is what STS needs of a role.
type RoleInfo struct {
	AccountID          string
	Name               string
	ID                 string // AROA...
	Path               string
	ARN                string
	TrustPolicy        string // JSON as stored
	MaxSessionDuration int64  // seconds
	ServiceLinked      string // service principal of a service-linked role
	Created            time.Time
}

func (r *RoleInfo) api(withDoc bool) Role {
	out := Role{Path: r.Path, RoleName: r.Name, RoleId: r.ID, Arn: r.ARN, CreateDate: protocol.NewTime(r.Created),
		MaxSessionDuration: r.MaxSessionDuration}
	if withDoc {
		out.AssumeRolePolicyDocument = EncodeDocument(r.TrustPolicy)
	}
	return out
}

type scanner interface{ Scan(dest ...any) error }

const roleCols = `name, role_id, path, trust_policy, description, max_session_duration, service_linked, created_ms`

func scanRole(account string, sc scanner) (*RoleInfo, string, error) {
	r := &RoleInfo{AccountID: account}
	var desc string
	var created int64
	if err := sc.Scan(&r.Name, &r.ID, &r.Path, &r.TrustPolicy, &desc, &r.MaxSessionDuration, &r.ServiceLinked, &created); err != nil {
		return nil, "", err
	}
	r.Created = store.FromMillis(created)
	r.ARN = RoleARN(account, r.Path, r.Name)
	return r, desc, nil
}

func loadRole(ctx context.Context, tx *store.Tx, account, name string) (*RoleInfo, string, error) {
	r, desc, err := scanRole(account, tx.QueryRow(ctx, `SELECT `+roleCols+` FROM iam_roles WHERE account_id = $1 AND name_key = $2`,
		account, strings.ToLower(name)))
	if isNoRows(err) {
		return nil, "", noSuchEntity("The role with name %s cannot be found.", name)
	}
	return r, desc, err
}

// Role looks a role up inside tx (for STS); it returns NoSuchEntity when it
// does not exist.
func (s *Service) Role(ctx context.Context, tx *store.Tx, accountID, name string) (*RoleInfo, error) {
	r, _, err := loadRole(ctx, tx, accountID, name)
	return r, err
}

// RoleByARN looks up the role an ARN names (arn:aws:iam::<acct>:role/<path><name>).
func (s *Service) RoleByARN(ctx context.Context, tx *store.Tx, arn string) (*RoleInfo, error) {
	acct, name, ok := ParseRoleARN(arn)
	if !ok {
		return nil, noSuchEntity("The role with name %s cannot be found.", arn)
	}
	r, err := s.Role(ctx, tx, acct, name)
	if err != nil {
		return nil, err
	}
	if r.ARN != arn {
		return nil, noSuchEntity("The role with name %s cannot be found.", name)
	}
	return r, nil
}

// ParseRoleARN splits a role ARN into account and role name.
func ParseRoleARN(arn string) (account, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[3] != "" || !strings.HasPrefix(parts[5], "role/") {
		return "", "", false
	}
	res := parts[5]
	name = res[strings.LastIndexByte(res, '/')+1:]
	if name == "" || len(parts[4]) != 12 {
		return "", "", false
	}
	return parts[4], name, true
}

// roleARN is the ARN authorization checks for a role.
func (s *Service) roleARN(c *catalog.Call, name string) string {
	path := "/"
	ctx := context.Background()
	if c.Request != nil {
		ctx = c.Request.Context()
	}
	_ = s.db.Read(ctx, func(tx *store.Tx) error {
		if r, _, err := loadRole(ctx, tx, c.AccountID(), name); err == nil {
			path = r.Path
		}
		return nil
	})
	return RoleARN(c.AccountID(), path, name)
}

// checkTrustPolicy validates a trust policy document.
func checkTrustPolicy(doc string) (string, error) {
	doc = DecodeDocument(doc)
	if doc == "" {
		return "", validation("1 validation error detected: Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null")
	}
	if policy.NonWhitespaceLen(doc) > policy.MaxTrustPolicySize {
		return "", limitExceeded("Cannot exceed quota for ACLSizePerRole: %d", policy.MaxTrustPolicySize)
	}
	if _, err := policy.Parse(doc, policy.Trust); err != nil {
		return "", malformedPolicy(err.Error())
	}
	return doc, nil
}

// CreateRoleInput is CreateRole's input.
type CreateRoleInput struct {
	RoleName                 string
	Path                     *string
	AssumeRolePolicyDocument string
	Description              *string
	MaxSessionDuration       *int64
}

// CreateRoleOutput is CreateRole's result.
type CreateRoleOutput struct {
	Role Role `xml:"Role"`
}

func (s *Service) createRoleResources(c *catalog.Call, in any) []catalog.Resource {
	i := in.(*CreateRoleInput)
	path := "/"
	if i.Path != nil {
		path = *i.Path
	}
	return []catalog.Resource{{ARN: RoleARN(c.AccountID(), path, i.RoleName), AccountID: c.AccountID(), Type: "AWS::IAM::Role"}}
}

func (s *Service) createRole(ctx context.Context, c *catalog.Call, in *CreateRoleInput) (*CreateRoleOutput, error) {
	if err := checkName("roleName", in.RoleName, 64); err != nil {
		return nil, err
	}
	path := "/"
	if in.Path != nil {
		path = *in.Path
		if err := checkPath("path", path); err != nil {
			return nil, err
		}
		if strings.HasPrefix(path, "/aws-service-role/") {
			return nil, invalidInput("Path /aws-service-role/ is reserved for service-linked roles.")
		}
	}
	maxDur := int64(DefaultMaxSessionDuration)
	if in.MaxSessionDuration != nil {
		maxDur = *in.MaxSessionDuration
		if maxDur < MinMaxSessionDuration || maxDur > MaxMaxSessionDuration {
			return nil, validation("1 validation error detected: Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between %d and %d",
				maxDur, MinMaxSessionDuration, MaxMaxSessionDuration)
		}
	}
	desc := ""
	if in.Description != nil {
		desc = *in.Description
		if len(desc) > 1000 {
			return nil, validation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000")
		}
	}
	doc, err := checkTrustPolicy(in.AssumeRolePolicyDocument)
	if err != nil {
		return nil, err
	}
	r := &RoleInfo{AccountID: c.AccountID(), Name: in.RoleName, ID: newUniqueID("AROA"), Path: path, TrustPolicy: doc,
		MaxSessionDuration: maxDur, Created: c.Now.Truncate(time.Second)}
	if err := s.insertRole(ctx, c, r, desc); err != nil {
		return nil, err
	}
	out := &CreateRoleOutput{Role: r.api(true)}
	out.Role.Description = desc
	return out, nil
}

func (s *Service) insertRole(ctx context.Context, c *catalog.Call, r *RoleInfo, desc string) error {
	r.ARN = RoleARN(r.AccountID, r.Path, r.Name)
	res, err := c.Tx.Exec(ctx, `INSERT INTO iam_roles (account_id, name_key, name, role_id, path, trust_policy, description, max_session_duration, service_linked, created_ms)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
		r.AccountID, strings.ToLower(r.Name), r.Name, r.ID, r.Path, r.TrustPolicy, desc, r.MaxSessionDuration, r.ServiceLinked, ms(r.Created))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return alreadyExists("Role with name %s already exists.", r.Name)
	}
	c.Audit.Resources = []catalog.Resource{{ARN: r.ARN, AccountID: r.AccountID, Type: "AWS::IAM::Role"}}
	// A role recreated under an old name is a new principal.
	c.Tx.AfterCommit(func() { s.cfg.Changed(r.AccountID, KindRole, r.Name) })
	return nil
}

// GetRoleInput is GetRole's input.
type GetRoleInput struct {
	RoleName string
}

// GetRoleOutput is GetRole's result.
type GetRoleOutput struct {
	Role Role `xml:"Role"`
}

func (s *Service) getRole(ctx context.Context, c *catalog.Call, in *GetRoleInput) (*GetRoleOutput, error) {
	if err := checkName("roleName", in.RoleName, 64); err != nil {
		return nil, err
	}
	r, desc, err := loadRole(ctx, c.Tx, c.AccountID(), in.RoleName)
	if err != nil {
		return nil, err
	}
	out := &GetRoleOutput{Role: r.api(true)}
	out.Role.Description = desc
	return out, nil
}

// ListRolesInput is ListRoles' input.
type ListRolesInput struct {
	PathPrefix *string
	Marker     *string
	MaxItems   *int32
}

// ListRolesOutput is ListRoles' result.
type ListRolesOutput struct {
	Roles       []Role `xml:"Roles>member"`
	IsTruncated bool   `xml:"IsTruncated"`
	Marker      string `xml:"Marker,omitempty"`
}

func (s *Service) listRoles(ctx context.Context, c *catalog.Call, in *ListRolesInput) (*ListRolesOutput, error) {
	after, limit, err := page(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	prefix := "/"
	if in.PathPrefix != nil && *in.PathPrefix != "" {
		prefix = *in.PathPrefix
	}
	rows, err := c.Tx.Query(ctx, `SELECT `+roleCols+` FROM iam_roles WHERE account_id = $1 AND name_key > $2 ORDER BY name_key`, c.AccountID(), after)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := &ListRolesOutput{Roles: []Role{}}
	for rows.Next() {
		r, desc, err := scanRole(c.AccountID(), rows)
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(r.Path, prefix) {
			continue
		}
		if len(out.Roles) == limit {
			out.IsTruncated = true
			out.Marker = marker(strings.ToLower(out.Roles[limit-1].RoleName))
			break
		}
		api := r.api(true)
		api.Description = desc
		out.Roles = append(out.Roles, api)
	}
	return out, rows.Err()
}

// DeleteRoleInput is DeleteRole's input.
type DeleteRoleInput struct {
	RoleName string
}

func (s *Service) deleteRole(ctx context.Context, c *catalog.Call, in *DeleteRoleInput) (*struct{}, error) {
	if err := checkName("roleName", in.RoleName, 64); err != nil {
		return nil, err
	}
	r, _, err := loadRole(ctx, c.Tx, c.AccountID(), in.RoleName)
	if err != nil {
		return nil, err
	}
	if r.ServiceLinked != "" {
		return nil, awsUnmodifiable(r.Name)
	}
	var n int
	if err := c.Tx.QueryRow(ctx, `SELECT COUNT(*) FROM iam_inline_policies WHERE account_id = $1 AND owner_kind = $2 AND owner_key = $3`,
		r.AccountID, KindRole, strings.ToLower(r.Name)).Scan(&n); err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, deleteConflict("Cannot delete entity, must delete policies first.")
	}
	if _, err := c.Tx.Exec(ctx, `DELETE FROM iam_roles WHERE account_id = $1 AND name_key = $2`, r.AccountID, strings.ToLower(r.Name)); err != nil {
		return nil, err
	}
	c.Tx.AfterCommit(func() { s.cfg.Changed(r.AccountID, KindRole, r.Name) })
	return nil, nil
}

func awsUnmodifiable(name string) error {
	return awsErr(400, "UnmodifiableEntity", "Cannot perform the operation on the protected role '"+name+"' - this role is only modifiable by AWS")
}

// UpdateAssumeRolePolicyInput is UpdateAssumeRolePolicy's input.
type UpdateAssumeRolePolicyInput struct {
	RoleName       string
	PolicyDocument string
}

func (s *Service) updateAssumeRolePolicy(ctx context.Context, c *catalog.Call, in *UpdateAssumeRolePolicyInput) (*struct{}, error) {
	if err := checkName("roleName", in.RoleName, 64); err != nil {
		return nil, err
	}
	r, _, err := loadRole(ctx, c.Tx, c.AccountID(), in.RoleName)
	if err != nil {
		return nil, err
	}
	if r.ServiceLinked != "" {
		return nil, awsUnmodifiable(r.Name)
	}
	doc, err := checkTrustPolicy(in.PolicyDocument)
	if err != nil {
		return nil, err
	}
	if _, err := c.Tx.Exec(ctx, `UPDATE iam_roles SET trust_policy = $1 WHERE account_id = $2 AND name_key = $3`,
		doc, r.AccountID, strings.ToLower(r.Name)); err != nil {
		return nil, err
	}
	return nil, nil
}
