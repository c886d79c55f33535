// Package sts serves the AWS Security Token Service subset lextrail
// supports (query protocol, API version 2011-06-15, signing name "sts"):
// GetCallerIdentity, AssumeRole and GetSessionToken. It owns the
// sts_sessions table and the AssumedRole and SessionToken rows of
// access_keys (credential storage itself is internal/accounts'): session
// keys resolve to principals through the loader it registers, with the
// session token sealed at rest and the expiry enforced by the gateway.
// Roles are internal/services/iam's; the trust-policy decision is made by
// the authorizer through the ResourcePolicy source this package provides
// for "sts" actions.
package sts

import (
	"context"
	"sync/atomic"
	"time"

	"lextrail/internal/accounts"
	"lextrail/internal/catalog"
	"lextrail/internal/services/iam"
	"lextrail/internal/store"
)

// Namespace is the xmlns of STS responses.
const Namespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// Roles looks roles up (internal/services/iam implements it).
type Roles interface {
	RoleByARN(ctx context.Context, tx *store.Tx, arn string) (*iam.RoleInfo, error)
}

// Config configures the service. DB, Accounts and Roles are required for
// AssumeRole and GetSessionToken; GetCallerIdentity needs none.
type Config struct {
	DB       *store.DB
	Accounts *accounts.Store
	Roles    Roles
	// Authorizer decides trust policies for AssumeRoleAsService (the
	// gateway authorizes the API's calls). Required for it.
	Authorizer Authorizer
	// Auditor records AssumeRoleAsService's CloudTrail events. Optional.
	Auditor Auditor
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Service is the STS service.
type Service struct {
	cfg    Config
	cat    *catalog.Service
	issued atomic.Uint64 // sessions issued, for the periodic purge of expired ones
}

// New returns the STS service and registers the AssumedRole and
// SessionToken principal types with the accounts store.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{cfg: cfg}
	s.cat = s.declare()
	if cfg.Accounts != nil {
		cfg.Accounts.RegisterPrincipalType(TypeAssumedRoleKey, s.loadSession)
		cfg.Accounts.RegisterPrincipalType(TypeSessionTokenKey, s.loadSession)
	}
	return s
}

// Catalog declares STS's operations.
func (s *Service) Catalog() *catalog.Service { return s.cat }

func (s *Service) declare() *catalog.Service {
	return catalog.NewService(&catalog.Service{
		Name:             "sts",
		SigningName:      "sts",
		EventSource:      "sts.amazonaws.com",
		Protocol:         catalog.Query,
		APIVersion:       "2011-06-15",
		XMLNamespace:     Namespace,
		Global:           true,
		AccessDeniedCode: "AccessDenied",
		Ops: []*catalog.Operation{
			// GetCallerIdentity needs no permission: AWS answers it even
			// when a policy denies it explicitly. It reads nothing from the
			// database (the principal is the call's), so it opens no
			// transaction.
			catalog.Define(catalog.Operation{Name: "GetCallerIdentity", ReadOnly: true, NoTx: true, Audited: true, NoAuthz: true}, s.getCallerIdentity),
			catalog.Define(catalog.Operation{Name: "AssumeRole", Audited: true, RecordResponse: true, Resources: assumeRoleResources}, s.assumeRole),
			// GetSessionToken needs no permission (AWS: "No permissions are
			// required for users to perform this operation").
			catalog.Define(catalog.Operation{Name: "GetSessionToken", Audited: true, RecordResponse: true, NoAuthz: true}, s.getSessionToken),
		},
	})
}

// GetCallerIdentityInput has no members.
type GetCallerIdentityInput struct{}

// GetCallerIdentityOutput is the result.
type GetCallerIdentityOutput struct {
	UserId  string `xml:"UserId"`
	Account string `xml:"Account"`
	Arn     string `xml:"Arn"`
}

func (s *Service) getCallerIdentity(_ context.Context, c *catalog.Call, _ *GetCallerIdentityInput) (*GetCallerIdentityOutput, error) {
	p := c.Principal
	return &GetCallerIdentityOutput{UserId: p.UserID, Account: p.AccountID, Arn: p.ARN}, nil
}
