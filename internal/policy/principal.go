package policy

import (
	"fmt"
	"strings"
)

// Principal is who makes a request, as matched against Principal and
// NotPrincipal elements of resource and trust policies.
type Principal struct {
	AccountID string // the principal's account ("" for service principals)
	// ARN of the caller: user ARN, account root ARN, assumed-role session ARN
	// (arn:aws:sts::<acct>:assumed-role/<role>/<session>) or federated-user ARN.
	ARN string
	// RoleARN is set for role sessions: the ARN of the assumed role, so that
	// a policy naming the role also matches its sessions.
	RoleARN       string
	Service       string // service principal, e.g. "lex.amazonaws.com"
	Federated     string // identity provider for web-identity/SAML federation
	CanonicalUser string // S3 canonical user ID
	IsRoot        bool   // the account's root user
}

// principalSet is a compiled Principal/NotPrincipal element.
type principalSet struct {
	any       bool
	accounts  []string
	arns      []string
	services  []string
	federated []string
	canonical []string
}

// How a principal matched a statement, weakest first.
type pmatch uint8

const (
	pmNone     pmatch = iota
	pmAccount         // via account ID / root ARN: delegation to the account
	pmWildcard        // via "*" or NotPrincipal
	pmRole            // a role ARN matched a session of the role
	pmExact           // the principal's own ARN, service, IdP or canonical ID
)

func invalidPrincipal(typ, v string) *Error {
	return errorf("Invalid principal in policy: %q:%q", typ, v)
}

func parsePrincipal(v any) (*principalSet, *Error) {
	ps := &principalSet{}
	switch t := v.(type) {
	case string:
		if t != "*" {
			return nil, errorf("Invalid principal in policy: %q", t)
		}
		ps.any = true
		return ps, nil
	case map[string]any:
		if len(t) == 0 {
			return nil, errorf(msgEmptyPrincipal)
		}
		for _, typ := range sortedKeys(t) {
			vals, ok := stringList(t[typ])
			if !ok {
				return nil, errorf("Invalid principal in policy: %q:%s", typ, compactJSON(t[typ]))
			}
			if len(vals) == 0 {
				return nil, errorf("Invalid principal in policy: %q:[]", typ)
			}
			for _, s := range vals {
				if err := ps.add(typ, s); err != nil {
					return nil, err
				}
			}
		}
		return ps, nil
	}
	return nil, errorf(msgSyntax)
}

func compactJSON(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("%q", t)
	}
	return fmt.Sprint(v)
}

func (ps *principalSet) add(typ, s string) *Error {
	switch typ {
	case "AWS":
		switch {
		case s == "*":
			ps.any = true
		case isAccountID(s):
			ps.accounts = append(ps.accounts, s)
		default:
			f, ok := arnFields(s)
			if !ok || f[0] != "arn" || f[1] == "" || (f[2] != "iam" && f[2] != "sts") ||
				f[3] != "" || !isAccountID(f[4]) || f[5] == "" || strings.ContainsAny(s, "*? ") {
				return invalidPrincipal(typ, s)
			}
			if f[2] == "iam" && f[5] == "root" {
				ps.accounts = append(ps.accounts, f[4])
			} else {
				ps.arns = append(ps.arns, s)
			}
		}
	case "Service":
		if s == "" || !strings.Contains(s, ".") || strings.ContainsAny(s, "*? :/") {
			return invalidPrincipal(typ, s)
		}
		ps.services = append(ps.services, s)
	case "Federated":
		if s == "" || strings.ContainsAny(s, "*? ") {
			return invalidPrincipal(typ, s)
		}
		ps.federated = append(ps.federated, s)
	case "CanonicalUser":
		if s == "" || strings.ContainsAny(s, "*? ") {
			return invalidPrincipal(typ, s)
		}
		ps.canonical = append(ps.canonical, s)
	default:
		return invalidPrincipal(typ, s)
	}
	return nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < 12; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// match reports how p matches the set; a nil p is an anonymous requester.
func (ps *principalSet) match(p *Principal) pmatch {
	best := pmNone
	if ps.any {
		best = pmWildcard
	}
	if p == nil {
		return best
	}
	for _, a := range ps.arns {
		if a == p.ARN {
			return pmExact
		}
		if p.RoleARN != "" && a == p.RoleARN {
			best = pmRole
		}
	}
	if p.Service != "" {
		for _, s := range ps.services {
			if strings.EqualFold(s, p.Service) {
				return pmExact
			}
		}
	}
	if p.Federated != "" {
		for _, s := range ps.federated {
			if s == p.Federated {
				return pmExact
			}
		}
	}
	if p.CanonicalUser != "" {
		for _, s := range ps.canonical {
			if s == p.CanonicalUser {
				return pmExact
			}
		}
	}
	if p.AccountID != "" {
		for _, a := range ps.accounts {
			if a == p.AccountID {
				if p.IsRoot {
					return pmExact
				}
				if best < pmAccount {
					best = pmAccount
				}
			}
		}
	}
	return best
}
