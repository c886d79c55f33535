package iam_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

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

// newUser creates a user with the given inline policies and a key, and
// returns its credentials.
func newUser(t *testing.T, e *testenv.Env, name string, policies ...string) aws.Credentials {
	t.Helper()
	c := iam.NewFromConfig(e.Config())
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	for i, p := range policies {
		if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name),
			PolicyName: aws.String("p" + string(rune('0'+i))), PolicyDocument: aws.String(p)}); err != nil {
			t.Fatal(err)
		}
	}
	k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.Credentials{AccessKeyID: *k.AccessKey.AccessKeyId, SecretAccessKey: *k.AccessKey.SecretAccessKey}
}

func TestUsersKeysAndPolicies(t *testing.T) {
	e := testenv.New(t)
	c := iam.NewFromConfig(e.Config())
	out, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/team/")})
	if err != nil {
		t.Fatal(err)
	}
	u := out.User
	if !strings.HasPrefix(*u.UserId, "AIDA") || len(*u.UserId) != 21 || *u.Arn != "arn:aws:iam::"+e.AccountID+":user/team/alice" || *u.Path != "/team/" {
		t.Fatalf("user %+v", u)
	}
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ALICE")}); code(err) != "EntityAlreadyExists" {
		t.Fatalf("duplicate (case-insensitive): %v", err)
	}
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bad name")}); code(err) != "ValidationError" {
		t.Fatalf("bad name: %v", err)
	}
	if _, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")}); code(err) != "NoSuchEntity" || message(err) != "The user with name nobody cannot be found." {
		t.Fatalf("get missing: %v", err)
	}
	g, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")})
	if err != nil || *g.User.UserId != *u.UserId || g.User.CreateDate == nil {
		t.Fatalf("get: %v %+v", err, g)
	}

	// Keys: secret shown once, two at most, listing, inactive keys.
	k1, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil || !strings.HasPrefix(*k1.AccessKey.AccessKeyId, "AKIA") || len(*k1.AccessKey.SecretAccessKey) != 40 {
		t.Fatalf("key: %v", err)
	}
	if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")}); code(err) != "LimitExceeded" {
		t.Fatalf("third key: %v", err)
	}
	lk, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")})
	if err != nil || len(lk.AccessKeyMetadata) != 2 || *lk.AccessKeyMetadata[0].UserName != "alice" {
		t.Fatalf("list keys: %v %+v", err, lk)
	}

	// DeleteUser conflicts while keys or policies exist.
	if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")}); code(err) != "DeleteConflict" ||
		!strings.Contains(message(err), "access keys") {
		t.Fatalf("delete with keys: %v", err)
	}
	for _, k := range lk.AccessKeyMetadata {
		if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k.AccessKeyId}); err != nil {
			t.Fatal(err)
		}
	}
	doc := `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}}`
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("who"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	gp, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("who")})
	if err != nil {
		t.Fatal(err)
	}
	if dec, _ := url.QueryUnescape(*gp.PolicyDocument); dec != doc || !strings.Contains(*gp.PolicyDocument, "%22Version%22%3A%20") {
		t.Fatalf("document not returned URL-encoded as sent: %q", *gp.PolicyDocument)
	}
	if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")}); code(err) != "DeleteConflict" ||
		!strings.Contains(message(err), "policies") {
		t.Fatalf("delete with policies: %v", err)
	}
	lp, err := c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("alice")})
	if err != nil || len(lp.PolicyNames) != 1 || lp.PolicyNames[0] != "who" {
		t.Fatalf("list policies: %v %+v", err, lp)
	}
	if _, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("who")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("who")}); code(err) != "NoSuchEntity" {
		t.Fatalf("delete missing policy: %v", err)
	}
	if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")}); code(err) != "NoSuchEntity" {
		t.Fatalf("after delete: %v", err)
	}
}

func TestMalformedAndOversizedPolicies(t *testing.T) {
	e := testenv.New(t)
	c := iam.NewFromConfig(e.Config())
	c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")})
	for doc, want := range map[string]string{
		`{"Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity"}]}`:               "Policy statement must contain resources.",
		`{"Statement":[{"Effect":"Allow","Action":"x","Resource":"*"}]}`:                    "Actions/Conditions must be prefaced by a vendor",
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`: "Policy document should not specify a principal.",
		`{"Statement":[{"Effect":"Perhaps","Action":"s3:*","Resource":"*"}]}`:               "Invalid effect: Perhaps",
		`not json`: "Syntax errors in policy.",
	} {
		_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)})
		if code(err) != "MalformedPolicyDocument" || !strings.Contains(message(err), want) {
			t.Errorf("%s: %v", doc, err)
		}
	}
	big := `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("b", 2100) + `"}]}`
	_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("p"), PolicyDocument: aws.String(big)})
	if code(err) != "LimitExceeded" || !strings.Contains(message(err), "2048") {
		t.Fatalf("oversized: %v", err)
	}
}

func TestListUsersPaging(t *testing.T) {
	e := testenv.New(t)
	c := iam.NewFromConfig(e.Config())
	for i := 0; i < 7; i++ {
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u" + string(rune('a'+i)))}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	var pages int
	p := iam.NewListUsersPaginator(c, &iam.ListUsersInput{MaxItems: aws.Int32(3)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range out.Users {
			names = append(names, *u.UserName)
		}
	}
	if pages != 3 || strings.Join(names, ",") != "ua,ub,uc,ud,ue,uf,ug" {
		t.Fatalf("pages %d names %v", pages, names)
	}
	if _, err := c.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(0)}); code(err) != "ValidationError" {
		t.Fatalf("MaxItems 0: %v", err)
	}
}

func TestRoles(t *testing.T) {
	e := testenv.New(t)
	c := iam.NewFromConfig(e.Config())
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + e.AccountID + `:root"},"Action":"sts:AssumeRole"}]}`
	out, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("Deployer"), Path: aws.String("/ci/"),
		AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: aws.Int32(7200), Description: aws.String("deploys")})
	if err != nil {
		t.Fatal(err)
	}
	r := out.Role
	if !strings.HasPrefix(*r.RoleId, "AROA") || *r.Arn != "arn:aws:iam::"+e.AccountID+":role/ci/Deployer" || *r.MaxSessionDuration != 7200 {
		t.Fatalf("role %+v", r)
	}
	if dec, _ := url.QueryUnescape(*r.AssumeRolePolicyDocument); dec != trust {
		t.Fatalf("trust policy %q", *r.AssumeRolePolicyDocument)
	}
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: aws.Int32(100)}); code(err) != "ValidationError" {
		t.Fatalf("max session 100: %v", err)
	}
	bad := `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject"}]}`
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(bad)}); code(err) != "MalformedPolicyDocument" {
		t.Fatalf("non-sts trust action: %v", err)
	}
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deployer"), AssumeRolePolicyDocument: aws.String(trust)}); code(err) != "EntityAlreadyExists" {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("Deployer"), PolicyName: aws.String("lex"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lex:*","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("Deployer")}); code(err) != "DeleteConflict" {
		t.Fatalf("delete with policy: %v", err)
	}
	gp, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("Deployer"), PolicyName: aws.String("LEX")})
	if err != nil || *gp.PolicyName != "lex" {
		t.Fatalf("get role policy: %v", err)
	}
	lr, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("Deployer")})
	if err != nil || len(lr.PolicyNames) != 1 {
		t.Fatalf("list role policies: %v", err)
	}
	if _, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("Deployer"), PolicyDocument: aws.String(bad)}); code(err) != "MalformedPolicyDocument" {
		t.Fatalf("update bad trust: %v", err)
	}
	if _, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("Deployer"), PolicyName: aws.String("lex")}); err != nil {
		t.Fatal(err)
	}
	roles, err := c.ListRoles(ctx, &iam.ListRolesInput{})
	if err != nil || len(roles.Roles) != 1 {
		t.Fatalf("list roles: %v %+v", err, roles)
	}
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("Deployer")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Deployer")}); code(err) != "NoSuchEntity" || message(err) != "The role with name Deployer cannot be found." {
		t.Fatalf("after delete: %v", err)
	}
}

// TestServiceLinkedRoleForLex: the conversation-logs seed creates Lex's
// service-linked role with a custom suffix.
func TestServiceLinkedRoleForLex(t *testing.T) {
	e := testenv.New(t)
	c := iam.NewFromConfig(e.Config())
	out, err := c.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("lex.amazonaws.com"), CustomSuffix: aws.String("convlogs")})
	if err != nil {
		t.Fatal(err)
	}
	r := out.Role
	if *r.RoleName != "AWSServiceRoleForLexBots_convlogs" || *r.Path != "/aws-service-role/lex.amazonaws.com/" ||
		*r.Arn != "arn:aws:iam::"+e.AccountID+":role/aws-service-role/lex.amazonaws.com/AWSServiceRoleForLexBots_convlogs" {
		t.Fatalf("role %+v", r)
	}
	doc, _ := url.QueryUnescape(*r.AssumeRolePolicyDocument)
	if !strings.Contains(doc, `"Service":["lex.amazonaws.com"]`) || !strings.Contains(doc, "sts:AssumeRole") {
		t.Fatalf("trust %s", doc)
	}
	if _, err := c.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("lex.amazonaws.com"), CustomSuffix: aws.String("convlogs")}); code(err) != "InvalidInput" {
		t.Fatalf("same suffix twice: %v", err)
	}
	plain, err := c.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("lex.amazonaws.com")})
	if err != nil || *plain.Role.RoleName != "AWSServiceRoleForLexBots" {
		t.Fatalf("no suffix: %v", err)
	}
	if _, err := c.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("lex.amazon.aws.com"), CustomSuffix: aws.String("x")}); code(err) != "InvalidInput" {
		t.Fatalf("seed's misspelt service: %v", err)
	}
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("AWSServiceRoleForLexBots")}); code(err) != "UnmodifiableEntity" {
		t.Fatalf("delete service-linked role: %v", err)
	}
	g, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("awsservicerolefor" + "lexbots_convlogs")})
	if err != nil || *g.Role.RoleName != "AWSServiceRoleForLexBots_convlogs" {
		t.Fatalf("get: %v", err)
	}
	_ = types.StatusTypeActive
}

// TestOnlyGetCallerIdentity: a user whose policy allows only
// sts:GetCallerIdentity can call it and nothing else.
func TestOnlyGetCallerIdentity(t *testing.T) {
	e := testenv.New(t)
	creds := newUser(t, e, "carol", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}`)
	cfg := e.Config(creds)
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(*id.UserId, "AIDA") || *id.Arn != "arn:aws:iam::"+e.AccountID+":user/carol" || *id.Account != e.AccountID {
		t.Fatalf("identity %+v", id)
	}
	_, err = iam.NewFromConfig(cfg).ListUsers(ctx, &iam.ListUsersInput{})
	want := "User: arn:aws:iam::" + e.AccountID + ":user/carol is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::" + e.AccountID + ":user/ because no identity-based policy allows the iam:ListUsers action"
	if code(err) != "AccessDenied" || message(err) != want {
		t.Fatalf("ListUsers: %v\nwant %s", err, want)
	}
	// IAM names an existing user "user <name>" in the message.
	_, err = iam.NewFromConfig(cfg).GetUser(ctx, &iam.GetUserInput{})
	want = "User: arn:aws:iam::" + e.AccountID + ":user/carol is not authorized to perform: iam:GetUser on resource: user carol because no identity-based policy allows the iam:GetUser action"
	if code(err) != "AccessDenied" || message(err) != want {
		t.Fatalf("GetUser self: %v", err)
	}
	_, err = sts.NewFromConfig(cfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + e.AccountID + ":role/x"), RoleSessionName: aws.String("s1")})
	if code(err) != "AccessDenied" {
		t.Fatalf("AssumeRole: %v", err)
	}
}

// TestDenyBeatsAllow: an explicit Deny wins over an Allow end to end, with
// AWS's "with an explicit deny" message; NotAction allows the rest.
func TestDenyBeatsAllow(t *testing.T) {
	e := testenv.New(t)
	creds := newUser(t, e, "dave",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["iam:Get*","iam:List*"],"Resource":"*"}]}`)
	c := iam.NewFromConfig(e.Config(creds))
	if _, err := c.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("allowed List: %v", err)
	}
	_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("eve")})
	want := "User: arn:aws:iam::" + e.AccountID + ":user/dave is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::" + e.AccountID + ":user/eve with an explicit deny in an identity-based policy"
	if code(err) != "AccessDenied" || message(err) != want {
		t.Fatalf("CreateUser: %v", err)
	}
	// Removing the deny takes effect at once (cache invalidated on commit).
	root := iam.NewFromConfig(e.Config())
	if _, err := root.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("dave"), PolicyName: aws.String("p1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("eve")}); err != nil {
		t.Fatalf("after removing the deny: %v", err)
	}
}

// TestInactiveKey: an inactive key is refused at SigV4 with
// InvalidClientTokenId, and works again once reactivated.
func TestInactiveKey(t *testing.T) {
	e := testenv.New(t)
	creds := newUser(t, e, "frank")
	root := iam.NewFromConfig(e.Config())
	if _, err := root.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("frank"), AccessKeyId: aws.String(creds.AccessKeyID), Status: types.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	_, err := sts.NewFromConfig(e.Config(creds)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if code(err) != "InvalidClientTokenId" {
		t.Fatalf("inactive: %v", err)
	}
	if _, err := root.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("frank"), AccessKeyId: aws.String(creds.AccessKeyID), Status: types.StatusTypeActive}); err != nil {
		t.Fatal(err)
	}
	if _, err := sts.NewFromConfig(e.Config(creds)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("reactivated: %v", err)
	}
	if _, err := root.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("frank"), AccessKeyId: aws.String("AKIANOSUCHKEY0000000"), Status: types.StatusTypeActive}); code(err) != "NoSuchEntity" {
		t.Fatalf("missing key: %v", err)
	}
}
