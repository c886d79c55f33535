package policy

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
)

// Kind says where a policy is attached, which decides what it may contain.
type Kind int

const (
	// Identity policies are attached to users, groups and roles (inline or
	// managed) or passed as session policies: Principal is prohibited.
	Identity Kind = iota + 1
	// Resource policies are attached to resources (bucket, topic, key, bot
	// policies): every statement names a Principal or NotPrincipal.
	Resource
	// Trust policies are role trust (assume-role) policies: Principal is
	// required, Resource is prohibited and actions must be sts: actions.
	Trust
)

func (k Kind) String() string {
	switch k {
	case Identity:
		return "Identity"
	case Resource:
		return "Resource"
	case Trust:
		return "Trust"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Effect is a statement's effect and the result of evaluating a policy.
type Effect int

const (
	// NoMatch means no statement applied to the request (implicit deny).
	NoMatch Effect = iota
	// Allow means an Allow statement applied and no Deny statement did.
	Allow
	// Deny means a Deny statement applied (explicit deny).
	Deny
)

func (e Effect) String() string {
	switch e {
	case NoMatch:
		return "NoMatch"
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	}
	return fmt.Sprintf("Effect(%d)", int(e))
}

// Policy versions accepted in the Version element.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Size limits AWS applies to policy documents, counted with NonWhitespaceLen.
// Parse does not enforce them; callers check the one that applies.
const (
	MaxUserInlineSize    = 2048  // all inline policies of one user together
	MaxGroupInlineSize   = 5120  // all inline policies of one group together
	MaxRoleInlineSize    = 10240 // all inline policies of one role together
	MaxManagedSize       = 6144  // one managed policy version
	MaxTrustPolicySize   = 2048  // role trust policy (default quota)
	MaxSessionPolicySize = 2048  // inline session policy passed to STS
)

// Error is a malformed-policy error. Callers map it to IAM's
// MalformedPolicyDocument (HTTP 400) with Message as the error message.
type Error struct {
	Message string
}

func (e *Error) Error() string { return e.Message }

// Code is the IAM error code callers should return.
func (e *Error) Code() string { return "MalformedPolicyDocument" }

func errorf(format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...)}
}

// Messages used by Parse.
const (
	msgSyntax         = "Syntax errors in policy."
	msgVendor         = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgNoPrincipal    = "Policy document should not specify a principal."
	msgNoActions      = "Policy statement must contain actions."
	msgNoResources    = "Policy statement must contain resources."
	msgTrustActions   = "AssumeRole policy may only specify STS AssumeRole actions."
	msgLegacyVersion  = "The policy failed legacy parsing"
	msgSidUnique      = "Statement IDs (SID) in a single policy must be unique."
	msgSidAlnum       = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
	msgMissingStmt    = "Missing required field Statement"
	msgMissingEffect  = "Missing required field Effect"
	msgMissingPrinc   = "Missing required field Principal"
	msgEmptyPrincipal = "Invalid principal in policy: {}"
)

// NonWhitespaceLen is the length AWS compares with its policy size quotas:
// the number of characters in doc that are not white space.
func NonWhitespaceLen(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// Policy is a parsed, validated and compiled policy document. It is
// immutable (callers must not change Statements) and safe for concurrent
// use.
type Policy struct {
	Version    string // "" when the document has no Version element
	ID         string
	Kind       Kind
	Statements []*Statement

	vars bool // policy variables are substituted (Version 2012-10-17)
	// byAction caches, per request action, the statements whose action
	// element admits it (see statementsFor).
	byAction sync.Map // string -> []int
	nActions atomic.Int32
}

// Statement is one compiled statement.
type Statement struct {
	Sid    string
	Effect Effect // Allow or Deny

	actions     []glob
	notAction   bool
	resources   []*pattern
	notResource bool
	hasResource bool
	principals  *principalSet
	notPrinc    bool
	conditions  []*condition
}

var topFields = map[string]bool{"Version": true, "Id": true, "Statement": true}

var stmtFields = map[string]bool{
	"Sid": true, "Effect": true, "Action": true, "NotAction": true,
	"Resource": true, "NotResource": true, "Principal": true,
	"NotPrincipal": true, "Condition": true,
}

// Parse parses and validates a policy document of the given kind. Errors are
// always *Error.
func Parse(doc string, kind Kind) (*Policy, error) {
	p, err := parse(doc, kind)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func parse(doc string, kind Kind) (*Policy, *Error) {
	if kind < Identity || kind > Trust {
		return nil, errorf("unknown policy kind %d", int(kind))
	}
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errorf(msgSyntax)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errorf(msgSyntax)
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, errorf(msgSyntax)
	}
	for _, k := range sortedKeys(top) {
		if !topFields[k] {
			return nil, errorf("Unknown field %s", k)
		}
	}
	p := &Policy{Kind: kind}
	if raw, ok := top["Version"]; ok {
		s, ok := raw.(string)
		if !ok || (s != Version2012 && s != Version2008) {
			return nil, errorf(msgLegacyVersion)
		}
		p.Version = s
	}
	p.vars = p.Version == Version2012
	if raw, ok := top["Id"]; ok {
		s, ok := raw.(string)
		if !ok {
			return nil, errorf(msgSyntax)
		}
		p.ID = s
	}
	raw, ok := top["Statement"]
	if !ok || raw == nil {
		return nil, errorf(msgMissingStmt)
	}
	var stmts []any
	switch t := raw.(type) {
	case map[string]any:
		stmts = []any{t}
	case []any:
		stmts = t
	default:
		return nil, errorf(msgSyntax)
	}
	if len(stmts) == 0 {
		return nil, errorf(msgMissingStmt)
	}
	sids := map[string]bool{}
	for _, rs := range stmts {
		m, ok := rs.(map[string]any)
		if !ok {
			return nil, errorf(msgSyntax)
		}
		s, err := parseStatement(m, kind, p.vars)
		if err != nil {
			return nil, err
		}
		if s.Sid != "" && kind != Resource {
			if sids[s.Sid] {
				return nil, errorf(msgSidUnique)
			}
			sids[s.Sid] = true
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// stringList accepts a string or an array of strings.
func stringList(v any) ([]string, bool) {
	switch t := v.(type) {
	case string:
		return []string{t}, true
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

func parseStatement(m map[string]any, kind Kind, vars bool) (*Statement, *Error) {
	for _, k := range sortedKeys(m) {
		if !stmtFields[k] {
			return nil, errorf("Unknown field %s", k)
		}
	}
	s := &Statement{}
	if raw, ok := m["Sid"]; ok {
		sid, ok := raw.(string)
		if !ok {
			return nil, errorf(msgSyntax)
		}
		if kind != Resource {
			for _, r := range sid {
				if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
					return nil, errorf(msgSidAlnum)
				}
			}
		}
		s.Sid = sid
	}

	raw, ok := m["Effect"]
	if !ok {
		return nil, errorf(msgMissingEffect)
	}
	eff, ok := raw.(string)
	if !ok {
		return nil, errorf(msgSyntax)
	}
	switch eff {
	case "Allow":
		s.Effect = Allow
	case "Deny":
		s.Effect = Deny
	default:
		return nil, errorf("Invalid effect: %s", eff)
	}

	// Principal / NotPrincipal.
	pr, hasP := m["Principal"]
	npr, hasNP := m["NotPrincipal"]
	switch {
	case hasP && hasNP:
		return nil, errorf("Statement cannot contain both Principal and NotPrincipal")
	case kind == Identity && hasP:
		return nil, errorf(msgNoPrincipal)
	case kind == Identity && hasNP:
		return nil, errorf("Has prohibited field NotPrincipal")
	case kind != Identity && !hasP && !hasNP:
		return nil, errorf(msgMissingPrinc)
	case hasP:
		ps, err := parsePrincipal(pr)
		if err != nil {
			return nil, err
		}
		s.principals = ps
	case hasNP:
		ps, err := parsePrincipal(npr)
		if err != nil {
			return nil, err
		}
		s.principals, s.notPrinc = ps, true
	}

	// Action / NotAction.
	act, hasA := m["Action"]
	nact, hasNA := m["NotAction"]
	if hasA && hasNA {
		return nil, errorf("Statement cannot contain both Action and NotAction")
	}
	if !hasA && !hasNA {
		return nil, errorf(msgNoActions)
	}
	if hasNA {
		act, s.notAction = nact, true
	}
	actions, ok := stringList(act)
	if !ok {
		return nil, errorf(msgSyntax)
	}
	if len(actions) == 0 {
		return nil, errorf(msgNoActions)
	}
	for _, a := range actions {
		if a != "*" {
			i := strings.IndexByte(a, ':')
			if i <= 0 || i == len(a)-1 || !validVendor(a[:i]) {
				return nil, errorf(msgVendor)
			}
			if kind == Trust && !strings.EqualFold(a[:i], "sts") {
				return nil, errorf(msgTrustActions)
			}
		}
		s.actions = append(s.actions, compileGlob(parseTemplate(a, true, false), true))
	}

	// Resource / NotResource.
	res, hasR := m["Resource"]
	nres, hasNR := m["NotResource"]
	if hasR && hasNR {
		return nil, errorf("Statement cannot contain both Resource and NotResource")
	}
	if kind == Trust && (hasR || hasNR) {
		if hasR {
			return nil, errorf("Has prohibited field Resource")
		}
		return nil, errorf("Has prohibited field NotResource")
	}
	if kind == Identity && !hasR && !hasNR {
		return nil, errorf(msgNoResources)
	}
	if hasR || hasNR {
		if hasNR {
			res, s.notResource = nres, true
		}
		list, ok := stringList(res)
		if !ok {
			return nil, errorf(msgSyntax)
		}
		if len(list) == 0 {
			return nil, errorf(msgNoResources)
		}
		for _, r := range list {
			if r != "*" && !(strings.HasPrefix(r, "arn:") && strings.Count(r, ":") >= 5) {
				return nil, errorf("Resource %s must be in ARN format or \"*\".", r)
			}
			s.resources = append(s.resources, newPattern(r, vars))
		}
		s.hasResource = true
	}

	if raw, ok := m["Condition"]; ok {
		conds, err := parseConditions(raw, vars)
		if err != nil {
			return nil, err
		}
		s.conditions = conds
	}
	return s, nil
}

func validVendor(v string) bool {
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '*' || r == '?') {
			return false
		}
	}
	return true
}
