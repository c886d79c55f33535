package policy

// Request is what a policy is evaluated against.
type Request struct {
	// Action is "service:Action", e.g. "lex:PutBot"; matched
	// case-insensitively.
	Action string
	// Resource is the target ARN (or "*" for actions without a resource);
	// matched case-sensitively.
	Resource string
	// Principal is who is asking; used by Principal/NotPrincipal elements of
	// resource and trust policies. nil means an anonymous request.
	Principal *Principal
	// Context holds the condition keys with lower-cased names, e.g.
	// "aws:sourceaccount", "aws:principalarn", "aws:username",
	// "aws:currenttime", "aws:securetransport", "sts:externalid",
	// "aws:principaltag/team". Policy variables are resolved from it too.
	Context map[string][]string
}

// Evaluate evaluates the policy against r: Deny if any Deny statement
// applies, otherwise Allow if any Allow statement applies, otherwise NoMatch.
func (p *Policy) Evaluate(r *Request) Effect {
	e, _ := p.eval(r)
	return e
}

// eval also reports the strongest principal match among applying Allow
// statements (pmExact for identity policies, which name no principal).
func (p *Policy) eval(r *Request) (Effect, pmatch) {
	res, best := NoMatch, pmNone
	for _, s := range p.Statements {
		ok, pm := s.applies(r)
		if !ok {
			continue
		}
		if s.Effect == Deny {
			return Deny, pm
		}
		res = Allow
		if pm > best {
			best = pm
		}
	}
	return res, best
}

func (s *Statement) applies(r *Request) (bool, pmatch) {
	matched := false
	for i := range s.actions {
		if s.actions[i].match(r.Action) {
			matched = true
			break
		}
	}
	if matched == s.notAction {
		return false, pmNone
	}
	if s.hasResource {
		matched = false
		for _, rp := range s.resources {
			if rp.match(r.Resource, r) {
				matched = true
				break
			}
		}
		if matched == s.notResource {
			return false, pmNone
		}
	}
	pm := pmExact
	if s.principals != nil {
		pm = s.principals.match(r.Principal)
		if s.notPrinc {
			if pm != pmNone {
				return false, pmNone
			}
			pm = pmWildcard
		} else if pm == pmNone {
			return false, pmNone
		}
	}
	for _, c := range s.conditions {
		if !c.eval(r) {
			return false, pmNone
		}
	}
	return true, pm
}
