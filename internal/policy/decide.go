package policy

// Input is everything Decide needs for one request.
type Input struct {
	Request         *Request
	CallerAccount   string // the requesting principal's account
	ResourceAccount string // account owning the resource; "" = CallerAccount
	// Identity holds the caller's identity-based policies (user inline and
	// managed, group policies, or the role's policies). nil entries are
	// skipped.
	Identity []*Policy
	// IsRoot marks the account root user: it needs no identity policy in its
	// own account. Request.Principal.IsRoot has the same effect.
	IsRoot bool
	// Session holds session policies (AssumeRole/GetFederationToken Policy
	// and PolicyArns). When non-nil, identity-based allows must also be
	// allowed by one of them; an empty non-nil slice allows nothing.
	Session []*Policy
	// ResourcePolicy is the resource's policy (bucket, topic, key or bot
	// policy, or a role's trust policy); nil when it has none.
	ResourcePolicy *Policy
	// RequireResourceAllow says the resource policy must allow the request
	// even in the same account, as for role trust policies and KMS key
	// policies. An allow that only names the account (delegation) then still
	// needs the identity side.
	RequireResourceAllow bool
}

// Decision is the outcome of Decide.
type Decision struct {
	Allowed      bool
	ExplicitDeny bool
	// Reason is, for denials, the phrase AWS puts after "because" in
	// AccessDenied messages, e.g. "no identity-based policy allows the
	// lex:PutBot action". Empty when allowed.
	Reason string
}

func explicitDeny(where string) Decision {
	return Decision{ExplicitDeny: true, Reason: "an explicit deny in " + where}
}

func implicitDeny(kind, action string) Decision {
	return Decision{Reason: "no " + kind + " policy allows the " + action + " action"}
}

// Decide combines identity, session and resource-based policies the way AWS
// evaluates a request; see the package documentation for the rules.
func Decide(in Input) Decision {
	r := in.Request
	if r == nil {
		return Decision{Reason: "no request to evaluate"}
	}
	p := r.Principal
	if p != nil && p.AccountID == "" && p.Service == "" && in.CallerAccount != "" {
		cp := *p
		cp.AccountID = in.CallerAccount
		rr := *r
		rr.Principal = &cp
		r, p = &rr, &cp
	}
	isRoot := in.IsRoot || (p != nil && p.IsRoot)
	// Service principals and anonymous callers have no identity policies:
	// only the resource policy can let them in.
	resourceOnly := (p != nil && p.Service != "") || (p == nil && in.CallerAccount == "" && !isRoot)

	idAllow := false
	sessAllow := false
	if !resourceOnly {
		for _, pol := range in.Identity {
			if pol == nil {
				continue
			}
			switch pol.Evaluate(r) {
			case Deny:
				return explicitDeny("an identity-based policy")
			case Allow:
				idAllow = true
			}
		}
		for _, pol := range in.Session {
			if pol == nil {
				continue
			}
			switch pol.Evaluate(r) {
			case Deny:
				return explicitDeny("a session policy")
			case Allow:
				sessAllow = true
			}
		}
	}
	resEff, resPM := NoMatch, pmNone
	if in.ResourcePolicy != nil {
		resEff, resPM = in.ResourcePolicy.eval(r)
		if resEff == Deny {
			return explicitDeny("a resource-based policy")
		}
	}
	resAllow := resEff == Allow
	if resourceOnly {
		if resAllow {
			return Decision{Allowed: true}
		}
		return implicitDeny("resource-based", r.Action)
	}

	hasSession := in.Session != nil
	identitySide := isRoot || idAllow
	sessionOK := !hasSession || sessAllow
	// A resource allow naming the principal itself (not just its account)
	// grants on its own within the account.
	resStandalone := resAllow && resPM >= pmWildcard
	// Only a statement naming the session ARN itself escapes session policies.
	resSessionOK := !hasSession || sessAllow || resPM == pmExact

	same := in.ResourceAccount == "" || in.ResourceAccount == in.CallerAccount
	if same {
		var ok bool
		if in.RequireResourceAllow {
			ok = resAllow && ((resStandalone && resSessionOK) || (identitySide && sessionOK))
		} else {
			ok = (identitySide && sessionOK) || (resStandalone && resSessionOK)
		}
		if ok {
			return Decision{Allowed: true}
		}
		switch {
		case in.RequireResourceAllow && !resAllow:
			return implicitDeny("resource-based", r.Action)
		case !sessionOK && (identitySide || resStandalone):
			return implicitDeny("session", r.Action)
		}
		return implicitDeny("identity-based", r.Action)
	}
	// Cross-account: both sides must allow.
	switch {
	case !identitySide:
		return implicitDeny("identity-based", r.Action)
	case !sessionOK && !(resAllow && resPM == pmExact):
		return implicitDeny("session", r.Action)
	case !resAllow:
		return implicitDeny("resource-based", r.Action)
	}
	return Decision{Allowed: true}
}
