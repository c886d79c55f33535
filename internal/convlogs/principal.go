package convlogs

import (
	"context"
	"sync"
	"time"

	"lextrail/internal/identity"
	"lextrail/internal/services/sts"
)

// lexPrincipal is the Lex service acting for an account.
func lexPrincipal(account string) *identity.Principal {
	return &identity.Principal{Type: identity.TypeAWSService, InvokedBy: LexService, AccountID: account}
}

// sessionCache keeps the role sessions the worker assumed, per role and
// alias (the session's aws:SourceArn), until five minutes before they
// expire, as a service reuses its credentials.
type sessionCache struct {
	s  *Service
	mu sync.Mutex
	m  map[sessionKey]*identity.Principal
}

type sessionKey struct{ role, source string }

func newSessionCache(s *Service) *sessionCache {
	return &sessionCache{s: s, m: map[sessionKey]*identity.Principal{}}
}

// get returns a session of role assumed as lex.amazonaws.com for source
// (the bot alias ARN) in account and region.
func (c *sessionCache) get(ctx context.Context, role, source, account, region string) (*identity.Principal, error) {
	k := sessionKey{role, source}
	now := c.s.cfg.Now()
	c.mu.Lock()
	p := c.m[k]
	c.mu.Unlock()
	if p != nil && p.Session != nil && now.Before(p.Session.Expiration.Add(-5*time.Minute)) {
		return p, nil
	}
	p, err := c.s.deps.Sessions.AssumeRoleAsService(ctx, sts.ServiceAssumeInput{RoleARN: role, Service: LexService,
		SessionName: c.s.cfg.SessionName, Region: region, SourceAccount: account, SourceArn: source})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) > 10_000 {
		c.m = map[sessionKey]*identity.Principal{}
	}
	c.m[k] = p
	c.mu.Unlock()
	return p, nil
}
