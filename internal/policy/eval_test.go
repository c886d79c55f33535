package policy

import (
	"fmt"
	"strings"
	"testing"
)

const (
	acctA = "111122223333"
	acctB = "444455556666"
	botB1 = "arn:aws:lex:us-east-1:111122223333:bot/B1"
)

var (
	alice   = &Principal{AccountID: acctA, ARN: "arn:aws:iam::111122223333:user/alice"}
	bob     = &Principal{AccountID: acctA, ARN: "arn:aws:iam::111122223333:user/bob"}
	carol   = &Principal{AccountID: acctB, ARN: "arn:aws:iam::444455556666:user/carol"}
	rootA   = &Principal{AccountID: acctA, ARN: "arn:aws:iam::111122223333:root", IsRoot: true}
	session = &Principal{AccountID: acctA, ARN: "arn:aws:sts::111122223333:assumed-role/Builder/s1",
		RoleARN: "arn:aws:iam::111122223333:role/Builder"}
	lexSvc = &Principal{Service: "lex.amazonaws.com"}
)

// doc wraps statements in a 2012-10-17 policy document.
func doc(stmts ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// cond is an identity statement allowing lex:PutBot on bot B1 under a condition.
func cond(c string) string {
	return doc(`{"Effect":"Allow","Action":"lex:PutBot","Resource":"` + botB1 + `","Condition":` + c + `}`)
}

type ctx = map[string][]string

func one(k, v string) ctx { return ctx{k: {v}} }

type evalCase struct {
	name      string
	kind      Kind
	doc       string
	action    string
	resource  string
	principal *Principal
	ctx       ctx
	want      Effect
}

func evalCases() []evalCase {
	allow := func(action, resource string) string {
		return fmt.Sprintf(`{"Effect":"Allow","Action":%q,"Resource":%q}`, action, resource)
	}
	res := func(principal string) string {
		return doc(`{"Effect":"Allow","Principal":` + principal + `,"Action":"lex:PutBot","Resource":"*"}`)
	}
	now := "2026-03-01T12:00:00Z"
	return []evalCase{
		// Actions and resources.
		{name: "exact allow", doc: doc(allow("lex:PutBot", botB1)), want: Allow},
		{name: "other action", doc: doc(allow("lex:DeleteBot", botB1)), want: NoMatch},
		{name: "action case-insensitive", doc: doc(allow("LEX:putbot", botB1)), want: Allow},
		{name: "action prefix wildcard", doc: doc(allow("lex:Put*", botB1)), want: Allow},
		{name: "action prefix wildcard miss", doc: doc(allow("lex:Put*", botB1)), action: "lex:GetBot", want: NoMatch},
		{name: "action ? wildcard", doc: doc(allow("lex:PutBo?", botB1)), want: Allow},
		{name: "action ? needs one char", doc: doc(allow("lex:PutBot?", botB1)), want: NoMatch},
		{name: "action star", doc: doc(allow("*", botB1)), want: Allow},
		{name: "action suffix wildcard", doc: doc(allow("lex:*bot", botB1)), want: Allow},
		{name: "action inner wildcard", doc: doc(allow("l*:P*B*t", botB1)), want: Allow},
		{name: "other service", doc: doc(allow("s3:*", botB1)), want: NoMatch},
		{name: "deny beats allow", doc: doc(allow("lex:*", "*"), `{"Effect":"Deny","Action":"lex:PutBot","Resource":"`+botB1+`"}`), want: Deny},
		{name: "deny first beats later allow", doc: doc(`{"Effect":"Deny","Action":"*","Resource":"*"}`, allow("lex:PutBot", botB1)), want: Deny},
		{name: "NotAction applies", doc: doc(`{"Effect":"Allow","NotAction":"lex:DeleteBot","Resource":"*"}`), want: Allow},
		{name: "NotAction excludes", doc: doc(`{"Effect":"Allow","NotAction":["iam:*","lex:Delete*"],"Resource":"*"}`), action: "lex:DeleteBot", want: NoMatch},
		{name: "NotResource deny applies", doc: doc(`{"Effect":"Deny","Action":"lex:*","NotResource":"arn:aws:lex:us-east-1:111122223333:bot/B2"}`), want: Deny},
		{name: "NotResource deny excludes", doc: doc(`{"Effect":"Deny","Action":"lex:*","NotResource":"` + botB1 + `"}`), want: NoMatch},
		{name: "resource wildcards", doc: doc(allow("lex:PutBot", "arn:aws:lex:*:111122223333:bot/*")), want: Allow},
		{name: "resource ?", doc: doc(allow("lex:PutBot", "arn:aws:lex:us-east-1:111122223333:bot/B?")), want: Allow},
		{name: "resource ? exactly one", doc: doc(allow("lex:PutBot", "arn:aws:lex:us-east-1:111122223333:bot/B?")), resource: "arn:aws:lex:us-east-1:111122223333:bot/B12", want: NoMatch},
		{name: "resource case-sensitive", doc: doc(allow("lex:PutBot", "arn:aws:lex:us-east-1:111122223333:bot/b1")), want: NoMatch},
		{name: "resource star", doc: doc(allow("lex:PutBot", "*")), want: Allow},
		{name: "resource star matches star", doc: doc(allow("lex:PutBot", "*")), resource: "*", want: Allow},
		{name: "resource multi-star backtracking", doc: doc(allow("s3:GetObject", "arn:aws:s3:::*/logs/*.txt")), action: "s3:GetObject", resource: "arn:aws:s3:::bkt/logs/a/logs/b.txt", want: Allow},
		{name: "resource multi-star miss", doc: doc(allow("s3:GetObject", "arn:aws:s3:::*/logs/*.txt")), action: "s3:GetObject", resource: "arn:aws:s3:::bkt/logs/a.txt.gz", want: NoMatch},
		{name: "other account resource", doc: doc(allow("lex:PutBot", "arn:aws:lex:us-east-1:444455556666:bot/*")), want: NoMatch},

		// Condition operators: one passing and one failing case each.
		{name: "StringEquals pass", doc: cond(`{"StringEquals":{"aws:username":"alice"}}`), ctx: one("aws:username", "alice"), want: Allow},
		{name: "StringEquals fail (case)", doc: cond(`{"StringEquals":{"aws:username":"alice"}}`), ctx: one("aws:username", "Alice"), want: NoMatch},
		{name: "StringNotEquals pass", doc: cond(`{"StringNotEquals":{"aws:username":"bob"}}`), ctx: one("aws:username", "alice"), want: Allow},
		{name: "StringNotEquals fail", doc: cond(`{"StringNotEquals":{"aws:username":"alice"}}`), ctx: one("aws:username", "alice"), want: NoMatch},
		{name: "StringEqualsIgnoreCase pass", doc: cond(`{"StringEqualsIgnoreCase":{"aws:username":"ALICE"}}`), ctx: one("aws:username", "alice"), want: Allow},
		{name: "StringEqualsIgnoreCase fail", doc: cond(`{"StringEqualsIgnoreCase":{"aws:username":"bob"}}`), ctx: one("aws:username", "alice"), want: NoMatch},
		{name: "StringNotEqualsIgnoreCase pass", doc: cond(`{"StringNotEqualsIgnoreCase":{"aws:username":"BOB"}}`), ctx: one("aws:username", "alice"), want: Allow},
		{name: "StringNotEqualsIgnoreCase fail", doc: cond(`{"StringNotEqualsIgnoreCase":{"aws:username":"ALICE"}}`), ctx: one("aws:username", "alice"), want: NoMatch},
		{name: "StringLike pass", doc: cond(`{"StringLike":{"s3:prefix":"home/*/docs/?"}}`), ctx: one("s3:prefix", "home/alice/docs/x"), want: Allow},
		{name: "StringLike fail", doc: cond(`{"StringLike":{"s3:prefix":"home/*/docs/?"}}`), ctx: one("s3:prefix", "home/alice/docs/xy"), want: NoMatch},
		{name: "StringNotLike pass", doc: cond(`{"StringNotLike":{"s3:prefix":"tmp/*"}}`), ctx: one("s3:prefix", "home/a"), want: Allow},
		{name: "StringNotLike fail", doc: cond(`{"StringNotLike":{"s3:prefix":"tmp/*"}}`), ctx: one("s3:prefix", "tmp/a"), want: NoMatch},
		{name: "NumericEquals pass", doc: cond(`{"NumericEquals":{"s3:max-keys":10}}`), ctx: one("s3:max-keys", "10.0"), want: Allow},
		{name: "NumericEquals fail", doc: cond(`{"NumericEquals":{"s3:max-keys":"10"}}`), ctx: one("s3:max-keys", "11"), want: NoMatch},
		{name: "NumericNotEquals pass", doc: cond(`{"NumericNotEquals":{"s3:max-keys":"10"}}`), ctx: one("s3:max-keys", "11"), want: Allow},
		{name: "NumericNotEquals fail", doc: cond(`{"NumericNotEquals":{"s3:max-keys":"10"}}`), ctx: one("s3:max-keys", "10"), want: NoMatch},
		{name: "NumericLessThan pass", doc: cond(`{"NumericLessThan":{"s3:max-keys":"10"}}`), ctx: one("s3:max-keys", "9"), want: Allow},
		{name: "NumericLessThan fail", doc: cond(`{"NumericLessThan":{"s3:max-keys":"10"}}`), ctx: one("s3:max-keys", "10"), want: NoMatch},
		{name: "NumericLessThanEquals pass", doc: cond(`{"NumericLessThanEquals":{"s3:max-keys":"10"}}`), ctx: one("s3:max-keys", "10"), want: Allow},
		{name: "NumericLessThanEquals fail", doc: cond(`{"NumericLessThanEquals":{"s3:max-keys":"10"}}`), ctx: one("s3:max-keys", "10.5"), want: NoMatch},
		{name: "NumericGreaterThan pass", doc: cond(`{"NumericGreaterThan":{"s3:max-keys":"10"}}`), ctx: one("s3:max-keys", "11"), want: Allow},
		{name: "NumericGreaterThan fail", doc: cond(`{"NumericGreaterThan":{"s3:max-keys":"10"}}`), ctx: one("s3:max-keys", "10"), want: NoMatch},
		{name: "NumericGreaterThanEquals pass", doc: cond(`{"NumericGreaterThanEquals":{"s3:max-keys":"10"}}`), ctx: one("s3:max-keys", "10"), want: Allow},
		{name: "NumericGreaterThanEquals fail", doc: cond(`{"NumericGreaterThanEquals":{"s3:max-keys":"10"}}`), ctx: one("s3:max-keys", "abc"), want: NoMatch},
		{name: "DateEquals pass (epoch vs ISO)", doc: cond(`{"DateEquals":{"aws:currenttime":"1772366400"}}`), ctx: one("aws:currenttime", now), want: Allow},
		{name: "DateEquals fail", doc: cond(`{"DateEquals":{"aws:CurrentTime":"2026-03-01"}}`), ctx: one("aws:currenttime", now), want: NoMatch},
		{name: "DateNotEquals pass", doc: cond(`{"DateNotEquals":{"aws:CurrentTime":"2026-03-01"}}`), ctx: one("aws:currenttime", now), want: Allow},
		{name: "DateNotEquals fail", doc: cond(`{"DateNotEquals":{"aws:CurrentTime":"2026-03-01T13:00:00+01:00"}}`), ctx: one("aws:currenttime", now), want: NoMatch},
		{name: "DateLessThan pass", doc: cond(`{"DateLessThan":{"aws:CurrentTime":"2027-01-01T00:00:00Z"}}`), ctx: one("aws:currenttime", now), want: Allow},
		{name: "DateLessThan fail", doc: cond(`{"DateLessThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}`), ctx: one("aws:currenttime", now), want: NoMatch},
		{name: "DateLessThanEquals pass", doc: cond(`{"DateLessThanEquals":{"aws:CurrentTime":"` + now + `"}}`), ctx: one("aws:currenttime", now), want: Allow},
		{name: "DateLessThanEquals fail", doc: cond(`{"DateLessThanEquals":{"aws:CurrentTime":"2026-03-01T11:59:59Z"}}`), ctx: one("aws:currenttime", now), want: NoMatch},
		{name: "DateGreaterThan pass", doc: cond(`{"DateGreaterThan":{"aws:CurrentTime":"2026-03-01"}}`), ctx: one("aws:currenttime", now), want: Allow},
		{name: "DateGreaterThan fail", doc: cond(`{"DateGreaterThan":{"aws:CurrentTime":"2026-03-02"}}`), ctx: one("aws:currenttime", now), want: NoMatch},
		{name: "DateGreaterThanEquals pass", doc: cond(`{"DateGreaterThanEquals":{"aws:CurrentTime":1772366400}}`), ctx: one("aws:currenttime", now), want: Allow},
		{name: "DateGreaterThanEquals fail", doc: cond(`{"DateGreaterThanEquals":{"aws:CurrentTime":1772366401}}`), ctx: one("aws:currenttime", now), want: NoMatch},
		{name: "Bool pass", doc: cond(`{"Bool":{"aws:SecureTransport":true}}`), ctx: one("aws:securetransport", "true"), want: Allow},
		{name: "Bool fail", doc: cond(`{"Bool":{"aws:SecureTransport":"true"}}`), ctx: one("aws:securetransport", "false"), want: NoMatch},
		{name: "BinaryEquals pass", doc: cond(`{"BinaryEquals":{"lex:blob":"QmluYXJ5"}}`), ctx: one("lex:blob", "QmluYXJ5"), want: Allow},
		{name: "BinaryEquals fail", doc: cond(`{"BinaryEquals":{"lex:blob":"QmluYXJ5"}}`), ctx: one("lex:blob", "QmluYXJa"), want: NoMatch},
		{name: "IpAddress pass", doc: cond(`{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:db8::/32"]}}`), ctx: one("aws:sourceip", "203.0.113.7"), want: Allow},
		{name: "IpAddress pass v6", doc: cond(`{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:db8::/32"]}}`), ctx: one("aws:sourceip", "2001:db8::1"), want: Allow},
		{name: "IpAddress fail", doc: cond(`{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`), ctx: one("aws:sourceip", "198.51.100.1"), want: NoMatch},
		{name: "NotIpAddress pass", doc: cond(`{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`), ctx: one("aws:sourceip", "198.51.100.1"), want: Allow},
		{name: "NotIpAddress fail", doc: cond(`{"NotIpAddress":{"aws:SourceIp":"203.0.113.5"}}`), ctx: one("aws:sourceip", "203.0.113.5"), want: NoMatch},
		{name: "ArnEquals pass", doc: cond(`{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111122223333:topic"}}`), ctx: one("aws:sourcearn", "arn:aws:sns:us-east-1:111122223333:topic"), want: Allow},
		{name: "ArnEquals fail", doc: cond(`{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111122223333:topic"}}`), ctx: one("aws:sourcearn", "arn:aws:sns:us-east-1:111122223333:other"), want: NoMatch},
		{name: "ArnLike pass", doc: cond(`{"ArnLike":{"aws:SourceArn":"arn:aws:lex:*:111122223333:bot/*"}}`), ctx: one("aws:sourcearn", botB1), want: Allow},
		{name: "ArnLike wildcard stays in its component", doc: cond(`{"ArnLike":{"aws:SourceArn":"arn:aws:lex:*:bot/*"}}`), ctx: one("aws:sourcearn", botB1), want: NoMatch},
		{name: "ArnNotEquals pass", doc: cond(`{"ArnNotEquals":{"aws:SourceArn":"arn:aws:lex:us-east-1:111122223333:bot/B2"}}`), ctx: one("aws:sourcearn", botB1), want: Allow},
		{name: "ArnNotEquals fail", doc: cond(`{"ArnNotEquals":{"aws:SourceArn":"` + botB1 + `"}}`), ctx: one("aws:sourcearn", botB1), want: NoMatch},
		{name: "ArnNotLike pass", doc: cond(`{"ArnNotLike":{"aws:SourceArn":"arn:aws:lex:*:444455556666:*"}}`), ctx: one("aws:sourcearn", botB1), want: Allow},
		{name: "ArnNotLike fail", doc: cond(`{"ArnNotLike":{"aws:SourceArn":"arn:aws:lex:*:111122223333:*"}}`), ctx: one("aws:sourcearn", botB1), want: NoMatch},
		{name: "Null true pass (absent)", doc: cond(`{"Null":{"aws:TokenIssueTime":"true"}}`), want: Allow},
		{name: "Null true fail (present)", doc: cond(`{"Null":{"aws:TokenIssueTime":"true"}}`), ctx: one("aws:tokenissuetime", now), want: NoMatch},
		{name: "Null false pass (present)", doc: cond(`{"Null":{"aws:TokenIssueTime":false}}`), ctx: one("aws:tokenissuetime", now), want: Allow},
		{name: "Null false fail (absent)", doc: cond(`{"Null":{"aws:TokenIssueTime":false}}`), want: NoMatch},

		// Missing keys, IfExists, set operators.
		{name: "missing key positive false", doc: cond(`{"StringEquals":{"aws:username":"alice"}}`), want: NoMatch},
		{name: "missing key negated true", doc: cond(`{"StringNotEquals":{"aws:username":"alice"}}`), want: Allow},
		{name: "IfExists missing true", doc: cond(`{"StringEqualsIfExists":{"aws:username":"alice"}}`), want: Allow},
		{name: "IfExists present mismatch", doc: cond(`{"StringEqualsIfExists":{"aws:username":"alice"}}`), ctx: one("aws:username", "bob"), want: NoMatch},
		{name: "NumericLessThanIfExists present", doc: cond(`{"NumericLessThanIfExists":{"s3:max-keys":"10"}}`), ctx: one("s3:max-keys", "5"), want: Allow},
		{name: "ForAnyValue hit", doc: cond(`{"ForAnyValue:StringEquals":{"aws:TagKeys":["b","z"]}}`), ctx: ctx{"aws:tagkeys": {"a", "b"}}, want: Allow},
		{name: "ForAnyValue missing false", doc: cond(`{"ForAnyValue:StringEquals":{"aws:TagKeys":["b"]}}`), want: NoMatch},
		{name: "ForAnyValue IfExists missing true", doc: cond(`{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":["b"]}}`), want: Allow},
		{name: "ForAnyValue negated", doc: cond(`{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["a"]}}`), ctx: ctx{"aws:tagkeys": {"a", "b"}}, want: Allow},
		{name: "ForAllValues subset", doc: cond(`{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b","c"]}}`), ctx: ctx{"aws:tagkeys": {"a", "b"}}, want: Allow},
		{name: "ForAllValues not subset", doc: cond(`{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b","c"]}}`), ctx: ctx{"aws:tagkeys": {"a", "d"}}, want: NoMatch},
		{name: "ForAllValues missing true", doc: cond(`{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}`), want: Allow},
		{name: "ForAllValues empty values true", doc: cond(`{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}`), ctx: ctx{"aws:tagkeys": {}}, want: Allow},
		{name: "ForAllValues StringNotLike deny matches", doc: doc(`{"Effect":"Deny","Action":"lex:*","Resource":"*","Condition":{"ForAllValues:StringNotLike":{"aws:TagKeys":"key1*"}}}`), ctx: ctx{"aws:tagkeys": {"key2:audit"}}, want: Deny},
		{name: "ForAllValues StringNotLike deny no match", doc: doc(`{"Effect":"Deny","Action":"lex:*","Resource":"*","Condition":{"ForAllValues:StringNotLike":{"aws:TagKeys":"key1*"}}}`), ctx: ctx{"aws:tagkeys": {"key1:hr", "key1:personnel"}}, want: NoMatch},
		{name: "multiple values ORed", doc: cond(`{"StringEquals":{"aws:username":["bob","alice"]}}`), ctx: one("aws:username", "alice"), want: Allow},
		{name: "multiple keys ANDed", doc: cond(`{"StringEquals":{"aws:username":"alice","aws:RequestedRegion":"us-east-1"}}`), ctx: ctx{"aws:username": {"alice"}, "aws:requestedregion": {"eu-west-1"}}, want: NoMatch},
		{name: "multiple keys ANDed pass", doc: cond(`{"StringEquals":{"aws:username":"alice","aws:RequestedRegion":"us-east-1"}}`), ctx: ctx{"aws:username": {"alice"}, "aws:requestedregion": {"us-east-1"}}, want: Allow},
		{name: "multiple operators ANDed", doc: cond(`{"StringEquals":{"aws:username":"alice"},"Bool":{"aws:MultiFactorAuthPresent":"true"}}`), ctx: ctx{"aws:username": {"alice"}, "aws:multifactorauthpresent": {"false"}}, want: NoMatch},
		{name: "negated multiple values NOR", doc: cond(`{"StringNotEquals":{"aws:username":["bob","alice"]}}`), ctx: one("aws:username", "alice"), want: NoMatch},
		{name: "condition key case-insensitive", doc: cond(`{"StringEquals":{"AWS:UserName":"alice"}}`), ctx: one("aws:username", "alice"), want: Allow},

		// Policy variables.
		{name: "variable in resource", doc: doc(allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*")), action: "s3:GetObject", resource: "arn:aws:s3:::home/alice/x", ctx: one("aws:username", "alice"), want: Allow},
		{name: "variable in resource other user", doc: doc(allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*")), action: "s3:GetObject", resource: "arn:aws:s3:::home/bob/x", ctx: one("aws:username", "alice"), want: NoMatch},
		{name: "variable literal in 2008 policy", doc: `{"Version":"2008-10-17","Statement":` + allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*") + `}`, action: "s3:GetObject", resource: "arn:aws:s3:::home/alice/x", ctx: one("aws:username", "alice"), want: NoMatch},
		{name: "variable literal without Version", doc: `{"Statement":` + allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*") + `}`, action: "s3:GetObject", resource: "arn:aws:s3:::home/${aws:username}/x", ctx: one("aws:username", "alice"), want: Allow},
		{name: "variable missing no match", doc: doc(allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*")), action: "s3:GetObject", resource: "arn:aws:s3:::home/alice/x", want: NoMatch},
		{name: "variable default", doc: doc(allow("s3:GetObject", "arn:aws:s3:::home/${aws:username, 'guest'}/*")), action: "s3:GetObject", resource: "arn:aws:s3:::home/guest/x", want: Allow},
		{name: "variable in condition", doc: cond(`{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}`), ctx: ctx{"aws:username": {"alice"}, "s3:prefix": {"home/alice/a"}}, want: Allow},
		{name: "variable PrincipalAccount in ArnLike", doc: cond(`{"ArnLike":{"aws:SourceArn":"arn:aws:lex:*:${aws:PrincipalAccount}:bot/*"}}`), ctx: ctx{"aws:principalaccount": {acctA}, "aws:sourcearn": {botB1}}, want: Allow},
		{name: "escape ${*} is literal", doc: doc(allow("s3:GetObject", "arn:aws:s3:::b/${*}")), action: "s3:GetObject", resource: "arn:aws:s3:::b/x", want: NoMatch},
		{name: "escape ${*} matches star", doc: doc(allow("s3:GetObject", "arn:aws:s3:::b/${*}${?}${$}")), action: "s3:GetObject", resource: "arn:aws:s3:::b/*?$", want: Allow},
		{name: "substituted value is literal", doc: doc(allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}")), action: "s3:GetObject", resource: "arn:aws:s3:::home/x", ctx: one("aws:username", "*"), want: NoMatch},

		// Principals (resource policies).
		{name: "principal star", kind: Resource, doc: res(`"*"`), principal: alice, want: Allow},
		{name: "principal star anonymous", kind: Resource, doc: res(`"*"`), want: Allow},
		{name: "principal AWS star", kind: Resource, doc: res(`{"AWS":"*"}`), principal: carol, want: Allow},
		{name: "principal account ID", kind: Resource, doc: res(`{"AWS":"111122223333"}`), principal: alice, want: Allow},
		{name: "principal root ARN matches users", kind: Resource, doc: res(`{"AWS":"arn:aws:iam::111122223333:root"}`), principal: alice, want: Allow},
		{name: "principal root ARN matches sessions", kind: Resource, doc: res(`{"AWS":["arn:aws:iam::111122223333:root"]}`), principal: session, want: Allow},
		{name: "principal other account", kind: Resource, doc: res(`{"AWS":"444455556666"}`), principal: alice, want: NoMatch},
		{name: "principal anonymous vs account", kind: Resource, doc: res(`{"AWS":"111122223333"}`), want: NoMatch},
		{name: "principal role ARN matches session", kind: Resource, doc: res(`{"AWS":"arn:aws:iam::111122223333:role/Builder"}`), principal: session, want: Allow},
		{name: "principal session ARN", kind: Resource, doc: res(`{"AWS":"arn:aws:sts::111122223333:assumed-role/Builder/s1"}`), principal: session, want: Allow},
		{name: "principal user ARN", kind: Resource, doc: res(`{"AWS":["arn:aws:iam::111122223333:user/bob","arn:aws:iam::111122223333:user/alice"]}`), principal: alice, want: Allow},
		{name: "principal other user", kind: Resource, doc: res(`{"AWS":"arn:aws:iam::111122223333:user/bob"}`), principal: alice, want: NoMatch},
		{name: "principal service", kind: Resource, doc: res(`{"Service":"lex.amazonaws.com"}`), principal: lexSvc, want: Allow},
		{name: "principal service not a user", kind: Resource, doc: res(`{"Service":"lex.amazonaws.com"}`), principal: alice, want: NoMatch},
		{name: "principal account not a service", kind: Resource, doc: res(`{"AWS":"111122223333"}`), principal: lexSvc, want: NoMatch},
		{name: "NotPrincipal deny others", kind: Resource, doc: doc(`{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"lex:*","Resource":"*"}`), principal: bob, want: Deny},
		{name: "NotPrincipal deny excludes", kind: Resource, doc: doc(`{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"lex:*","Resource":"*"}`), principal: alice, want: NoMatch},
		{name: "resource policy without Resource element", kind: Resource, doc: doc(`{"Effect":"Allow","Principal":"*","Action":"lex:PutBot"}`), principal: alice, want: Allow},

		// Trust policies.
		{name: "trust service", kind: Trust, doc: doc(`{"Effect":"Allow","Principal":{"Service":"lex.amazonaws.com"},"Action":"sts:AssumeRole"}`), action: "sts:AssumeRole", resource: "arn:aws:iam::111122223333:role/R", principal: lexSvc, want: Allow},
		{name: "trust external id pass", kind: Trust, doc: doc(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"xyz"}}}`), action: "sts:AssumeRole", resource: "arn:aws:iam::111122223333:role/R", principal: carol, ctx: one("sts:externalid", "xyz"), want: Allow},
		{name: "trust external id missing", kind: Trust, doc: doc(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"xyz"}}}`), action: "sts:AssumeRole", resource: "arn:aws:iam::111122223333:role/R", principal: carol, want: NoMatch},
		{name: "trust other action", kind: Trust, doc: doc(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole"}`), action: "sts:TagSession", resource: "arn:aws:iam::111122223333:role/R", principal: carol, want: NoMatch},
	}
}

func TestEvaluate(t *testing.T) {
	cases := evalCases()
	if len(cases) < 60 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kind := tc.kind
			if kind == 0 {
				kind = Identity
			}
			p, err := Parse(tc.doc, kind)
			if err != nil {
				t.Fatalf("Parse: %v\n%s", err, tc.doc)
			}
			r := &Request{Action: tc.action, Resource: tc.resource, Principal: tc.principal, Context: tc.ctx}
			if r.Action == "" {
				r.Action = "lex:PutBot"
			}
			if r.Resource == "" {
				r.Resource = botB1
			}
			if got := p.Evaluate(r); got != tc.want {
				t.Errorf("Evaluate = %v, want %v\n%s", got, tc.want, tc.doc)
			}
		})
	}
}
