package sts

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"time"

	"lextrail/internal/authz"
	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/identity"
	"lextrail/internal/policy"
	"lextrail/internal/protocol"
	"lextrail/internal/services/iam"
	"lextrail/internal/store"
)

// Credentials are temporary credentials. The secret never reaches the
// audit record and the session token is recorded hidden.
type Credentials struct {
	AccessKeyId     string        `xml:"AccessKeyId"`
	SecretAccessKey string        `xml:"SecretAccessKey" audit:"omit"`
	SessionToken    string        `xml:"SessionToken" audit:"hidden"`
	Expiration      protocol.Time `xml:"Expiration"`
}

// AssumedRoleUser identifies an assumed-role session.
type AssumedRoleUser struct {
	AssumedRoleId string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

// AssumeRoleInput is AssumeRole's input.
type AssumeRoleInput struct {
	RoleArn         string
	RoleSessionName string
	DurationSeconds *int32
	Policy          *string
	ExternalId      *string
	SourceIdentity  *string
}

// AssumeRoleOutput is AssumeRole's result.
type AssumeRoleOutput struct {
	Credentials      Credentials     `xml:"Credentials"`
	AssumedRoleUser  AssumedRoleUser `xml:"AssumedRoleUser"`
	PackedPolicySize *int32          `xml:"PackedPolicySize,omitempty"`
	SourceIdentity   string          `xml:"SourceIdentity,omitempty"`
}

// Duration bounds of temporary credentials (seconds).
const (
	MinDuration             = 900
	DefaultRoleDuration     = 3600
	ChainedRoleMaxDuration  = 3600
	DefaultSessionTokenDur  = 43200
	MaxSessionTokenDuration = 129600
	RootSessionTokenMax     = 3600
)

var sessionNameRe = regexp.MustCompile(`^[\w+=,.@-]*$`)

func validation(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusBadRequest, "ValidationError", format, args...)
}

func accessDenied(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusForbidden, "AccessDenied", format, args...)
}

// assumeRoleResources names the role for authorization and audit, and
// adds AssumeRole's condition keys (sts:RoleSessionName, sts:ExternalId,
// sts:SourceIdentity) to the call: it runs before the authorizer.
func assumeRoleResources(c *catalog.Call, in any) []catalog.Resource {
	i := in.(*AssumeRoleInput)
	keys := map[string][]string{"sts:rolesessionname": {i.RoleSessionName}}
	if i.ExternalId != nil {
		keys["sts:externalid"] = []string{*i.ExternalId}
	}
	if i.SourceIdentity != nil {
		keys["sts:sourceidentity"] = []string{*i.SourceIdentity}
	}
	c.ConditionKeys = keys
	acct := ""
	if a, _, ok := iam.ParseRoleARN(i.RoleArn); ok {
		acct = a
	}
	return []catalog.Resource{{ARN: i.RoleArn, AccountID: acct, Type: "AWS::IAM::Role"}}
}

// ResourcePolicy is the authorizer's resource-policy source for "sts"
// actions: the trust policy of the role a call names, which must allow
// the caller even in the role's own account. A role that does not exist
// has no policy, so the call is denied as AWS denies it.
func (s *Service) ResourcePolicy(ctx context.Context, c *catalog.Call, r catalog.Resource) (*authz.ResourcePolicy, error) {
	if c.Principal != nil && c.Principal.IsRoot() {
		// Whatever the trust policy says (AWS answers root this way first).
		return nil, accessDenied("Roles may not be assumed by root accounts.")
	}
	acct, _, ok := iam.ParseRoleARN(r.ARN)
	if !ok {
		if len(r.ARN) < 20 {
			return nil, validation("1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20", r.ARN)
		}
		return nil, validation("%s is invalid", r.ARN)
	}
	rp := &authz.ResourcePolicy{Kind: policy.Trust, Owner: acct, RequireAllow: true}
	err := s.cfg.DB.Read(ctx, func(tx *store.Tx) error {
		role, err := s.cfg.Roles.RoleByARN(ctx, tx, r.ARN)
		if err != nil {
			return nil // no such role: no policy
		}
		rp.Document = role.TrustPolicy
		return nil
	})
	return rp, err
}

func (s *Service) assumeRole(ctx context.Context, c *catalog.Call, in *AssumeRoleInput) (*AssumeRoleOutput, error) {
	p := c.Principal
	if err := checkSessionName(in.RoleSessionName); err != nil {
		return nil, err
	}
	if p.IsRoot() {
		return nil, accessDenied("Roles may not be assumed by root accounts.")
	}
	role, err := s.cfg.Roles.RoleByARN(ctx, c.Tx, in.RoleArn)
	if err != nil {
		return nil, accessDenied("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", p.ARN, in.RoleArn)
	}
	chained := p.Type == identity.TypeAssumedRole
	dur := int64(DefaultRoleDuration)
	if in.DurationSeconds != nil {
		dur = int64(*in.DurationSeconds)
		if dur < MinDuration || dur > 43200 {
			return nil, validation("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value between %d and 43200", dur, MinDuration)
		}
		if chained && dur > ChainedRoleMaxDuration {
			return nil, validation("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
		}
		if dur > role.MaxSessionDuration {
			return nil, validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
		}
	}
	sessPolicy, packed, err := checkSessionPolicy(in.Policy)
	if err != nil {
		return nil, err
	}
	if in.ExternalId != nil && (len(*in.ExternalId) < 2 || len(*in.ExternalId) > 1224) {
		return nil, validation("1 validation error detected: Value '%s' at 'externalId' failed to satisfy constraint: Member must have length between 2 and 1224", *in.ExternalId)
	}
	src := ""
	if in.SourceIdentity != nil {
		src = *in.SourceIdentity
		if len(src) < 2 || len(src) > 64 || !sessionNameRe.MatchString(src) || strings.HasPrefix(strings.ToLower(src), "aws:") {
			return nil, validation("1 validation error detected: Value '%s' at 'sourceIdentity' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", src)
		}
	}
	if p.Session != nil && p.Session.SourceIdentity != "" {
		if src != "" && src != p.Session.SourceIdentity {
			return nil, accessDenied("User: %s is not authorized to perform: sts:SetSourceIdentity on resource: %s", p.ARN, in.RoleArn)
		}
		src = p.Session.SourceIdentity // a source identity persists through role chaining
	}
	now := c.Now.Truncate(time.Second)
	ss := &session{account: role.AccountID, kind: kindRole, issuerName: role.Name, issuerID: role.ID, issuerARN: role.ARN,
		sessionName: in.RoleSessionName, policy: sessPolicy, sourceIdentity: src, mfa: p.MFA,
		created: now, expires: now.Add(time.Duration(dur) * time.Second)}
	creds, err := s.insert(ctx, c.Tx, ss)
	if err != nil {
		return nil, err
	}
	out := &AssumeRoleOutput{
		Credentials: Credentials{AccessKeyId: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey,
			SessionToken: ss.token, Expiration: protocol.NewTime(ss.expires)},
		AssumedRoleUser: AssumedRoleUser{AssumedRoleId: role.ID + ":" + in.RoleSessionName,
			Arn: SessionARN(role.AccountID, role.Name, in.RoleSessionName)},
		SourceIdentity: src,
	}
	if packed >= 0 {
		out.PackedPolicySize = &packed
	}
	return out, nil
}

func checkSessionName(name string) error {
	switch {
	case len(name) < 2:
		return validation("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2", name)
	case len(name) > 64:
		return validation("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64", name)
	case !sessionNameRe.MatchString(name):
		return validation("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", name)
	}
	return nil
}

// checkSessionPolicy validates an inline session policy and returns it
// with its packed size as the percentage of the limit AWS reports (-1 when
// there is none).
func checkSessionPolicy(doc *string) (string, int32, error) {
	if doc == nil || *doc == "" {
		return "", -1, nil
	}
	n := policy.NonWhitespaceLen(*doc)
	if n > policy.MaxSessionPolicySize {
		return "", 0, awserr.New(http.StatusBadRequest, "PackedPolicyTooLarge",
			"Packed size of consumed policies exceeds 100%% of allowed value.")
	}
	if _, err := policy.Parse(*doc, policy.Identity); err != nil {
		return "", 0, awserr.New(http.StatusBadRequest, "MalformedPolicyDocument", "%s", err.Error())
	}
	return *doc, int32(n * 100 / policy.MaxSessionPolicySize), nil
}

// GetSessionTokenInput is GetSessionToken's input.
type GetSessionTokenInput struct {
	DurationSeconds *int32
	SerialNumber    *string
	TokenCode       *string
}

// GetSessionTokenOutput is GetSessionToken's result.
type GetSessionTokenOutput struct {
	Credentials Credentials `xml:"Credentials"`
}

func (s *Service) getSessionToken(ctx context.Context, c *catalog.Call, in *GetSessionTokenInput) (*GetSessionTokenOutput, error) {
	p := c.Principal
	if p.Session != nil || (p.Type != identity.TypeIAMUser && p.Type != identity.TypeRoot) {
		return nil, accessDenied("Cannot call GetSessionToken with session credentials")
	}
	if in.TokenCode != nil || in.SerialNumber != nil {
		return nil, accessDenied("MultiFactorAuthentication failed, unable to validate MFA code. lextrail has no MFA devices.")
	}
	dur, max := int64(DefaultSessionTokenDur), int64(MaxSessionTokenDuration)
	if p.IsRoot() {
		dur, max = RootSessionTokenMax, RootSessionTokenMax
	}
	if in.DurationSeconds != nil {
		dur = int64(*in.DurationSeconds)
		if dur < MinDuration || dur > MaxSessionTokenDuration {
			return nil, validation("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value between %d and %d", dur, MinDuration, MaxSessionTokenDuration)
		}
		if dur > max {
			dur = max // AWS caps root sessions at one hour silently
		}
	}
	now := c.Now.Truncate(time.Second)
	ss := &session{account: p.AccountID, kind: kindUser, issuerName: p.UserName, issuerID: p.UserID, issuerARN: p.ARN,
		created: now, expires: now.Add(time.Duration(dur) * time.Second)}
	if p.IsRoot() {
		ss.kind, ss.issuerName = kindRoot, ""
	}
	creds, err := s.insert(ctx, c.Tx, ss)
	if err != nil {
		return nil, err
	}
	return &GetSessionTokenOutput{Credentials: Credentials{AccessKeyId: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey,
		SessionToken: ss.token, Expiration: protocol.NewTime(ss.expires)}}, nil
}
