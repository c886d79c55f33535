package authz_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"lextrail/internal/authz"
	"lextrail/internal/catalog"
	"lextrail/internal/identity"
	"lextrail/internal/policy"
	"lextrail/internal/testenv/cputime"
)

var ctx = context.Background()

// docs is an in-memory PolicySource.
type docs struct {
	mu sync.Mutex
	m  map[string][]string // "acct/kind/name"
	n  int                 // reads
}

func (d *docs) InlinePolicies(_ context.Context, acct, kind, name string) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n++
	return d.m[acct+"/"+kind+"/"+strings.ToLower(name)], nil
}

func (d *docs) set(key string, pols ...string) {
	d.mu.Lock()
	d.m[key] = pols
	d.mu.Unlock()
}

var svc = catalog.NewService(&catalog.Service{Name: "test", SigningName: "test", Protocol: catalog.Query, AccessDeniedCode: "AccessDenied",
	Ops: []*catalog.Operation{
		catalog.Define(catalog.Operation{Name: "Op"}, func(context.Context, *catalog.Call, *struct{}) (*struct{}, error) { return nil, nil }),
		catalog.Define(catalog.Operation{Name: "Free", NoAuthz: true}, func(context.Context, *catalog.Call, *struct{}) (*struct{}, error) { return nil, nil }),
	}})

const acctA, acctB = "111122223333", "444455556666"

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func userP(acct, name string) *identity.Principal {
	return &identity.Principal{Type: identity.TypeIAMUser, AccountID: acct, ARN: "arn:aws:iam::" + acct + ":user/" + name,
		PrincipalID: "AIDAEXAMPLE", UserID: "AIDAEXAMPLE", UserName: name}
}

func sessionP(acct, role, sess, sessPolicy string) *identity.Principal {
	return &identity.Principal{Type: identity.TypeAssumedRole, AccountID: acct, ARN: "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + sess,
		PrincipalID: "AROAEXAMPLE:" + sess, UserID: "AROAEXAMPLE:" + sess,
		Session: &identity.Session{IssuerType: "Role", IssuerARN: "arn:aws:iam::" + acct + ":role/" + role, IssuerAccountID: acct,
			IssuerUserName: role, SessionName: sess, CreationDate: now.Add(-time.Minute), Policy: sessPolicy}}
}

func call(p *identity.Principal, op string) *catalog.Call {
	return &catalog.Call{Op: svc.Op(op), Principal: p, Now: now, Region: "us-east-1", SourceIP: "203.0.113.9",
		Request: &http.Request{}}
}

func stmt(effect, action, resource string, cond string) string {
	s := fmt.Sprintf(`{"Effect":%q,"Action":%q,"Resource":%q`, effect, action, resource)
	if cond != "" {
		s += `,"Condition":` + cond
	}
	return s + "}"
}

func pol(stmts ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

func res(arn string) []catalog.Resource { return []catalog.Resource{{ARN: arn}} }

func TestAuthorizerTable(t *testing.T) {
	d := &docs{m: map[string][]string{}}
	a := authz.New(authz.Config{Policies: d, Now: func() time.Time { return now }})
	bucketPolicy := map[string]string{}
	a.RegisterResourcePolicies("sns", authz.ResourcePolicyFunc(func(_ context.Context, _ *catalog.Call, r catalog.Resource) (*authz.ResourcePolicy, error) {
		doc, ok := bucketPolicy[r.ARN]
		if !ok {
			return nil, nil
		}
		return &authz.ResourcePolicy{Document: doc}, nil
	}))
	topicB := "arn:aws:sns:us-east-1:" + acctB + ":alerts"
	bucketPolicy[topicB] = `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"` + acctA + `"},"Action":"sns:Publish","Resource":"*"},` +
		`{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sns:Publish","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:events:*:` + acctB + `:rule/*"}}}]}`

	d.set(acctA+"/user/alice",
		pol(stmt("Allow", "lex:*", "*", ""), stmt("Allow", "sns:Publish", "*", "")),
		pol(stmt("Deny", "lex:DeleteBot", "*", "")),
		pol(stmt("Allow", "s3:GetObject", "arn:aws:s3:::home/${aws:username}/*", "")),
		pol(stmt("Allow", "iam:PassRole", "arn:aws:iam::"+acctA+":role/logs", `{"StringEquals":{"iam:PassedToService":"lex.amazonaws.com"}}`)),
		pol(stmt("Allow", "cloudtrail:LookupEvents", "*", `{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}`)),
		pol(stmt("Allow", "cloudtrail:GetTrail", "*", `{"Bool":{"aws:SecureTransport":"true"}}`)),
		pol(stmt("Allow", "kms:Decrypt", "*", `{"DateLessThan":{"aws:CurrentTime":"2026-06-01T00:00:00Z"}}`)),
		pol(stmt("Allow", "kms:Encrypt", "*", `{"DateGreaterThan":{"aws:CurrentTime":"2026-06-01T00:00:00Z"}}`)),
		pol(stmt("Allow", "logs:*", "*", `{"StringEquals":{"aws:PrincipalType":"User","aws:PrincipalAccount":"`+acctA+`"}}`)),
		pol(stmt("Allow", "sqs:*", "*", `{"StringEquals":{"aws:userid":"AIDAEXAMPLE"},"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/al*"}}`)),
	)
	d.set(acctA+"/role/deployer",
		pol(stmt("Allow", "lex:*", "*", ""), stmt("Allow", "logs:*", "*", `{"Bool":{"aws:MultiFactorAuthPresent":"false"}}`)),
		pol(stmt("Allow", "sqs:*", "*", `{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::`+acctA+`:role/deployer"}}`)))

	alice := userP(acctA, "alice")
	bob := userP(acctA, "bob")
	rootA := identity.Root(acctA, "AKIAROOT")
	sess := sessionP(acctA, "deployer", "s1", "")
	narrowed := sessionP(acctA, "deployer", "s2", pol(stmt("Allow", "lex:GetBots", "*", "")))
	bot := "arn:aws:lex:us-east-1:" + acctA + ":bot:Shop"
	botB := "arn:aws:lex:us-east-1:" + acctB + ":bot:Shop"
	events := &identity.Principal{Type: identity.TypeAWSService, InvokedBy: "events.amazonaws.com"}

	cases := []struct {
		name     string
		p        *identity.Principal
		action   string
		resource string
		keys     map[string][]string
		tls      bool
		want     string // "" allowed, else a substring of the message
	}{
		{"root own account", rootA, "lex:PutBot", bot, nil, false, ""},
		{"root other account", rootA, "lex:PutBot", botB, nil, false, "because no resource-based policy allows the lex:PutBot action"},
		{"user allowed", alice, "lex:PutBot", bot, nil, false, ""},
		{"user action case-insensitive", alice, "LEX:putbot", bot, nil, false, ""},
		{"explicit deny wins", alice, "lex:DeleteBot", bot, nil, false, "with an explicit deny in an identity-based policy"},
		{"user without policies", bob, "lex:PutBot", bot, nil, false, "User: arn:aws:iam::" + acctA + ":user/bob is not authorized to perform: lex:PutBot on resource: " + bot + " because no identity-based policy allows the lex:PutBot action"},
		{"user other account, no resource policy", alice, "lex:PutBot", botB, nil, false, "no resource-based policy allows"},
		{"policy variable matches", alice, "s3:GetObject", "arn:aws:s3:::home/alice/notes.txt", nil, false, ""},
		{"policy variable other user", alice, "s3:GetObject", "arn:aws:s3:::home/bob/notes.txt", nil, false, "no identity-based policy"},
		{"PassRole to lex", alice, "iam:PassRole", "arn:aws:iam::" + acctA + ":role/logs", map[string][]string{"iam:PassedToService": {"lex.amazonaws.com"}}, false, ""},
		{"PassRole to other service", alice, "iam:PassRole", "arn:aws:iam::" + acctA + ":role/logs", map[string][]string{"iam:PassedToService": {"ec2.amazonaws.com"}}, false, "no identity-based policy"},
		{"requested region mismatch", alice, "cloudtrail:LookupEvents", "*", nil, false, "no identity-based policy"},
		{"requested region via extra keys", alice, "cloudtrail:LookupEvents", "*", map[string][]string{"aws:RequestedRegion": {"eu-west-1"}}, false, ""},
		{"secure transport false", alice, "cloudtrail:GetTrail", "*", nil, false, "no identity-based policy"},
		{"secure transport true", alice, "cloudtrail:GetTrail", "*", nil, true, ""},
		{"current time before", alice, "kms:Decrypt", "*", nil, false, ""},
		{"current time after", alice, "kms:Encrypt", "*", nil, false, "no identity-based policy"},
		{"principal type and account", alice, "logs:PutLogEvents", "*", nil, false, ""},
		{"userid and principal arn like", alice, "sqs:SendMessage", "*", nil, false, ""},
		{"session has role permissions", sess, "lex:PutBot", bot, nil, false, ""},
		{"session MFA key present false", sess, "logs:PutLogEvents", "*", nil, false, ""},
		{"session principal arn is the role", sess, "sqs:SendMessage", "*", nil, false, ""},
		{"session policy narrows", narrowed, "lex:PutBot", bot, nil, false, "because no session policy allows the lex:PutBot action"},
		{"session policy allows", narrowed, "lex:GetBots", bot, nil, false, ""},
		{"session denied message names session", sess, "s3:GetObject", "arn:aws:s3:::b/k", nil, false, "User: arn:aws:sts::" + acctA + ":assumed-role/deployer/s1 is not authorized"},
		{"cross-account resource policy naming account", alice, "sns:Publish", topicB, nil, false, ""},
		{"cross-account needs identity allow too", bob, "sns:Publish", topicB, nil, false, "no identity-based policy"},
		{"service principal with source arn", events, "sns:Publish", topicB, map[string][]string{"aws:SourceArn": {"arn:aws:events:us-east-1:" + acctB + ":rule/r1"}}, false, ""},
		{"service principal wrong source", events, "sns:Publish", topicB, map[string][]string{"aws:SourceArn": {"arn:aws:events:us-east-1:999999999999:rule/r1"}}, false, "no resource-based policy"},
		{"service principal without policy", events, "lex:PutBot", bot, nil, false, "no resource-based policy"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := call(tc.p, "Op")
			if tc.tls {
				c.Request.TLS = new(tls.ConnectionState)
			}
			c.ConditionKeys = tc.keys
			err := a.Authorize(ctx, c, tc.action, res(tc.resource))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("denied: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("allowed, want %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestNoAuthzAndIdentityOnly(t *testing.T) {
	d := &docs{m: map[string][]string{}}
	a := authz.New(authz.Config{Policies: d})
	bob := userP(acctA, "bob")
	if err := a.Authorize(ctx, call(bob, "Free"), "test:Free", nil); err != nil {
		t.Fatalf("NoAuthz: %v", err)
	}
	// Services that authorize in their handlers get the identity side even
	// for their NoAuthz operations.
	if err := a.IdentityOnly().Authorize(ctx, call(bob, "Free"), "s3:GetObject", res("arn:aws:s3:::b/k")); err == nil {
		t.Fatal("IdentityOnly allowed a user without policies")
	}
	if err := a.Check(ctx, call(bob, "Free"), "s3:GetObject", nil, nil); err == nil || !strings.Contains(err.Error(), "on resource: *") {
		t.Fatalf("Check: %v", err)
	}
	if err := a.PassRole(ctx, call(bob, "Op"), "arn:aws:iam::"+acctA+":role/r", "lex.amazonaws.com"); err == nil {
		t.Fatal("PassRole allowed")
	}
	d.set(acctA+"/user/bob", pol(stmt("Allow", "iam:PassRole", "*", `{"StringEquals":{"iam:PassedToService":"lex.amazonaws.com"}}`)))
	a.Invalidate(acctA, authz.KindUser, "Bob")
	if err := a.PassRole(ctx, call(bob, "Op"), "arn:aws:iam::"+acctA+":role/r", "lex.amazonaws.com"); err != nil {
		t.Fatalf("PassRole: %v", err)
	}
	// Passing a role of another account is refused.
	if err := a.PassRole(ctx, call(bob, "Op"), "arn:aws:iam::"+acctB+":role/r", "lex.amazonaws.com"); err == nil {
		t.Fatal("PassRole across accounts allowed")
	}
}

func TestCacheInvalidation(t *testing.T) {
	d := &docs{m: map[string][]string{}}
	clock := now
	a := authz.New(authz.Config{Policies: d, CacheTTL: time.Minute, Now: func() time.Time { return clock }})
	bob := userP(acctA, "bob")
	if err := a.Authorize(ctx, call(bob, "Op"), "lex:GetBots", nil); err == nil {
		t.Fatal("allowed")
	}
	d.set(acctA+"/user/bob", pol(stmt("Allow", "lex:GetBots", "*", "")))
	if err := a.Authorize(ctx, call(bob, "Op"), "lex:GetBots", nil); err == nil {
		t.Fatal("cache not used")
	}
	clock = clock.Add(2 * time.Minute) // TTL bounds staleness (changes on other nodes)
	if err := a.Authorize(ctx, call(bob, "Op"), "lex:GetBots", nil); err != nil {
		t.Fatalf("after TTL: %v", err)
	}
	d.set(acctA + "/user/bob")
	a.Invalidate(acctA, authz.KindUser, "bob")
	if err := a.Authorize(ctx, call(bob, "Op"), "lex:GetBots", nil); err == nil {
		t.Fatal("invalidation ignored")
	}
	reads := d.n
	for i := 0; i < 10; i++ {
		a.Authorize(ctx, call(bob, "Op"), "lex:GetBots", nil)
	}
	if d.n != reads {
		t.Fatalf("%d reads for cached decisions", d.n-reads)
	}
}

// BenchmarkDecision: one authorization for a caller with 10 inline
// policies of 10 statements each, the allowing statement last.
func BenchmarkDecision(b *testing.B) {
	d := &docs{m: map[string][]string{}}
	var pols []string
	for i := 0; i < 10; i++ {
		var stmts []string
		for j := 0; j < 10; j++ {
			stmts = append(stmts, stmt("Allow", fmt.Sprintf("svc%d:Action%d*", i, j), fmt.Sprintf("arn:aws:svc%d:us-east-1:%s:thing/%d/*", i, acctA, j),
				`{"StringEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}`))
		}
		pols = append(pols, pol(stmts...))
	}
	d.set(acctA+"/user/alice", pols...)
	a := authz.New(authz.Config{Policies: d, CacheTTL: time.Hour})
	c := call(userP(acctA, "alice"), "Op")
	r := res("arn:aws:svc9:us-east-1:" + acctA + ":thing/9/x")
	if err := a.Authorize(ctx, c, "svc9:Action9Get", r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	defer cputime.Report(b)()
	for i := 0; i < b.N; i++ {
		if err := a.Authorize(ctx, c, "svc9:Action9Get", r); err != nil {
			b.Fatal(err)
		}
	}
}

var _ = policy.Allow

// TestConditionKeys: every global condition key the authorizer derives
// from a call (and the ones services add) decides a condition both ways,
// through the real request context: one policy that its value satisfies
// and one it does not.
func TestConditionKeys(t *testing.T) {
	alice := userP(acctA, "alice")
	sess := sessionP(acctA, "deployer", "s1", "")
	events := &identity.Principal{Type: identity.TypeAWSService, InvokedBy: "events.amazonaws.com"}
	bot := "arn:aws:lex:us-east-1:" + acctA + ":bot:Shop"
	topic := "arn:aws:sns:us-east-1:" + acctA + ":alerts"
	roleARN := "arn:aws:iam::" + acctA + ":role/logs"
	fromRule := func(c *catalog.Call) {
		c.ConditionKeys = map[string][]string{"aws:SourceAccount": {acctA}, "aws:SourceArn": {"arn:aws:events:us-east-1:" + acctA + ":rule/r1"}}
	}
	cases := []struct {
		key        string
		p          *identity.Principal
		setup      func(*catalog.Call)
		pass, fail string
		// service principals are decided by the resource policy
		service  bool
		passRole bool
	}{
		{key: "aws:SourceAccount", p: events, setup: fromRule, service: true,
			pass: `{"StringEquals":{"aws:SourceAccount":"` + acctA + `"}}`, fail: `{"StringEquals":{"aws:SourceAccount":"` + acctB + `"}}`},
		{key: "aws:SourceArn", p: events, setup: fromRule, service: true,
			pass: `{"ArnLike":{"aws:SourceArn":"arn:aws:events:*:` + acctA + `:rule/*"}}`, fail: `{"ArnEquals":{"aws:SourceArn":"arn:aws:events:us-east-1:` + acctA + `:rule/r2"}}`},
		{key: "aws:PrincipalArn (user)", p: alice,
			pass: `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::` + acctA + `:user/alice"}}`, fail: `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::` + acctA + `:user/bob"}}`},
		{key: "aws:PrincipalArn (session: the role)", p: sess,
			pass: `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/deployer"}}`, fail: `{"ArnLike":{"aws:PrincipalArn":"arn:aws:sts::*:assumed-role/deployer/*"}}`},
		{key: "aws:PrincipalAccount", p: alice,
			pass: `{"StringEquals":{"aws:PrincipalAccount":"` + acctA + `"}}`, fail: `{"StringEquals":{"aws:PrincipalAccount":"` + acctB + `"}}`},
		{key: "aws:userid (user)", p: alice,
			pass: `{"StringEquals":{"aws:userid":"AIDAEXAMPLE"}}`, fail: `{"StringEquals":{"aws:userid":"AIDAOTHER"}}`},
		{key: "aws:userid (session)", p: sess,
			pass: `{"StringLike":{"aws:userid":"AROA*:s1"}}`, fail: `{"StringLike":{"aws:userid":"AROA*:s2"}}`},
		{key: "aws:username", p: alice,
			pass: `{"StringEquals":{"aws:username":"alice"}}`, fail: `{"StringEquals":{"aws:username":"bob"}}`},
		{key: "aws:username (absent for sessions)", p: sess,
			pass: `{"Null":{"aws:username":"true"}}`, fail: `{"StringLike":{"aws:username":"*"}}`},
		{key: "aws:MultiFactorAuthPresent (session)", p: sess,
			pass: `{"Bool":{"aws:MultiFactorAuthPresent":"false"}}`, fail: `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`},
		{key: "aws:MultiFactorAuthPresent (absent for long-term keys)", p: alice,
			pass: `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`, fail: `{"Bool":{"aws:MultiFactorAuthPresent":"false"}}`},
		{key: "aws:CurrentTime", p: alice,
			pass: `{"DateGreaterThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`, fail: `{"DateGreaterThan":{"aws:CurrentTime":"2027-01-01T00:00:00Z"}}`},
		{key: "aws:SecureTransport (plain HTTP)", p: alice,
			pass: `{"Bool":{"aws:SecureTransport":"false"}}`, fail: `{"Bool":{"aws:SecureTransport":"true"}}`},
		{key: "aws:SecureTransport (TLS)", p: alice, setup: func(c *catalog.Call) { c.Request.TLS = new(tls.ConnectionState) },
			pass: `{"Bool":{"aws:SecureTransport":"true"}}`, fail: `{"Bool":{"aws:SecureTransport":"false"}}`},
		{key: "aws:RequestedRegion", p: alice,
			pass: `{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}`, fail: `{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}`},
		{key: "iam:PassedToService", p: alice, passRole: true,
			pass: `{"StringEquals":{"iam:PassedToService":"lex.amazonaws.com"}}`, fail: `{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}`},
	}
	for _, tc := range cases {
		for _, side := range []struct {
			name  string
			cond  string
			allow bool
		}{{"pass", tc.pass, true}, {"fail", tc.fail, false}} {
			t.Run(tc.key+"/"+side.name, func(t *testing.T) {
				d := &docs{m: map[string][]string{}}
				a := authz.New(authz.Config{Policies: d, Now: func() time.Time { return now }})
				c := call(tc.p, "Op")
				if tc.setup != nil {
					tc.setup(c)
				}
				var err error
				switch {
				case tc.service:
					doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sns:Publish","Resource":"` + topic + `","Condition":` + side.cond + `}]}`
					a.RegisterResourcePolicies("sns", authz.ResourcePolicyFunc(func(context.Context, *catalog.Call, catalog.Resource) (*authz.ResourcePolicy, error) {
						return &authz.ResourcePolicy{Document: doc}, nil
					}))
					err = a.Authorize(ctx, c, "sns:Publish", res(topic))
				case tc.passRole:
					d.set(acctA+"/user/alice", pol(stmt("Allow", "iam:PassRole", roleARN, side.cond)))
					err = a.PassRole(ctx, c, roleARN, "lex.amazonaws.com")
				default:
					d.set(acctA+"/user/alice", pol(stmt("Allow", "lex:PutBot", "*", side.cond)))
					d.set(acctA+"/role/deployer", pol(stmt("Allow", "lex:PutBot", "*", side.cond)))
					err = a.Authorize(ctx, c, "lex:PutBot", res(bot))
				}
				if side.allow && err != nil {
					t.Fatalf("denied: %v", err)
				}
				if !side.allow && (err == nil || !strings.Contains(err.Error(), "is not authorized to perform")) {
					t.Fatalf("want AccessDenied, got %v", err)
				}
			})
		}
	}
}
