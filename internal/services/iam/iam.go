// Package iam serves the AWS Identity and Access Management subset lextrail
// supports (query protocol, API version 2010-05-08, signing name "iam",
// global): users and their access keys, roles (including service-linked
// roles) and inline policies of users and roles. Managed policies and
// groups are not served.
//
// It owns the iam_users, iam_roles and iam_inline_policies tables and the
// IAMUser rows of access_keys (the table itself is internal/accounts'). It
// makes IAM user keys resolvable (accounts.RegisterPrincipalType) and
// answers the authorizer's questions about identity policies
// (InlinePolicies) and STS's about roles (Role). Policy documents are
// validated with internal/policy; evaluation is internal/authz's business.
package iam

import (
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"time"

	"lextrail/internal/accounts"
	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/identity"
	"lextrail/internal/store"
)

// Namespace is the xmlns of IAM responses.
const Namespace = "https://iam.amazonaws.com/doc/2010-05-08/"

// Owner kinds of inline policies (also the authorizer's cache kinds).
const (
	KindUser = "user"
	KindRole = "role"
)

// Config configures the service.
type Config struct {
	DB       *store.DB
	Accounts *accounts.Store
	// Changed is called after a commit that changed the identity policies
	// of a user or role (or deleted it), so that caches of compiled
	// policies drop it. Optional.
	Changed func(accountID, kind, name string)
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Service is the IAM service.
type Service struct {
	cfg Config
	db  *store.DB
}

// New returns the service and registers the IAMUser principal type with
// the accounts store.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Changed == nil {
		cfg.Changed = func(string, string, string) {}
	}
	s := &Service{cfg: cfg, db: cfg.DB}
	if cfg.Accounts != nil {
		cfg.Accounts.RegisterPrincipalType(identity.TypeIAMUser, s.loadUserKey)
	}
	return s
}

// Catalog declares IAM's operations.
func (s *Service) Catalog() *catalog.Service {
	user := func(c *catalog.Call, in any) []catalog.Resource {
		name := fieldString(in, "UserName")
		if name == "" {
			if c.Principal.Type == identity.TypeIAMUser {
				name = c.Principal.UserName
			} else {
				return nil
			}
		}
		// IAM's AccessDenied messages name an existing user "user <name>".
		return []catalog.Resource{{ARN: s.userARN(c, name), AccountID: c.AccountID(), Type: "AWS::IAM::User", DeniedName: "user " + name}}
	}
	role := func(c *catalog.Call, in any) []catalog.Resource {
		name := fieldString(in, "RoleName")
		return []catalog.Resource{{ARN: s.roleARN(c, name), AccountID: c.AccountID(), Type: "AWS::IAM::Role", DeniedName: "role " + name}}
	}
	op := func(name string, readOnly bool, res func(*catalog.Call, any) []catalog.Resource) catalog.Operation {
		return catalog.Operation{Name: name, ReadOnly: readOnly, Audited: true, Resources: res}
	}
	rec := func(o catalog.Operation) catalog.Operation { o.RecordResponse = true; return o }
	return catalog.NewService(&catalog.Service{
		Name:             "iam",
		SigningName:      "iam",
		EventSource:      "iam.amazonaws.com",
		Protocol:         catalog.Query,
		APIVersion:       "2010-05-08",
		XMLNamespace:     Namespace,
		Global:           true,
		AccessDeniedCode: "AccessDenied",
		Ops: []*catalog.Operation{
			catalog.Define(rec(op("CreateUser", false, s.createUserResources)), s.createUser),
			catalog.Define(op("GetUser", true, user), s.getUser),
			catalog.Define(op("ListUsers", true, s.accountResource("user")), s.listUsers),
			catalog.Define(op("DeleteUser", false, user), s.deleteUser),
			catalog.Define(rec(op("CreateAccessKey", false, user)), s.createAccessKey),
			catalog.Define(op("ListAccessKeys", true, user), s.listAccessKeys),
			catalog.Define(op("UpdateAccessKey", false, user), s.updateAccessKey),
			catalog.Define(op("DeleteAccessKey", false, user), s.deleteAccessKey),
			catalog.Define(rec(op("CreateRole", false, s.createRoleResources)), s.createRole),
			catalog.Define(op("GetRole", true, role), s.getRole),
			catalog.Define(op("ListRoles", true, s.accountResource("role")), s.listRoles),
			catalog.Define(op("DeleteRole", false, role), s.deleteRole),
			catalog.Define(op("UpdateAssumeRolePolicy", false, role), s.updateAssumeRolePolicy),
			catalog.Define(rec(op("CreateServiceLinkedRole", false, s.serviceLinkedRoleResources)), s.createServiceLinkedRole),
			catalog.Define(op("PutUserPolicy", false, user), s.putUserPolicy),
			catalog.Define(op("GetUserPolicy", true, user), s.getUserPolicy),
			catalog.Define(op("DeleteUserPolicy", false, user), s.deleteUserPolicy),
			catalog.Define(op("ListUserPolicies", true, user), s.listUserPolicies),
			catalog.Define(op("PutRolePolicy", false, role), s.putRolePolicy),
			catalog.Define(op("GetRolePolicy", true, role), s.getRolePolicy),
			catalog.Define(op("DeleteRolePolicy", false, role), s.deleteRolePolicy),
			catalog.Define(op("ListRolePolicies", true, role), s.listRolePolicies),
		},
	})
}

// accountResource is the resource of List calls, as AWS authorizes them:
// the path prefix listed ("arn:aws:iam::<acct>:user/" for all users,
// "arn:aws:iam::<acct>:user/team/" with PathPrefix /team/).
func (s *Service) accountResource(kind string) func(c *catalog.Call, in any) []catalog.Resource {
	return func(c *catalog.Call, in any) []catalog.Resource {
		prefix := fieldString(in, "PathPrefix")
		if !strings.HasPrefix(prefix, "/") {
			prefix = "/"
		}
		return []catalog.Resource{{ARN: "arn:aws:iam::" + c.AccountID() + ":" + kind + prefix, AccountID: c.AccountID()}}
	}
}

// fieldString reads a string field of an input struct by name (inputs are
// pointers to structs whose fields are the API members).
func fieldString(in any, name string) string {
	v := reflect.ValueOf(in)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	f := v.FieldByName(name)
	if !f.IsValid() {
		return ""
	}
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			return ""
		}
		f = f.Elem()
	}
	if f.Kind() != reflect.String {
		return ""
	}
	return f.String()
}

// Errors, with IAM's codes and statuses.

func noSuchEntity(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusNotFound, "NoSuchEntity", format, args...)
}

func alreadyExists(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusConflict, "EntityAlreadyExists", format, args...)
}

func deleteConflict(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusConflict, "DeleteConflict", format, args...)
}

func limitExceeded(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusConflict, "LimitExceeded", format, args...)
}

func validation(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusBadRequest, "ValidationError", format, args...)
}

func invalidInput(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusBadRequest, "InvalidInput", format, args...)
}

func malformedPolicy(msg string) *awserr.Error {
	return awserr.New(http.StatusBadRequest, "MalformedPolicyDocument", "%s", msg)
}

// Member validation, with the messages AWS's model validation produces.

var (
	nameRe   = regexp.MustCompile(`^[\w+=,.@-]+$`)
	pathRe   = regexp.MustCompile(`^(/|/[\x21-\x7E]+/)$`)
	markerRe = regexp.MustCompile(`^[\x{20}-\x{FF}]+$`)
)

func checkName(member, v string, max int) error {
	if v == "" {
		return validation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
	}
	if len(v) > max {
		return validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", v, member, max)
	}
	if !nameRe.MatchString(v) {
		return validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", v, member)
	}
	return nil
}

func checkPath(member, v string) error {
	if len(v) > 512 {
		return validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to 512", v, member)
	}
	if !pathRe.MatchString(v) {
		return validation("The specified value for %s is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.", member)
	}
	return nil
}

// page reads Marker/MaxItems: the key to start after and the page size.
func page(marker *string, maxItems *int32) (after string, limit int, err error) {
	limit = 100
	if maxItems != nil {
		if *maxItems < 1 || *maxItems > 1000 {
			return "", 0, validation("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", *maxItems)
		}
		limit = int(*maxItems)
	}
	if marker != nil && *marker != "" {
		if !markerRe.MatchString(*marker) {
			return "", 0, validation("Invalid Marker.")
		}
		b, err := url.QueryUnescape(*marker)
		if err != nil || !strings.HasPrefix(b, "k:") {
			return "", 0, validation("Invalid Marker.")
		}
		after = b[2:]
	}
	return after, limit, nil
}

func marker(key string) string { return url.QueryEscape("k:" + key) }

// EncodeDocument is how IAM returns policy documents: URL-encoded (RFC
// 3986 percent-encoding, spaces as %20), which the AWS CLI and boto3
// decode.
func EncodeDocument(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

// DecodeDocument undoes a URL encoding some clients apply to documents
// they send (IAM accepts both forms); a document that is already JSON is
// returned as is.
func DecodeDocument(doc string) string {
	t := strings.TrimSpace(doc)
	if strings.HasPrefix(t, "{") || t == "" {
		return doc
	}
	if d, err := url.QueryUnescape(doc); err == nil && strings.HasPrefix(strings.TrimSpace(d), "{") {
		return d
	}
	return doc
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// newUniqueID returns an IAM unique ID: a 4-letter prefix (AIDA, AROA) and
// 17 characters, 21 in all.
func newUniqueID(prefix string) string { return prefix + accounts.RandomID(idAlphabet, 17) }

func ms(t time.Time) int64 { return store.Millis(t) }

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func awsErr(status int, code, msg string) *awserr.Error {
	return &awserr.Error{Code: code, Status: status, Message: msg}
}
