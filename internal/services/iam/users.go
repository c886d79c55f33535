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

// User is an IAM user as the API returns it.
type User struct {
	Path       string        `xml:"Path"`
	UserName   string        `xml:"UserName"`
	UserId     string        `xml:"UserId"`
	Arn        string        `xml:"Arn"`
	CreateDate protocol.Time `xml:"CreateDate"`
}

// UserARN is the ARN of a user.
func UserARN(accountID, path, name string) string {
	return "arn:aws:iam::" + accountID + ":user" + path + name
}

type userRow struct {
	account, name, id, path string
	created                 time.Time
}

func (u *userRow) api() User {
	return User{Path: u.path, UserName: u.name, UserId: u.id, Arn: UserARN(u.account, u.path, u.name), CreateDate: protocol.NewTime(u.created)}
}

func loadUser(ctx context.Context, tx *store.Tx, account, name string) (*userRow, error) {
	u := &userRow{account: account}
	var created int64
	err := tx.QueryRow(ctx, `SELECT name, user_id, path, created_ms FROM iam_users WHERE account_id = $1 AND name_key = $2`,
		account, strings.ToLower(name)).Scan(&u.name, &u.id, &u.path, &created)
	if isNoRows(err) {
		return nil, noSuchEntity("The user with name %s cannot be found.", name)
	}
	if err != nil {
		return nil, err
	}
	u.created = store.FromMillis(created)
	return u, nil
}

// userARN is the ARN authorization checks for a user: with its path when
// the user exists.
func (s *Service) userARN(c *catalog.Call, name string) string {
	path := "/"
	ctx := context.Background()
	if c.Request != nil {
		ctx = c.Request.Context()
	}
	_ = s.db.Read(ctx, func(tx *store.Tx) error {
		u, err := loadUser(ctx, tx, c.AccountID(), name)
		if err == nil {
			path = u.path
		}
		return nil
	})
	return UserARN(c.AccountID(), path, name)
}

// loadUserKey is the accounts.PrincipalLoader of IAM user keys.
func (s *Service) loadUserKey(ctx context.Context, tx *store.Tx, row accounts.Row, key *accounts.Key) error {
	u, err := loadUser(ctx, tx, row.AccountID, row.PrincipalName)
	if err != nil {
		// A key whose user is gone (should not happen: DeleteUser refuses
		// while keys exist) authenticates nobody.
		key.Status = "Inactive"
		key.Principal = &identity.Principal{Type: identity.TypeIAMUser, AccountID: row.AccountID}
		return nil
	}
	arn := UserARN(u.account, u.path, u.name)
	key.Principal = &identity.Principal{Type: identity.TypeIAMUser, AccountID: u.account, ARN: arn,
		PrincipalID: u.id, UserID: u.id, UserName: u.name, AccessKeyID: row.AccessKeyID}
	return nil
}

// CreateUserInput is CreateUser's input.
type CreateUserInput struct {
	UserName string
	Path     *string
}

// CreateUserOutput is CreateUser's result.
type CreateUserOutput struct {
	User User `xml:"User"`
}

func (s *Service) createUserResources(c *catalog.Call, in any) []catalog.Resource {
	i := in.(*CreateUserInput)
	path := "/"
	if i.Path != nil {
		path = *i.Path
	}
	return []catalog.Resource{{ARN: UserARN(c.AccountID(), path, i.UserName), AccountID: c.AccountID(), Type: "AWS::IAM::User"}}
}

func (s *Service) createUser(ctx context.Context, c *catalog.Call, in *CreateUserInput) (*CreateUserOutput, error) {
	if err := checkName("userName", in.UserName, 64); err != nil {
		return nil, err
	}
	path := "/"
	if in.Path != nil {
		path = *in.Path
		if err := checkPath("path", path); err != nil {
			return nil, err
		}
	}
	u := &userRow{account: c.AccountID(), name: in.UserName, id: newUniqueID("AIDA"), path: path, created: c.Now.Truncate(time.Second)}
	res, err := c.Tx.Exec(ctx, `INSERT INTO iam_users (account_id, name_key, name, user_id, path, created_ms)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, u.account, strings.ToLower(u.name), u.name, u.id, u.path, ms(u.created))
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, alreadyExists("User with name %s already exists.", in.UserName)
	}
	c.Audit.Resources = []catalog.Resource{{ARN: UserARN(u.account, u.path, u.name), AccountID: u.account, Type: "AWS::IAM::User"}}
	return &CreateUserOutput{User: u.api()}, nil
}

// GetUserInput is GetUser's input.
type GetUserInput struct {
	UserName *string
}

// GetUserOutput is GetUser's result.
type GetUserOutput struct {
	User User `xml:"User"`
}

func (s *Service) getUser(ctx context.Context, c *catalog.Call, in *GetUserInput) (*GetUserOutput, error) {
	name, err := selfUser(c, in.UserName)
	if err != nil {
		return nil, err
	}
	if name == "" { // root asking about itself
		return &GetUserOutput{User: User{UserId: c.AccountID(), Arn: identity.RootARN(c.AccountID())}}, nil
	}
	u, err := loadUser(ctx, c.Tx, c.AccountID(), name)
	if err != nil {
		return nil, err
	}
	return &GetUserOutput{User: u.api()}, nil
}

// selfUser resolves an optional UserName: the caller itself when absent
// ("" for root), a ValidationError for callers that are not users.
func selfUser(c *catalog.Call, name *string) (string, error) {
	if name != nil && *name != "" {
		return *name, checkName("userName", *name, 128)
	}
	switch c.Principal.Type {
	case identity.TypeIAMUser:
		return c.Principal.UserName, nil
	case identity.TypeRoot:
		return "", nil
	}
	return "", validation("Must specify userName when calling with non-User credentials")
}

// ListUsersInput is ListUsers' input.
type ListUsersInput struct {
	PathPrefix *string
	Marker     *string
	MaxItems   *int32
}

// ListUsersOutput is ListUsers' result.
type ListUsersOutput struct {
	Users       []User `xml:"Users>member"`
	IsTruncated bool   `xml:"IsTruncated"`
	Marker      string `xml:"Marker,omitempty"`
}

func (s *Service) listUsers(ctx context.Context, c *catalog.Call, in *ListUsersInput) (*ListUsersOutput, error) {
	after, limit, err := page(in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	prefix := "/"
	if in.PathPrefix != nil && *in.PathPrefix != "" {
		prefix = *in.PathPrefix
	}
	rows, err := c.Tx.Query(ctx, `SELECT name_key, name, user_id, path, created_ms FROM iam_users
		WHERE account_id = $1 AND name_key > $2 ORDER BY name_key`, c.AccountID(), after)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := &ListUsersOutput{Users: []User{}}
	for rows.Next() {
		var key string
		var created int64
		u := userRow{account: c.AccountID()}
		if err := rows.Scan(&key, &u.name, &u.id, &u.path, &created); err != nil {
			return nil, err
		}
		if !strings.HasPrefix(u.path, prefix) {
			continue
		}
		if len(out.Users) == limit {
			out.IsTruncated = true
			out.Marker = marker(strings.ToLower(out.Users[limit-1].UserName))
			break
		}
		u.created = store.FromMillis(created)
		out.Users = append(out.Users, u.api())
	}
	return out, rows.Err()
}

// DeleteUserInput is DeleteUser's input.
type DeleteUserInput struct {
	UserName string
}

func (s *Service) deleteUser(ctx context.Context, c *catalog.Call, in *DeleteUserInput) (*struct{}, error) {
	if err := checkName("userName", in.UserName, 128); err != nil {
		return nil, err
	}
	u, err := loadUser(ctx, c.Tx, c.AccountID(), in.UserName)
	if err != nil {
		return nil, err
	}
	var n int
	if err := c.Tx.QueryRow(ctx, `SELECT COUNT(*) FROM access_keys WHERE account_id = $1 AND principal_type = $2 AND principal_name = $3`,
		u.account, identity.TypeIAMUser, u.name).Scan(&n); err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, deleteConflict("Cannot delete entity, must delete access keys first.")
	}
	if err := c.Tx.QueryRow(ctx, `SELECT COUNT(*) FROM iam_inline_policies WHERE account_id = $1 AND owner_kind = $2 AND owner_key = $3`,
		u.account, KindUser, strings.ToLower(u.name)).Scan(&n); err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, deleteConflict("Cannot delete entity, must delete policies first.")
	}
	if _, err := c.Tx.Exec(ctx, `DELETE FROM iam_users WHERE account_id = $1 AND name_key = $2`, u.account, strings.ToLower(u.name)); err != nil {
		return nil, err
	}
	c.Tx.AfterCommit(func() { s.cfg.Changed(u.account, KindUser, u.name) })
	return nil, nil
}
