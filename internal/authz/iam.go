package authz

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/identity"
	"lextrail/internal/policy"
)

// Kinds of principals whose identity policies PolicySource returns.
const (
	KindUser = "user"
	KindRole = "role"
)

// PolicySource returns the identity policy documents attached to an IAM
// user or role (internal/services/iam implements it). A user or role that
// does not exist has none.
type PolicySource interface {
	InlinePolicies(ctx context.Context, accountID, kind, name string) ([]string, error)
}

// ResourcePolicy is a resource's policy as a ResourcePolicySource reports
// it.
type ResourcePolicy struct {
	// Document is the policy JSON; "" when the resource has none.
	Document string
	// Kind is policy.Resource (default) or policy.Trust.
	Kind policy.Kind
	// Owner is the account owning the resource; "" takes the resource's
	// AccountID / ARN account.
	Owner string
	// RequireAllow says the policy must allow even in the owner's account
	// (role trust policies, KMS key policies).
	RequireAllow bool
}

// ResourcePolicySource returns the policy of a resource (bucket, topic, key
// policy, a role's trust policy). It returns nil, nil for a resource
// without a policy. Sources are registered per IAM service prefix (the part
// of the action before ':', "sts", "s3", "sns", "kms").
type ResourcePolicySource interface {
	ResourcePolicy(ctx context.Context, c *catalog.Call, r catalog.Resource) (*ResourcePolicy, error)
}

// ResourcePolicyFunc adapts a function to ResourcePolicySource.
type ResourcePolicyFunc func(ctx context.Context, c *catalog.Call, r catalog.Resource) (*ResourcePolicy, error)

// ResourcePolicy implements ResourcePolicySource.
func (f ResourcePolicyFunc) ResourcePolicy(ctx context.Context, c *catalog.Call, r catalog.Resource) (*ResourcePolicy, error) {
	return f(ctx, c, r)
}

// Config configures an Authorizer.
type Config struct {
	// Policies supplies identity policies. Required before the first
	// request (SetPolicies may set it after New).
	Policies PolicySource
	// CacheTTL bounds how long compiled identity policies are reused before
	// they are read again (changes made on this node invalidate at once;
	// the TTL bounds staleness of changes made by other nodes). Default
	// 2s; negative disables caching.
	CacheTTL time.Duration
	// Now is the cache's clock. Default time.Now.
	Now func() time.Time
}

// Authorizer is the IAM authorizer the gateway calls before every
// operation: it evaluates the caller's identity policies (user or role
// inline policies), the session policy of temporary credentials and the
// resource's policy with policy.Decide.
type Authorizer struct {
	cfg   Config
	parse *policy.Cache

	mu      sync.RWMutex
	sources map[string]ResourcePolicySource
	ids     map[principalKey]*idEntry
	gen     uint64 // bumped by every Invalidate
}

type principalKey struct{ account, kind, name string }

type idEntry struct {
	pols   []*policy.Policy
	loaded time.Time
}

// New returns an Authorizer.
func New(cfg Config) *Authorizer {
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = 2 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Authorizer{cfg: cfg, parse: policy.NewCache(10_000), sources: map[string]ResourcePolicySource{}, ids: map[principalKey]*idEntry{}}
}

// SetPolicies sets the identity-policy source.
func (a *Authorizer) SetPolicies(p PolicySource) {
	a.mu.Lock()
	a.cfg.Policies = p
	a.mu.Unlock()
}

// RegisterResourcePolicies makes src answer for the resources of actions
// with the given service prefix ("sts", "s3", "sns", "kms").
func (a *Authorizer) RegisterResourcePolicies(servicePrefix string, src ResourcePolicySource) {
	a.mu.Lock()
	a.sources[strings.ToLower(servicePrefix)] = src
	a.mu.Unlock()
}

// Invalidate drops the cached policies of a user or role (call it after the
// commit that changed them).
func (a *Authorizer) Invalidate(accountID, kind, name string) {
	a.mu.Lock()
	delete(a.ids, principalKey{accountID, kind, strings.ToLower(name)})
	a.gen++
	a.mu.Unlock()
}

// Authorize implements the gateway's Authorizer: operations marked NoAuthz
// pass, every other call needs an allow for action on each resource.
func (a *Authorizer) Authorize(ctx context.Context, c *catalog.Call, action string, resources []catalog.Resource) error {
	if c.Op != nil && c.Op.NoAuthz {
		return nil
	}
	return a.Check(ctx, c, action, resources, nil)
}

// Check decides whether the call's principal may perform action on every
// resource (none means "*" in the caller's account), with extra condition
// keys beside the call's. It ignores NoAuthz: services that authorize
// inside their handlers call it. It returns the service's AccessDenied.
func (a *Authorizer) Check(ctx context.Context, c *catalog.Call, action string, resources []catalog.Resource, extra map[string][]string) error {
	keys, derive := requestKeys(c, extra)
	for _, r := range resourcesOrStar(c, resources) {
		d, err := a.decide(ctx, c, action, r, keys, derive)
		if err != nil {
			return err
		}
		if !d.Allowed {
			return DeniedBy(c, action, deniedName(r), d)
		}
	}
	return nil
}

// deniedName is how an AccessDenied message names r.
func deniedName(r catalog.Resource) string {
	if r.DeniedName != "" {
		return r.DeniedName
	}
	return r.ARN
}

func resourcesOrStar(c *catalog.Call, resources []catalog.Resource) []catalog.Resource {
	if len(resources) == 0 {
		return []catalog.Resource{{ARN: "*", AccountID: c.Principal.AccountID}}
	}
	return resources
}

// Decide evaluates one (action, resource) for the call's principal.
func (a *Authorizer) Decide(ctx context.Context, c *catalog.Call, action string, r catalog.Resource, extra map[string][]string) (policy.Decision, error) {
	keys, derive := requestKeys(c, extra)
	return a.decide(ctx, c, action, r, keys, derive)
}

func (a *Authorizer) decide(ctx context.Context, c *catalog.Call, action string, r catalog.Resource, keys map[string][]string, derive func(string) []string) (policy.Decision, error) {
	p := c.Principal
	ident, err := a.identityPolicies(ctx, p)
	if err != nil {
		return policy.Decision{}, awserr.Internal(err)
	}
	in := policy.Input{
		Request: &policy.Request{Action: action, Resource: r.ARN, Principal: PolicyPrincipal(p),
			Context: keys, Keys: derive},
		CallerAccount: p.AccountID,
		Identity:      ident,
		IsRoot:        p.IsRoot(),
		Session:       a.sessionPolicies(p),
	}
	if r.ARN != "*" {
		in.ResourceAccount = ResourceAccount(r)
	}
	if src := a.source(action); src != nil && r.ARN != "*" {
		rp, err := src.ResourcePolicy(ctx, c, r)
		if err != nil {
			return policy.Decision{}, err
		}
		if rp != nil {
			if rp.Owner != "" {
				in.ResourceAccount = rp.Owner
			}
			in.RequireResourceAllow = rp.RequireAllow
			if rp.Document != "" {
				kind := rp.Kind
				if kind == 0 {
					kind = policy.Resource
				}
				pol, err := a.parse.Parse(rp.Document, kind)
				if err != nil {
					return policy.Decision{}, awserr.Internal(err)
				}
				in.ResourcePolicy = pol
			}
		}
	}
	return policy.Decide(in), nil
}

func (a *Authorizer) source(action string) ResourcePolicySource {
	i := strings.IndexByte(action, ':')
	if i < 0 {
		return nil
	}
	a.mu.RLock()
	src := a.sources[strings.ToLower(action[:i])]
	a.mu.RUnlock()
	return src
}

// identityPolicies returns the caller's compiled identity policies.
func (a *Authorizer) identityPolicies(ctx context.Context, p *identity.Principal) ([]*policy.Policy, error) {
	var k principalKey
	switch p.Type {
	case identity.TypeIAMUser:
		k = principalKey{p.AccountID, KindUser, strings.ToLower(p.UserName)}
	case identity.TypeAssumedRole:
		if p.Session == nil {
			return nil, nil
		}
		acct := p.Session.IssuerAccountID
		if acct == "" {
			acct = p.AccountID
		}
		k = principalKey{acct, KindRole, strings.ToLower(p.Session.IssuerUserName)}
	default:
		return nil, nil
	}
	now := a.cfg.Now()
	a.mu.RLock()
	e := a.ids[k]
	gen := a.gen
	src := a.cfg.Policies
	a.mu.RUnlock()
	if e != nil && a.cfg.CacheTTL > 0 && now.Sub(e.loaded) < a.cfg.CacheTTL && !now.Before(e.loaded) {
		return e.pols, nil
	}
	if src == nil {
		return nil, nil
	}
	docs, err := src.InlinePolicies(ctx, k.account, k.kind, k.name)
	if err != nil {
		return nil, err
	}
	pols := make([]*policy.Policy, 0, len(docs))
	for _, d := range docs {
		pol, err := a.parse.Parse(d, policy.Identity)
		if err != nil {
			continue // validated at write time; a bad stored document grants nothing
		}
		pols = append(pols, pol)
	}
	if a.cfg.CacheTTL > 0 {
		a.mu.Lock()
		if a.gen == gen { // no invalidation raced with the read
			if len(a.ids) > 100_000 {
				a.ids = map[principalKey]*idEntry{}
			}
			a.ids[k] = &idEntry{pols: pols, loaded: now}
		}
		a.mu.Unlock()
	}
	return pols, nil
}

// sessionPolicies returns the session policies of temporary credentials
// (nil when the session has none).
func (a *Authorizer) sessionPolicies(p *identity.Principal) []*policy.Policy {
	if p.Session == nil || p.Session.Policy == "" {
		return nil
	}
	pol, err := a.parse.Parse(p.Session.Policy, policy.Identity)
	if err != nil {
		return []*policy.Policy{} // validated at AssumeRole; unusable means nothing allowed
	}
	return []*policy.Policy{pol}
}

// PassRole checks that the caller may pass roleARN to the service
// toService ("lex.amazonaws.com"): iam:PassRole on the role with
// iam:PassedToService set. Services call it when a request hands them a
// role (conversation logs' iamRoleArn). It returns the calling service's
// AccessDenied.
func (a *Authorizer) PassRole(ctx context.Context, c *catalog.Call, roleARN, toService string) error {
	acct := ""
	if parts := strings.SplitN(roleARN, ":", 6); len(parts) == 6 {
		acct = parts[4]
	}
	return a.Check(ctx, c, "iam:PassRole", []catalog.Resource{{ARN: roleARN, AccountID: acct, Type: "AWS::IAM::Role"}},
		map[string][]string{"iam:passedtoservice": {toService}})
}

// IdentityOnly is the identity side of authorization for services that
// authorize inside their handlers and combine it with a resource policy of
// their own (S3 bucket policies): Authorize evaluates the caller's identity
// and session policies only (no resource policies) and ignores NoAuthz.
type IdentityOnly struct{ a *Authorizer }

// IdentityOnly returns the identity-side view of a.
func (a *Authorizer) IdentityOnly() IdentityOnly { return IdentityOnly{a} }

// Authorize allows when the caller's identity (and session) policies allow
// action on every resource in the caller's own account.
func (v IdentityOnly) Authorize(ctx context.Context, c *catalog.Call, action string, resources []catalog.Resource) error {
	p := c.Principal
	ident, err := v.a.identityPolicies(ctx, p)
	if err != nil {
		return awserr.Internal(err)
	}
	keys, derive := requestKeys(c, nil)
	for _, r := range resourcesOrStar(c, resources) {
		d := policy.Decide(policy.Input{
			Request: &policy.Request{Action: action, Resource: r.ARN, Principal: PolicyPrincipal(p),
				Context: keys, Keys: derive},
			CallerAccount: p.AccountID,
			Identity:      ident,
			IsRoot:        p.IsRoot(),
			Session:       v.a.sessionPolicies(p),
		})
		if !d.Allowed {
			return DeniedBy(c, action, deniedName(r), d)
		}
	}
	return nil
}

// PolicyPrincipal is the policy-language view of a principal.
func PolicyPrincipal(p *identity.Principal) *policy.Principal {
	if p.Type == identity.TypeAWSService {
		return &policy.Principal{Service: p.InvokedBy}
	}
	pp := &policy.Principal{AccountID: p.AccountID, ARN: p.ARN, IsRoot: p.IsRoot()}
	if p.Type == identity.TypeAssumedRole && p.Session != nil {
		pp.RoleARN = p.Session.IssuerARN
	}
	return pp
}

// PrincipalType is aws:PrincipalType's value for a principal.
func PrincipalType(p *identity.Principal) string {
	switch p.Type {
	case identity.TypeRoot:
		return "Account"
	case identity.TypeIAMUser:
		return "User"
	case identity.TypeAssumedRole:
		return "AssumedRole"
	}
	return p.Type
}

// globalKeys are the global condition keys the authorizer derives from a
// call (lower-cased), in the order RequestContext lists them.
var globalKeys = []string{
	"aws:principalarn", "aws:principalaccount", "aws:principaltype", "aws:userid", "aws:username",
	"aws:multifactorauthpresent", "aws:tokenissuetime", "aws:currenttime", "aws:epochtime",
	"aws:securetransport", "aws:requestedregion", "aws:sourceip",
}

// globalKey returns the value of one global condition key of the call (nil
// when the call has none):
// aws:PrincipalArn (the role ARN for role sessions), aws:PrincipalAccount,
// aws:PrincipalType, aws:userid, aws:username (IAM users),
// aws:MultiFactorAuthPresent and aws:TokenIssueTime (temporary credentials
// only, as AWS), aws:CurrentTime, aws:EpochTime, aws:SecureTransport,
// aws:RequestedRegion, aws:SourceIp. Service principals have only the
// time, transport, region and address keys.
func globalKey(c *catalog.Call, name string) []string {
	p := c.Principal
	person := p.Type != identity.TypeAWSService
	one := func(v string) []string {
		if v == "" {
			return nil
		}
		return []string{v}
	}
	switch name {
	case "aws:principalarn":
		if !person {
			return nil
		}
		if p.Type == identity.TypeAssumedRole && p.Session != nil && p.Session.IssuerARN != "" {
			return one(p.Session.IssuerARN)
		}
		return one(p.ARN)
	case "aws:principalaccount":
		if person {
			return one(p.AccountID)
		}
	case "aws:principaltype":
		if person {
			return one(PrincipalType(p))
		}
	case "aws:userid":
		if person {
			return one(p.UserID)
		}
	case "aws:username":
		if person && p.Type == identity.TypeIAMUser {
			return one(p.UserName)
		}
	case "aws:multifactorauthpresent":
		if person && p.Session != nil {
			return one(strconv.FormatBool(p.MFA))
		}
	case "aws:tokenissuetime":
		if person && p.Session != nil && !p.Session.CreationDate.IsZero() {
			return one(p.Session.CreationDate.UTC().Format(time.RFC3339))
		}
	case "aws:currenttime":
		return one(c.Now.UTC().Format(time.RFC3339))
	case "aws:epochtime":
		return one(strconv.FormatInt(c.Now.Unix(), 10))
	case "aws:securetransport":
		return one(strconv.FormatBool(c.Request != nil && c.Request.TLS != nil))
	case "aws:requestedregion":
		return one(c.Region)
	case "aws:sourceip":
		return one(c.SourceIP)
	}
	return nil
}

// requestKeys returns a call's condition keys as policy.Request wants
// them: the call's ConditionKeys and extra (which override) in a map, nil
// when there are none, and the global keys derived on demand (only the
// keys a policy refers to are computed).
func requestKeys(c *catalog.Call, extra map[string][]string) (map[string][]string, func(string) []string) {
	var m map[string][]string
	if n := len(c.ConditionKeys) + len(extra); n > 0 {
		m = make(map[string][]string, n)
		for k, v := range c.ConditionKeys {
			m[strings.ToLower(k)] = v
		}
		for k, v := range extra {
			m[strings.ToLower(k)] = v
		}
	}
	return m, func(name string) []string { return globalKey(c, name) }
}

// RequestContext returns every condition key of a call in one map
// (lower-cased names): the global keys globalKey derives, then the call's
// ConditionKeys and extra (which override).
func RequestContext(c *catalog.Call, extra map[string][]string) map[string][]string {
	m := make(map[string][]string, len(globalKeys)+len(c.ConditionKeys)+len(extra))
	for _, k := range globalKeys {
		if v := globalKey(c, k); v != nil {
			m[k] = v
		}
	}
	for k, v := range c.ConditionKeys {
		m[strings.ToLower(k)] = v
	}
	for k, v := range extra {
		m[strings.ToLower(k)] = v
	}
	return m
}
