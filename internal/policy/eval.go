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
	// Keys, when set, answers the condition keys Context does not hold
	// (name lower-cased), for callers that derive keys on demand rather
	// than building a map per request. Optional.
	Keys func(name string) []string
}

// values returns the values of condition key name (lower-cased).
func (r *Request) values(name string) []string {
	if vs, ok := r.Context[name]; ok {
		return vs
	}
	if r.Keys != nil {
		return r.Keys(name)
	}
	return nil
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
	for _, i := range p.statementsFor(r.Action) {
		s := p.Statements[i]
		ok, pm := s.appliesToAction(r)
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

// matchesAction reports whether the statement's Action (or NotAction)
// element admits action.
func (s *Statement) matchesAction(action string) bool {
	matched := false
	for i := range s.actions {
		if s.actions[i].match(action) {
			matched = true
			break
		}
	}
	return matched != s.notAction
}

// maxActionCache bounds the actions a policy remembers its statements for
// (actions come from the operation catalog, so the set is small).
const maxActionCache = 512

// statementsFor returns the indices of the statements whose Action or
// NotAction element admits action, computed once per action and policy
// (a policy is immutable): most statements of a caller's policies name
// other actions, and matching a request's action against every action
// pattern is most of an evaluation's cost.
func (p *Policy) statementsFor(action string) []int {
	if v, ok := p.byAction.Load(action); ok {
		return v.([]int)
	}
	var idx []int
	for i, s := range p.Statements {
		if s.matchesAction(action) {
			idx = append(idx, i)
		}
	}
	if p.nActions.Load() < maxActionCache {
		if _, loaded := p.byAction.LoadOrStore(action, idx); !loaded {
			p.nActions.Add(1)
		}
	}
	return idx
}

// appliesToAction reports whether a statement whose action element admits
// r.Action applies to r, and how strongly its principal element matched.
func (s *Statement) appliesToAction(r *Request) (bool, pmatch) {
	if s.hasResource {
		matched := false
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
