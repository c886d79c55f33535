package iam

import (
	"context"
	"strings"
	"time"

	"lextrail/internal/accounts"
	"lextrail/internal/catalog"
	"lextrail/internal/identity"
	"lextrail/internal/protocol"
	"lextrail/internal/store"
)

// MaxAccessKeysPerUser is IAM's AccessKeysPerUser quota.
const MaxAccessKeysPerUser = 2

// AccessKey is CreateAccessKey's key, the only time the secret is shown.
// The secret never reaches the audit record.
type AccessKey struct {
	UserName        string        `xml:"UserName"`
	AccessKeyId     string        `xml:"AccessKeyId"`
	Status          string        `xml:"Status"`
	SecretAccessKey string        `xml:"SecretAccessKey" audit:"omit"`
	CreateDate      protocol.Time `xml:"CreateDate"`
}

// AccessKeyMetadata is a listed key.
type AccessKeyMetadata struct {
	UserName    string        `xml:"UserName"`
	AccessKeyId string        `xml:"AccessKeyId"`
	Status      string        `xml:"Status"`
	CreateDate  protocol.Time `xml:"CreateDate"`
}

// keyOwner resolves the user whose keys an operation manages: the named
// user, or the caller itself. For root without a name it returns nil (the
// root user's own keys).
func keyOwner(ctx context.Context, c *catalog.Call, name *string) (*userRow, error) {
	n, err := selfUser(c, name)
	if err != nil || n == "" {
		return nil, err
	}
	return loadUser(ctx, c.Tx, c.AccountID(), n)
}

func ownerType(u *userRow) (ptype, pname, display string) {
	if u == nil {
		return identity.TypeRoot, "", ""
	}
	return identity.TypeIAMUser, u.name, u.name
}

// CreateAccessKeyInput is CreateAccessKey's input.
type CreateAccessKeyInput struct {
	UserName *string
}

// CreateAccessKeyOutput is CreateAccessKey's result.
type CreateAccessKeyOutput struct {
	AccessKey AccessKey `xml:"AccessKey"`
}

func (s *Service) createAccessKey(ctx context.Context, c *catalog.Call, in *CreateAccessKeyInput) (*CreateAccessKeyOutput, error) {
	u, err := keyOwner(ctx, c, in.UserName)
	if err != nil {
		return nil, err
	}
	ptype, pname, display := ownerType(u)
	var n int
	if err := c.Tx.QueryRow(ctx, `SELECT COUNT(*) FROM access_keys WHERE account_id = $1 AND principal_type = $2 AND principal_name = $3`,
		c.AccountID(), ptype, pname).Scan(&n); err != nil {
		return nil, err
	}
	if n >= MaxAccessKeysPerUser {
		return nil, limitExceeded("Cannot exceed quota for AccessKeysPerUser: %d", MaxAccessKeysPerUser)
	}
	creds := accounts.Credentials{AccessKeyID: accounts.NewKeyID("AKIA"), SecretAccessKey: accounts.NewSecret()}
	if err := s.cfg.Accounts.InsertKey(ctx, c.Tx, c.AccountID(), ptype, pname, creds); err != nil {
		return nil, err
	}
	// access_keys.created_ms is the accounts store's clock; the API shows
	// the call's time, which is the same clock.
	out := &CreateAccessKeyOutput{AccessKey: AccessKey{UserName: display, AccessKeyId: creds.AccessKeyID, Status: "Active",
		SecretAccessKey: creds.SecretAccessKey, CreateDate: protocol.NewTime(c.Now.Truncate(time.Second))}}
	c.Audit.ResponseElements = map[string]any{"accessKey": map[string]any{
		"userName": display, "accessKeyId": creds.AccessKeyID, "status": "Active",
		"createDate": c.Now.UTC().Format("Jan 2, 2006, 3:04:05 PM"),
	}}
	return out, nil
}

// ListAccessKeysInput is ListAccessKeys' input.
type ListAccessKeysInput struct {
	UserName *string
	Marker   *string
	MaxItems *int32
}

// ListAccessKeysOutput is ListAccessKeys' result.
type ListAccessKeysOutput struct {
	AccessKeyMetadata []AccessKeyMetadata `xml:"AccessKeyMetadata>member"`
	IsTruncated       bool                `xml:"IsTruncated"`
	Marker            string              `xml:"Marker,omitempty"`
}

func (s *Service) listAccessKeys(ctx context.Context, c *catalog.Call, in *ListAccessKeysInput) (*ListAccessKeysOutput, error) {
	after, limit, err := page(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	u, err := keyOwner(ctx, c, in.UserName)
	if err != nil {
		return nil, err
	}
	ptype, pname, display := ownerType(u)
	rows, err := c.Tx.Query(ctx, `SELECT access_key_id, status, created_ms FROM access_keys
		WHERE account_id = $1 AND principal_type = $2 AND principal_name = $3 AND access_key_id > $4 ORDER BY access_key_id`,
		c.AccountID(), ptype, pname, after)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := &ListAccessKeysOutput{AccessKeyMetadata: []AccessKeyMetadata{}}
	for rows.Next() {
		var k AccessKeyMetadata
		var created int64
		if err := rows.Scan(&k.AccessKeyId, &k.Status, &created); err != nil {
			return nil, err
		}
		if len(out.AccessKeyMetadata) == limit {
			out.IsTruncated = true
			out.Marker = marker(out.AccessKeyMetadata[limit-1].AccessKeyId)
			break
		}
		k.UserName = display
		k.CreateDate = protocol.NewTime(store.FromMillis(created).Truncate(time.Second))
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, k)
	}
	return out, rows.Err()
}

// UpdateAccessKeyInput is UpdateAccessKey's input.
type UpdateAccessKeyInput struct {
	UserName    *string
	AccessKeyId string
	Status      string
}

func (s *Service) updateAccessKey(ctx context.Context, c *catalog.Call, in *UpdateAccessKeyInput) (*struct{}, error) {
	if in.Status != "Active" && in.Status != "Inactive" {
		return nil, validation("1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", in.Status)
	}
	if err := s.changeKey(ctx, c, in.UserName, in.AccessKeyId, `UPDATE access_keys SET status = $5`, in.Status); err != nil {
		return nil, err
	}
	return nil, nil
}

// DeleteAccessKeyInput is DeleteAccessKey's input.
type DeleteAccessKeyInput struct {
	UserName    *string
	AccessKeyId string
}

func (s *Service) deleteAccessKey(ctx context.Context, c *catalog.Call, in *DeleteAccessKeyInput) (*struct{}, error) {
	if err := s.changeKey(ctx, c, in.UserName, in.AccessKeyId, `DELETE FROM access_keys`); err != nil {
		return nil, err
	}
	return nil, nil
}

// changeKey runs stmt (an UPDATE or DELETE of access_keys, with optional
// extra argument $5) on the key if it belongs to the user.
func (s *Service) changeKey(ctx context.Context, c *catalog.Call, name *string, keyID, stmt string, extra ...any) error {
	if len(keyID) < 16 || len(keyID) > 128 || strings.ToUpper(keyID) != keyID {
		return validation("1 validation error detected: Value '%s' at 'accessKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]+", keyID)
	}
	u, err := keyOwner(ctx, c, name)
	if err != nil {
		return err
	}
	ptype, pname, _ := ownerType(u)
	args := append([]any{keyID, c.AccountID(), ptype, pname}, extra...)
	res, err := c.Tx.Exec(ctx, stmt+` WHERE access_key_id = $1 AND account_id = $2 AND principal_type = $3 AND principal_name = $4`, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return noSuchEntity("The Access Key with id %s cannot be found.", keyID)
	}
	c.Tx.AfterCommit(func() { s.cfg.Accounts.Forget(keyID) })
	return nil
}
