// Package authz owns the authorization decision made before every operation
// runs: may this principal perform this action on these resources? The
// gateway calls an Authorizer. Authorizer (iam.go) is the real one: it
// evaluates the caller's identity policies (from a PolicySource, cached
// compiled), the session policy of temporary credentials and resource
// policies (from ResourcePolicySources registered per service prefix) with
// internal/policy's Decide, with the global condition keys of the call.
// RootOnly is the account boundary alone (root does everything in its own
// account, nobody else anything), kept for tests of other layers.
//
// authz does not store policies or know IAM's tables; it must not import
// service packages.
package authz

import (
	"context"
	"fmt"
	"strings"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/policy"
)

// RootOnly lets an account's root user do everything in its own account and
// nothing in another; every other principal is denied.
type RootOnly struct{}

// Authorize implements the gateway's authorizer.
func (RootOnly) Authorize(_ context.Context, c *catalog.Call, action string, resources []catalog.Resource) error {
	if c.Op.NoAuthz {
		return nil
	}
	if !c.Principal.IsRoot() {
		return Denied(c, action, resources, "no identity-based policy allows the "+action+" action")
	}
	for _, r := range resources {
		if acct := ResourceAccount(r); acct != "" && acct != c.Principal.AccountID {
			return Denied(c, action, resources, "the resource belongs to another account")
		}
	}
	return nil
}

// ResourceAccount is the account that owns a resource: its AccountID, else
// the account field of its ARN (empty for ARNs without one, such as S3
// buckets).
func ResourceAccount(r catalog.Resource) string {
	if r.AccountID != "" {
		return r.AccountID
	}
	// arn:partition:service:region:account:resource
	s := r.ARN
	for i := 0; i < 4; i++ {
		j := strings.IndexByte(s, ':')
		if j < 0 {
			return ""
		}
		s = s[j+1:]
	}
	if j := strings.IndexByte(s, ':'); j >= 0 {
		return s[:j]
	}
	return ""
}

// Denied builds the service's access-denied error with AWS's message form:
// "User: <arn> is not authorized to perform: <action> on resource: <arn>
// because <reason>".
func Denied(c *catalog.Call, action string, resources []catalog.Resource, reason string) *awserr.Error {
	svc := c.Op.Service()
	res := "*"
	if len(resources) > 0 {
		res = resources[0].ARN
	}
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", c.Principal.ARN, action, res)
	if reason != "" {
		msg += " because " + reason
	}
	return &awserr.Error{Code: svc.AccessDeniedCode, Status: svc.AccessDeniedStatus, Message: msg}
}

// DeniedBy builds the service's access-denied error for a policy decision,
// in AWS's two message forms: "User: <arn> is not authorized to perform:
// <action> on resource: <arn> because no identity-based policy allows the
// <action> action" for implicit denials and "... on resource: <arn> with an
// explicit deny in an identity-based policy" for explicit ones.
func DeniedBy(c *catalog.Call, action, resource string, d policy.Decision) *awserr.Error {
	var svc *catalog.Service
	if c.Op != nil {
		svc = c.Op.Service()
	}
	if resource == "" {
		resource = "*"
	}
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", c.Principal.ARN, action, resource)
	switch {
	case d.ExplicitDeny:
		msg += " with " + d.Reason
	case d.Reason != "":
		msg += " because " + d.Reason
	}
	code, status := "AccessDenied", 403
	if svc != nil {
		code, status = svc.AccessDeniedCode, svc.AccessDeniedStatus
	}
	return &awserr.Error{Code: code, Status: status, Message: msg}
}
