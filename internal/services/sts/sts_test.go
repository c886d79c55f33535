package sts_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"lextrail/internal/audit"
	"lextrail/internal/server"
	"lextrail/internal/store"
	"lextrail/internal/testenv"
)

var ctx = context.Background()

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "non-API error: " + err.Error()
	}
	return ""
}

func message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

// must returns v, panicking (which fails the test) on an error.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// user creates a user with inline policies and a key in the account whose
// root credentials are root.
func user(t testing.TB, e *testenv.Env, root aws.Credentials, name string, policies ...string) aws.Credentials {
	t.Helper()
	c := iam.NewFromConfig(e.Config(root))
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}))
	for i, p := range policies {
		must(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name),
			PolicyName: aws.String("p" + string(rune('0'+i))), PolicyDocument: aws.String(p)}))
	}
	k := must(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)}))
	return aws.Credentials{AccessKeyID: *k.AccessKey.AccessKeyId, SecretAccessKey: *k.AccessKey.SecretAccessKey}
}

func role(t testing.TB, e *testenv.Env, root aws.Credentials, name, trust string, policies ...string) string {
	t.Helper()
	c := iam.NewFromConfig(e.Config(root))
	out := must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust),
		MaxSessionDuration: aws.Int32(7200)}))
	for i, p := range policies {
		must(c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name),
			PolicyName: aws.String("p" + string(rune('0'+i))), PolicyDocument: aws.String(p)}))
	}
	return *out.Role.Arn
}

func trustAWS(principal string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"sts:AssumeRole"}]}`
}

const (
	allowAssume = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`
	iamRead     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:List*","iam:Get*"],"Resource":"*"}]}`
)

func sessionCreds(out *sts.AssumeRoleOutput) aws.Credentials {
	return aws.Credentials{AccessKeyID: *out.Credentials.AccessKeyId, SecretAccessKey: *out.Credentials.SecretAccessKey,
		SessionToken: *out.Credentials.SessionToken}
}

func TestAssumeRoleTrustAndSessionPolicy(t *testing.T) {
	e := testenv.New(t)
	acct := e.AccountID
	alice := user(t, e, e.Creds(), "alice")
	bob := user(t, e, e.Creds(), "bob")
	arn := role(t, e, e.Creds(), "Reader", trustAWS("arn:aws:iam::"+acct+":user/alice"), iamRead)

	// The trust policy names alice: she needs no identity policy.
	out, err := sts.NewFromConfig(e.Config(alice)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("audit-1")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(*out.Credentials.AccessKeyId, "ASIA") || *out.AssumedRoleUser.Arn != "arn:aws:sts::"+acct+":assumed-role/Reader/audit-1" ||
		!strings.HasPrefix(*out.AssumedRoleUser.AssumedRoleId, "AROA") || !strings.HasSuffix(*out.AssumedRoleUser.AssumedRoleId, ":audit-1") {
		t.Fatalf("assume: %+v %+v", out.Credentials, out.AssumedRoleUser)
	}
	if d := out.Credentials.Expiration.Sub(time.Now()); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("default duration: %v", d)
	}
	sess := sessionCreds(out)
	id := must(sts.NewFromConfig(e.Config(sess)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if *id.Arn != *out.AssumedRoleUser.Arn || *id.UserId != *out.AssumedRoleUser.AssumedRoleId || *id.Account != acct {
		t.Fatalf("session identity %+v", id)
	}
	// The session acts with the role's permissions.
	if _, err := iam.NewFromConfig(e.Config(sess)).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("role permission: %v", err)
	}
	_, err = iam.NewFromConfig(e.Config(sess)).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("x")})
	if code(err) != "AccessDenied" || !strings.HasPrefix(message(err), "User: arn:aws:sts::"+acct+":assumed-role/Reader/audit-1 is not authorized to perform: iam:CreateUser") {
		t.Fatalf("beyond the role: %v", err)
	}

	// A session policy narrows the role's permissions.
	narrow := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*"}]}`
	out2 := must(sts.NewFromConfig(e.Config(alice)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn),
		RoleSessionName: aws.String("narrow"), Policy: aws.String(narrow), DurationSeconds: aws.Int32(900)}))
	if out2.PackedPolicySize == nil || *out2.PackedPolicySize <= 0 {
		t.Fatalf("packed policy size %v", out2.PackedPolicySize)
	}
	nc := iam.NewFromConfig(e.Config(sessionCreds(out2)))
	if _, err := nc.ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
		t.Fatalf("allowed by both: %v", err)
	}
	_, err = nc.ListUsers(ctx, &iam.ListUsersInput{})
	if code(err) != "AccessDenied" || !strings.HasSuffix(message(err), "because no session policy allows the iam:ListUsers action") {
		t.Fatalf("narrowed: %v", err)
	}

	// Bob is not in the trust policy and has no identity policy.
	_, err = sts.NewFromConfig(e.Config(bob)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s1")})
	want := "User: arn:aws:iam::" + acct + ":user/bob is not authorized to perform: sts:AssumeRole on resource: " + arn + " because no resource-based policy allows the sts:AssumeRole action"
	if code(err) != "AccessDenied" || message(err) != want {
		t.Fatalf("bob: %v", err)
	}
	// Root may not assume roles, as on AWS.
	_, err = sts.NewFromConfig(e.Config()).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s1")})
	if code(err) != "AccessDenied" {
		t.Fatalf("root: %v", err)
	}

	// Validation.
	for _, in := range []*sts.AssumeRoleInput{
		{RoleArn: aws.String(arn), RoleSessionName: aws.String("a")},
		{RoleArn: aws.String(arn), RoleSessionName: aws.String("bad name")},
		{RoleArn: aws.String(arn), RoleSessionName: aws.String("ok"), DurationSeconds: aws.Int32(7201)},
		{RoleArn: aws.String(arn), RoleSessionName: aws.String("ok"), DurationSeconds: aws.Int32(899)},
	} {
		if _, err := sts.NewFromConfig(e.Config(alice)).AssumeRole(ctx, in); code(err) != "ValidationError" {
			t.Errorf("%s %v: %v", *in.RoleSessionName, in.DurationSeconds, err)
		}
	}
	bad := `{"Statement":[{"Effect":"Allow","Action":"iam:ListRoles"}]}`
	if _, err := sts.NewFromConfig(e.Config(alice)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("ok"), Policy: aws.String(bad)}); code(err) != "MalformedPolicyDocument" {
		t.Fatalf("bad session policy: %v", err)
	}
	// The session itself is not in the role's trust policy (chaining is
	// TestRoleChaining's).
	if _, err := sts.NewFromConfig(e.Config(sess)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("chain")}); code(err) != "AccessDenied" {
		t.Fatalf("session not trusted: %v", err)
	}
}

// TestTrustNamingAccount: a trust policy naming the account delegates to
// it: its users also need an identity policy allowing sts:AssumeRole.
func TestTrustNamingAccount(t *testing.T) {
	e := testenv.New(t)
	arn := role(t, e, e.Creds(), "Ops", trustAWS(e.AccountID))
	without := user(t, e, e.Creds(), "nopolicy")
	with := user(t, e, e.Creds(), "allowed", allowAssume)
	_, err := sts.NewFromConfig(e.Config(without)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s1")})
	if code(err) != "AccessDenied" || !strings.HasSuffix(message(err), "because no identity-based policy allows the sts:AssumeRole action") {
		t.Fatalf("without identity policy: %v", err)
	}
	if _, err := sts.NewFromConfig(e.Config(with)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s1")}); err != nil {
		t.Fatalf("with identity policy: %v", err)
	}
	// A role that does not exist is refused the same way AWS refuses it.
	_, err = sts.NewFromConfig(e.Config(with)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + e.AccountID + ":role/Nope"), RoleSessionName: aws.String("s1")})
	if code(err) != "AccessDenied" {
		t.Fatalf("missing role: %v", err)
	}
}

// TestCrossAccount: a role in account B whose trust names account A can be
// assumed by A's users allowed sts:AssumeRole; without that trust, or
// without the identity allow, A is refused.
func TestCrossAccount(t *testing.T) {
	e := testenv.New(t)
	const acctB = "210987654321"
	rootB, err := e.Server.Accounts.CreateAccount(ctx, acctB)
	if err != nil {
		t.Fatal(err)
	}
	credsB := aws.Credentials{AccessKeyID: rootB.AccessKeyID, SecretAccessKey: rootB.SecretAccessKey}
	trusted := role(t, e, credsB, "FromA", trustAWS("arn:aws:iam::"+e.AccountID+":root"), iamRead)
	untrusted := role(t, e, credsB, "BOnly", trustAWS(acctB))
	userA := user(t, e, e.Creds(), "alice", allowAssume)
	plainA := user(t, e, e.Creds(), "plain")

	out, err := sts.NewFromConfig(e.Config(userA)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(trusted), RoleSessionName: aws.String("x-acct")})
	if err != nil {
		t.Fatal(err)
	}
	id := must(sts.NewFromConfig(e.Config(sessionCreds(out))).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if *id.Account != acctB || *id.Arn != "arn:aws:sts::"+acctB+":assumed-role/FromA/x-acct" {
		t.Fatalf("cross-account identity %+v", id)
	}
	// The session works in B with the role's permissions: it sees B's roles.
	roles := must(iam.NewFromConfig(e.Config(sessionCreds(out))).ListRoles(ctx, &iam.ListRolesInput{}))
	if len(roles.Roles) != 2 {
		t.Fatalf("B's roles: %d", len(roles.Roles))
	}
	_, err = sts.NewFromConfig(e.Config(userA)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(untrusted), RoleSessionName: aws.String("s1")})
	if code(err) != "AccessDenied" || !strings.Contains(message(err), "no resource-based policy allows") {
		t.Fatalf("untrusted: %v", err)
	}
	_, err = sts.NewFromConfig(e.Config(plainA)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(trusted), RoleSessionName: aws.String("s1")})
	if code(err) != "AccessDenied" || !strings.Contains(message(err), "no identity-based policy allows") {
		t.Fatalf("no identity allow: %v", err)
	}
}

// TestSessionExpiry: temporary credentials stop working at expiry
// (injected clock), with ExpiredToken.
func TestSessionExpiry(t *testing.T) {
	e := testenv.New(t)
	// The SDK signs with the real time; the server's clock may differ by
	// less than the 15-minute skew. Start 14 minutes behind.
	e.Clock.Set(time.Now().Add(-14 * time.Minute))
	alice := user(t, e, e.Creds(), "alice")
	arn := role(t, e, e.Creds(), "R", trustAWS("arn:aws:iam::"+e.AccountID+":user/alice"))
	out := must(sts.NewFromConfig(e.Config(alice)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn),
		RoleSessionName: aws.String("short"), DurationSeconds: aws.Int32(900)}))
	sc := sts.NewFromConfig(e.Config(sessionCreds(out)))
	if _, err := sc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	e.Clock.Advance(899 * time.Second)
	if _, err := sc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	e.Clock.Advance(time.Second)
	if _, err := sc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); code(err) != "ExpiredToken" {
		t.Fatalf("at expiry: %v", err)
	}
	// A wrong session token is refused.
	bad := sessionCreds(out)
	bad.SessionToken = "LXTnotthetoken"
	if _, err := sts.NewFromConfig(e.Config(bad)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); code(err) == "" {
		t.Fatal("wrong token accepted")
	}
}

func TestGetSessionToken(t *testing.T) {
	e := testenv.New(t)
	alice := user(t, e, e.Creds(), "alice", iamRead)
	out := must(sts.NewFromConfig(e.Config(alice)).GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)}))
	sc := aws.Credentials{AccessKeyID: *out.Credentials.AccessKeyId, SecretAccessKey: *out.Credentials.SecretAccessKey, SessionToken: *out.Credentials.SessionToken}
	id := must(sts.NewFromConfig(e.Config(sc)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if *id.Arn != "arn:aws:iam::"+e.AccountID+":user/alice" || !strings.HasPrefix(*id.UserId, "AIDA") {
		t.Fatalf("identity %+v", id)
	}
	// The session has the user's permissions.
	if _, err := iam.NewFromConfig(e.Config(sc)).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(e.Config(sc)).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("x")}); code(err) != "AccessDenied" {
		t.Fatalf("beyond the user: %v", err)
	}
	if _, err := sts.NewFromConfig(e.Config(sc)).GetSessionToken(ctx, &sts.GetSessionTokenInput{}); code(err) != "AccessDenied" {
		t.Fatalf("from a session: %v", err)
	}
	root := must(sts.NewFromConfig(e.Config()).GetSessionToken(ctx, &sts.GetSessionTokenInput{}))
	if d := root.Credentials.Expiration.Sub(time.Now()); d > time.Hour+time.Minute {
		t.Fatalf("root session longer than an hour: %v", d)
	}
	// A root session is the root user.
	rc := aws.Credentials{AccessKeyID: *root.Credentials.AccessKeyId, SecretAccessKey: *root.Credentials.SecretAccessKey, SessionToken: *root.Credentials.SessionToken}
	rid := must(sts.NewFromConfig(e.Config(rc)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if *rid.Arn != "arn:aws:iam::"+e.AccountID+":root" || *rid.UserId != e.AccountID || *rid.Account != e.AccountID ||
		!strings.HasPrefix(*root.Credentials.AccessKeyId, "ASIA") {
		t.Fatalf("root session identity %+v", rid)
	}
}

// TestAuditRecordsNoSecrets: AssumeRole and CreateAccessKey are recorded
// without secrets (session tokens hidden), and a session's calls carry its
// sessionContext.
func TestAuditRecordsNoSecrets(t *testing.T) {
	e := testenv.New(t)
	alice := user(t, e, e.Creds(), "alice")
	arn := role(t, e, e.Creds(), "R", trustAWS("arn:aws:iam::"+e.AccountID+":user/alice"))
	out := must(sts.NewFromConfig(e.Config(alice)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("audited")}))
	must(sts.NewFromConfig(e.Config(sessionCreds(out))).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	var recs []string
	err := e.Server.DB.Read(ctx, func(tx *store.Tx) error {
		return audit.StoredRecords(ctx, tx, func(_ int64, r []byte) error {
			recs = append(recs, string(r))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(recs, "\n")
	for _, secret := range []string{alice.SecretAccessKey, *out.Credentials.SecretAccessKey, *out.Credentials.SessionToken} {
		if strings.Contains(all, secret) {
			t.Errorf("secret %.6s... recorded", secret)
		}
	}
	for _, want := range []string{`"eventName":"AssumeRole"`, `"eventName":"CreateAccessKey"`, `"accessKeyId":"` + *out.Credentials.AccessKeyId + `"`,
		`"sessionIssuer":{"type":"Role"`, `"userName":"R"`, `"arn":"arn:aws:sts::` + e.AccountID + `:assumed-role/R/audited"`} {
		if !strings.Contains(all, want) {
			t.Errorf("no %s in records", want)
		}
	}
}

// TestRoleChaining: a role session may assume another role its trust
// policy admits, for at most one hour, as on AWS.
func TestRoleChaining(t *testing.T) {
	e := testenv.New(t)
	alice := user(t, e, e.Creds(), "alice")
	first := role(t, e, e.Creds(), "First", trustAWS("arn:aws:iam::"+e.AccountID+":user/alice"), allowAssume)
	second := role(t, e, e.Creds(), "Second", trustAWS("arn:aws:iam::"+e.AccountID+":role/First"), iamRead)
	out := must(sts.NewFromConfig(e.Config(alice)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(first), RoleSessionName: aws.String("hop1")}))
	sc := sts.NewFromConfig(e.Config(sessionCreds(out)))
	_, err := sc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(second), RoleSessionName: aws.String("hop2"), DurationSeconds: aws.Int32(3601)})
	if code(err) != "ValidationError" || message(err) != "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining." {
		t.Fatalf("chained over an hour: %v", err)
	}
	out2, err := sc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(second), RoleSessionName: aws.String("hop2"), DurationSeconds: aws.Int32(3600)})
	if err != nil {
		t.Fatalf("chained: %v", err)
	}
	id := must(sts.NewFromConfig(e.Config(sessionCreds(out2))).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if *id.Arn != "arn:aws:sts::"+e.AccountID+":assumed-role/Second/hop2" {
		t.Fatalf("chained identity %s", *id.Arn)
	}
	// Alice herself is not in Second's trust policy.
	if _, err := sts.NewFromConfig(e.Config(alice)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(second), RoleSessionName: aws.String("s")}); code(err) != "AccessDenied" {
		t.Fatalf("alice into Second: %v", err)
	}
}

// TestUpdateAssumeRolePolicy: a new trust policy takes effect at once.
func TestUpdateAssumeRolePolicy(t *testing.T) {
	e := testenv.New(t)
	alice := user(t, e, e.Creds(), "alice")
	bob := user(t, e, e.Creds(), "bob")
	arn := role(t, e, e.Creds(), "R", trustAWS("arn:aws:iam::"+e.AccountID+":user/alice"))
	assume := func(c aws.Credentials) error {
		_, err := sts.NewFromConfig(e.Config(c)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s1")})
		return err
	}
	if err := assume(alice); err != nil {
		t.Fatal(err)
	}
	if code(assume(bob)) != "AccessDenied" {
		t.Fatal("bob allowed before the update")
	}
	must(iam.NewFromConfig(e.Config()).UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("R"),
		PolicyDocument: aws.String(trustAWS("arn:aws:iam::" + e.AccountID + ":user/bob"))}))
	if err := assume(bob); err != nil {
		t.Fatalf("bob after the update: %v", err)
	}
	if code(assume(alice)) != "AccessDenied" {
		t.Fatal("alice still allowed after the update")
	}
	got := must(iam.NewFromConfig(e.Config()).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("R")}))
	if !strings.Contains(*got.Role.AssumeRolePolicyDocument, "user%2Fbob") {
		t.Fatalf("GetRole trust policy %s", *got.Role.AssumeRolePolicyDocument)
	}
}

// TestInactiveKeyCannotAssume: with the server's key cache on (as in
// production), deactivating a key refuses it at SigV4 at once, for
// AssumeRole as for every call, and deleting it too.
func TestInactiveKeyCannotAssume(t *testing.T) {
	e := testenv.New(t, testenv.Options{Configure: func(c *server.Config) { c.KeyCacheTTL = time.Hour }})
	alice := user(t, e, e.Creds(), "alice")
	arn := role(t, e, e.Creds(), "R", trustAWS("arn:aws:iam::"+e.AccountID+":user/alice"))
	in := &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s1")}
	if _, err := sts.NewFromConfig(e.Config(alice)).AssumeRole(ctx, in); err != nil {
		t.Fatal(err) // the key is now cached
	}
	root := iam.NewFromConfig(e.Config())
	must(root.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(alice.AccessKeyID), Status: "Inactive"}))
	_, err := sts.NewFromConfig(e.Config(alice)).AssumeRole(ctx, in)
	if code(err) != "InvalidClientTokenId" || message(err) != "The security token included in the request is invalid." {
		t.Fatalf("inactive key: %v", err)
	}
	must(root.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(alice.AccessKeyID), Status: "Active"}))
	if _, err := sts.NewFromConfig(e.Config(alice)).AssumeRole(ctx, in); err != nil {
		t.Fatalf("reactivated: %v", err)
	}
	must(root.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(alice.AccessKeyID)}))
	if _, err := sts.NewFromConfig(e.Config(alice)).AssumeRole(ctx, in); code(err) != "InvalidClientTokenId" {
		t.Fatalf("deleted key: %v", err)
	}
}

// TestWhoActed: the CloudTrail userIdentity of calls made by a real IAM
// user and by a real AssumeRole session (read back with LookupEvents) has
// every field cloudtrail.md §1.3 lists, with the values IAM and STS issued.
func TestWhoActed(t *testing.T) {
	e := testenv.New(t)
	acct := e.AccountID
	alice := user(t, e, e.Creds(), "alice")
	arn := role(t, e, e.Creds(), "Deployer", trustAWS("arn:aws:iam::"+acct+":user/alice"))
	roleOut := must(iam.NewFromConfig(e.Config()).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Deployer")}))
	userOut := must(iam.NewFromConfig(e.Config()).GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")}))
	before := time.Now().UTC().Truncate(time.Second)
	out := must(sts.NewFromConfig(e.Config(alice)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("deploy")}))
	sess := sessionCreds(out)
	must(sts.NewFromConfig(e.Config(sess)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))

	type identity struct {
		Type, PrincipalID, Arn, AccountID, AccessKeyID, UserName string
		SessionContext                                           *struct {
			SessionIssuer struct{ Type, PrincipalID, Arn, AccountID, UserName string }
			Attributes    struct{ CreationDate, MfaAuthenticated string }
		}
	}
	events := must(cloudtrail.NewFromConfig(e.Config()).LookupEvents(ctx, &cloudtrail.LookupEventsInput{}))
	got := map[string]identity{}
	for _, ev := range events.Events {
		var rec struct {
			EventName    string
			UserIdentity identity
		}
		if err := json.Unmarshal([]byte(*ev.CloudTrailEvent), &rec); err != nil {
			t.Fatal(err)
		}
		got[rec.EventName+"/"+rec.UserIdentity.Type] = rec.UserIdentity
	}
	u := got["AssumeRole/IAMUser"]
	if u.PrincipalID != *userOut.User.UserId || u.Arn != "arn:aws:iam::"+acct+":user/alice" || u.AccountID != acct ||
		u.AccessKeyID != alice.AccessKeyID || u.UserName != "alice" || u.SessionContext != nil {
		t.Errorf("IAMUser identity %+v", u)
	}
	s := got["GetCallerIdentity/AssumedRole"]
	if s.PrincipalID != *roleOut.Role.RoleId+":deploy" || s.Arn != "arn:aws:sts::"+acct+":assumed-role/Deployer/deploy" ||
		s.AccountID != acct || s.AccessKeyID != sess.AccessKeyID || s.SessionContext == nil {
		t.Fatalf("AssumedRole identity %+v", s)
	}
	si := s.SessionContext.SessionIssuer
	if si.Type != "Role" || si.PrincipalID != *roleOut.Role.RoleId || si.Arn != arn || si.AccountID != acct || si.UserName != "Deployer" {
		t.Errorf("sessionIssuer %+v", si)
	}
	created, err := time.Parse(time.RFC3339, s.SessionContext.Attributes.CreationDate)
	if err != nil || created.Before(before) || created.After(time.Now().Add(time.Second)) || s.SessionContext.Attributes.MfaAuthenticated != "false" {
		t.Errorf("attributes %+v (%v)", s.SessionContext.Attributes, err)
	}
	r := got["CreateRole/Root"]
	if r.PrincipalID != acct || r.Arn != "arn:aws:iam::"+acct+":root" || r.AccountID != acct || r.AccessKeyID != e.Root.AccessKeyID {
		t.Errorf("Root identity %+v", r)
	}
}
