// Package sts serves the AWS Security Token Service subset lextrail
// supports (query protocol, API version 2011-06-15, signing name "sts").
// It declares its operations in the catalog; credential storage is
// internal/accounts'.
package sts

import (
	"context"

	"lextrail/internal/catalog"
)

// Namespace is the xmlns of STS responses.
const Namespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// Service is the STS service.
type Service struct{}

// New returns the STS service.
func New() *Service { return &Service{} }

// Catalog declares STS's operations.
func (s *Service) Catalog() *catalog.Service {
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
			// when a policy denies it explicitly.
			catalog.Define(catalog.Operation{Name: "GetCallerIdentity", ReadOnly: true, Audited: true, NoAuthz: true}, s.getCallerIdentity),
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
