package sts

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/identity"
	"lextrail/internal/protocol"
	"lextrail/internal/services/iam"
	"lextrail/internal/store"
)

// Authorizer decides whether a call's principal may perform an action
// (authz.Authorizer implements it); for sts:AssumeRole the role's trust
// policy is the resource policy.
type Authorizer interface {
	Check(ctx context.Context, c *catalog.Call, action string, resources []catalog.Resource, extra map[string][]string) error
}

// Auditor records CloudTrail events (audit.Recorder implements it).
type Auditor interface {
	Success(ctx context.Context, tx *store.Tx, c *catalog.Call, in, out any) error
	Failure(ctx context.Context, c *catalog.Call, in any, err *awserr.Error) error
}

// ServiceAssumeInput is a role an AWS service assumes for itself.
type ServiceAssumeInput struct {
	// RoleARN is the role to assume. Required.
	RoleARN string
	// Service is the service principal assuming it ("lex.amazonaws.com").
	// Required.
	Service string
	// SessionName is the role session name (2–64 of [\w+=,.@-]). Required.
	SessionName string
	// Region is where the service acts (the event's awsRegion is
	// us-east-1, STS being global).
	Region string
	// SourceAccount and SourceArn are the aws:SourceAccount and
	// aws:SourceArn condition keys the trust policy may test (the account
	// and resource the service acts for, such as a bot alias).
	SourceAccount, SourceArn string
	// Duration of the session. Default one hour.
	Duration time.Duration
}

// AssumeRoleAsService issues a session of in.RoleARN to an AWS service, as
// AWS services assume the roles customers hand them: the role's trust
// policy must allow the service principal sts:AssumeRole (with the source
// condition keys); its identity and session policies then decide what the
// session may do. The session is stored like an AssumeRole session (its
// access key resolves to the same principal) and the call is recorded in
// CloudTrail as AWS records service-assumed roles: userIdentity
// {"type":"AWSService","invokedBy":service}, sourceIPAddress and
// userAgent the service, in the role's account. The returned principal
// has InvokedBy set to the service. A refusal is AccessDenied; a missing
// role is AccessDenied too (as AssumeRole answers).
func (s *Service) AssumeRoleAsService(ctx context.Context, in ServiceAssumeInput) (*identity.Principal, error) {
	if s.cfg.Authorizer == nil || s.cfg.DB == nil || s.cfg.Accounts == nil || s.cfg.Roles == nil {
		return nil, awserr.Internal(errors.New("sts: AssumeRoleAsService needs DB, Accounts, Roles and Authorizer"))
	}
	if err := checkSessionName(in.SessionName); err != nil {
		return nil, err
	}
	acct, _, ok := iam.ParseRoleARN(in.RoleARN)
	if !ok {
		return nil, validation("%s is invalid", in.RoleARN)
	}
	dur := in.Duration
	if dur <= 0 {
		dur = DefaultRoleDuration * time.Second
	}
	now := s.cfg.Now()
	p := &identity.Principal{Type: identity.TypeAWSService, InvokedBy: in.Service, AccountID: acct}
	keys := map[string][]string{"sts:rolesessionname": {in.SessionName}}
	if in.SourceAccount != "" {
		keys["aws:sourceaccount"] = []string{in.SourceAccount}
	}
	if in.SourceArn != "" {
		keys["aws:sourcearn"] = []string{in.SourceArn}
	}
	c := &catalog.Call{RequestID: uuid.NewString(), Op: s.cat.Op("AssumeRole"), Region: in.Region, Principal: p, Now: now,
		SourceIP: in.Service, UserAgent: in.Service, ConditionKeys: keys}
	secs := int32(dur / time.Second)
	req := &AssumeRoleInput{RoleArn: in.RoleARN, RoleSessionName: in.SessionName, DurationSeconds: &secs}
	res := []catalog.Resource{{ARN: in.RoleARN, AccountID: acct, Type: "AWS::IAM::Role"}}
	fail := func(err error) (*identity.Principal, error) {
		if s.cfg.Auditor != nil {
			var ae *awserr.Error
			if errors.As(err, &ae) {
				_ = s.cfg.Auditor.Failure(ctx, c, req, ae)
			}
		}
		return nil, err
	}
	if err := s.cfg.Authorizer.Check(ctx, c, "sts:AssumeRole", res, nil); err != nil {
		return fail(err)
	}
	var out *identity.Principal
	err := s.cfg.DB.Write(ctx, func(tx *store.Tx) error {
		role, err := s.cfg.Roles.RoleByARN(ctx, tx, in.RoleARN)
		if err != nil {
			return accessDenied("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", in.Service, in.RoleARN)
		}
		if int64(secs) > role.MaxSessionDuration {
			return validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
		}
		created := now.Truncate(time.Second)
		ss := &session{account: role.AccountID, kind: kindRole, issuerName: role.Name, issuerID: role.ID, issuerARN: role.ARN,
			sessionName: in.SessionName, created: created, expires: created.Add(dur)}
		creds, err := s.insert(ctx, tx, ss)
		if err != nil {
			return err
		}
		out = ss.principal()
		out.InvokedBy = in.Service
		if s.cfg.Auditor != nil {
			resp := &AssumeRoleOutput{
				Credentials: Credentials{AccessKeyId: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey,
					SessionToken: ss.token, Expiration: protocol.NewTime(ss.expires)},
				AssumedRoleUser: AssumedRoleUser{AssumedRoleId: role.ID + ":" + in.SessionName, Arn: out.ARN},
			}
			return s.cfg.Auditor.Success(ctx, tx, c, req, resp)
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}
