// Package identity owns the types that say who is calling: the principal
// behind a verified access key (account root, IAM user, assumed-role
// session). It holds plain data only; credential storage lives in
// internal/accounts and policy evaluation in the authorization layer.
package identity

import "time"

// Principal types, spelled as CloudTrail's userIdentity.type.
const (
	TypeRoot        = "Root"
	TypeIAMUser     = "IAMUser"
	TypeAssumedRole = "AssumedRole"
	TypeAWSService  = "AWSService"
)

// Principal is an authenticated caller.
type Principal struct {
	Type        string // TypeRoot, TypeIAMUser, TypeAssumedRole, TypeAWSService
	AccountID   string // 12 digits
	ARN         string // arn:aws:iam::123456789012:root, ...:user/alice, arn:aws:sts::...:assumed-role/R/s
	PrincipalID string // account ID for root, AIDA... for users, AROA...:session for sessions
	UserName    string // IAM user name; empty for root
	AccessKeyID string // the key that signed the request
	// UserID is what GetCallerIdentity returns as UserId (the account ID for
	// root, the user's unique ID, or ROLEID:session).
	UserID string
	// Session is set for temporary credentials (assumed roles).
	Session *Session
	// InvokedBy names the AWS service acting for the principal, if any.
	InvokedBy string
	// MFA reports whether the credentials were issued with MFA.
	MFA bool
}

// Session describes temporary credentials issued by STS.
type Session struct {
	IssuerType        string // "Role"
	IssuerPrincipalID string // AROA...
	IssuerARN         string // arn:aws:iam::123456789012:role/R
	IssuerAccountID   string
	IssuerUserName    string // role name
	SessionName       string
	CreationDate      time.Time
	Expiration        time.Time
	SourceIdentity    string
	// Policy is an optional session policy (JSON) that further limits the session.
	Policy string
}

// IsRoot reports whether p is an account's root user.
func (p *Principal) IsRoot() bool { return p != nil && p.Type == TypeRoot }

// RootARN is the ARN of an account's root user.
func RootARN(accountID string) string { return "arn:aws:iam::" + accountID + ":root" }

// Root returns the root principal of an account using the given key.
func Root(accountID, accessKeyID string) *Principal {
	return &Principal{Type: TypeRoot, AccountID: accountID, ARN: RootARN(accountID),
		PrincipalID: accountID, UserID: accountID, AccessKeyID: accessKeyID}
}
