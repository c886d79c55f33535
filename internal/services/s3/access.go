package s3

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"strings"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/identity"
	"lextrail/internal/policy"
	"lextrail/internal/store"
)

// bucket is a row of s3_buckets.
type bucket struct {
	Name       string
	AccountID  string
	Region     string
	CreatedMS  int64
	Policy     string
	Encryption string
}

func errNoSuchBucket(name string) *awserr.Error {
	return awserr.New(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist").With("BucketName", name)
}

type querier interface {
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

func loadBucket(ctx context.Context, q querier, name string) (*bucket, error) {
	var b bucket
	err := q.QueryRow(ctx, `SELECT name, account_id, region, created_ms, policy, encryption FROM s3_buckets WHERE name = $1`, name).
		Scan(&b.Name, &b.AccountID, &b.Region, &b.CreatedMS, &b.Policy, &b.Encryption)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoSuchBucket(name)
	}
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// bucket loads a bucket in the call's transaction, or in a read
// transaction of its own for NoTx operations.
func (s *Service) bucket(ctx context.Context, c *catalog.Call, name string) (*bucket, error) {
	if c != nil && c.Tx != nil {
		return loadBucket(ctx, c.Tx, name)
	}
	var b *bucket
	err := s.db.Read(ctx, func(tx *store.Tx) error {
		var err error
		b, err = loadBucket(ctx, tx, name)
		return err
	})
	return b, err
}

var allowAll = func() *policy.Policy {
	p, err := policy.Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, policy.Identity)
	if err != nil {
		panic(err)
	}
	return p
}()

// accessDenied is S3's AccessDenied.
func accessDenied() *awserr.Error {
	return awserr.New(http.StatusForbidden, "AccessDenied", "Access Denied")
}

// callerContext returns the global condition keys of a call.
func callerContext(c *catalog.Call) map[string][]string {
	p := c.Principal
	ctx := map[string][]string{
		"aws:principalarn":     {p.ARN},
		"aws:principalaccount": {p.AccountID},
		"aws:userid":           {p.UserID},
		"aws:currenttime":      {c.Now.UTC().Format("2006-01-02T15:04:05Z")},
		"aws:securetransport":  {boolStr(c.Request != nil && c.Request.TLS != nil)},
		"aws:requestedregion":  {c.Region},
		"aws:sourceip":         {c.SourceIP},
	}
	if p.UserName != "" {
		ctx["aws:username"] = []string{p.UserName}
	}
	if p.Session != nil {
		ctx["aws:principalarn"] = []string{p.Session.IssuerARN}
	}
	if c.Request != nil {
		if acl := c.Request.Header.Get("x-amz-acl"); acl != "" {
			ctx["s3:x-amz-acl"] = []string{acl}
		}
		if sse := c.Request.Header.Get("x-amz-server-side-encryption"); sse != "" {
			ctx["s3:x-amz-server-side-encryption"] = []string{sse}
		}
	}
	return ctx
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func policyPrincipal(p *identity.Principal) *policy.Principal {
	pp := &policy.Principal{AccountID: p.AccountID, ARN: p.ARN, IsRoot: p.IsRoot()}
	if p.Session != nil {
		pp.RoleARN = p.Session.IssuerARN
	}
	return pp
}

// authorize decides whether the call's principal may perform action on
// resource (an S3 ARN) in bucket b: the identity side from
// Config.Identity (root needs none), the resource side from the bucket
// policy, combined by policy.Decide.
func (s *Service) authorize(ctx context.Context, c *catalog.Call, b *bucket, action, resource string, extra map[string][]string) error {
	var pol *policy.Policy
	if b != nil && b.Policy != "" {
		var err error
		if pol, err = policy.Parse(b.Policy, policy.Resource); err != nil {
			return awserr.Internal(err)
		}
	}
	owner := c.Principal.AccountID
	if b != nil {
		owner = b.AccountID
	}
	var ident []*policy.Policy
	if !c.Principal.IsRoot() {
		// The identity side is asked for the caller's own account: a
		// cross-account grant comes only from the bucket policy.
		res := []catalog.Resource{{ARN: resource, AccountID: c.Principal.AccountID}}
		if s.cfg.Identity != nil && s.cfg.Identity.Authorize(ctx, c, action, res) == nil {
			ident = []*policy.Policy{allowAll}
		}
	}
	rctx := callerContext(c)
	for k, v := range extra {
		rctx[k] = v
	}
	d := policy.Decide(policy.Input{
		Request:         &policy.Request{Action: action, Resource: resource, Principal: policyPrincipal(c.Principal), Context: rctx},
		CallerAccount:   c.Principal.AccountID,
		ResourceAccount: owner,
		Identity:        ident,
		IsRoot:          c.Principal.IsRoot(),
		ResourcePolicy:  pol,
	})
	if !d.Allowed {
		return accessDenied()
	}
	return nil
}

// Authorize is the resource-policy check for lextrail's own deliveries:
// may principal (typically {Service: "cloudtrail.amazonaws.com"}) perform
// action ("s3:PutObject", "s3:GetBucketAcl") on bucket/key (key "" for
// the bucket itself) given the condition keys (lower-cased names, e.g.
// "aws:sourcearn", "aws:sourceaccount", "s3:x-amz-acl")? Service
// principals are decided by the bucket policy alone. It returns
// NoSuchBucket or AccessDenied as *awserr.Error.
func (s *Service) Authorize(ctx context.Context, bucketName, key, action string, principal *policy.Principal, conditionKeys map[string][]string) error {
	b, err := s.bucket(ctx, nil, bucketName)
	if err != nil {
		return err
	}
	resource := "arn:aws:s3:::" + bucketName
	if key != "" {
		resource += "/" + key
	}
	var pol *policy.Policy
	if b.Policy != "" {
		if pol, err = policy.Parse(b.Policy, policy.Resource); err != nil {
			return awserr.Internal(err)
		}
	}
	rctx := map[string][]string{}
	for k, v := range conditionKeys {
		rctx[strings.ToLower(k)] = v
	}
	caller := principal.AccountID
	d := policy.Decide(policy.Input{
		Request:         &policy.Request{Action: action, Resource: resource, Principal: principal, Context: rctx},
		CallerAccount:   caller,
		ResourceAccount: b.AccountID,
		IsRoot:          principal.IsRoot,
		ResourcePolicy:  pol,
	})
	if !d.Allowed {
		return accessDenied()
	}
	return nil
}
