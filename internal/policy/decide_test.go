package policy

import (
	"testing"
)

func mustParse(t testing.TB, d string, k Kind) *Policy {
	t.Helper()
	p, err := Parse(d, k)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, d)
	}
	return p
}

func TestDecide(t *testing.T) {
	idAllowLex := mustParse(t, doc(`{"Effect":"Allow","Action":"lex:*","Resource":"*"}`), Identity)
	idAllowS3 := mustParse(t, doc(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`), Identity)
	idAllowAssume := mustParse(t, doc(`{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}`), Identity)
	idDenyPut := mustParse(t, doc(`{"Effect":"Deny","Action":"lex:PutBot","Resource":"*"}`), Identity)
	sessAllowGet := mustParse(t, doc(`{"Effect":"Allow","Action":"lex:Get*","Resource":"*"}`), Identity)
	sessAllowPut := mustParse(t, doc(`{"Effect":"Allow","Action":"lex:PutBot","Resource":"*"}`), Identity)
	sessDeny := mustParse(t, doc(`{"Effect":"Deny","Action":"lex:Put*","Resource":"*"}`), Identity)
	resPolicy := func(principal string) *Policy {
		return mustParse(t, doc(`{"Effect":"Allow","Principal":`+principal+`,"Action":["lex:PutBot","s3:PutObject"],"Resource":"*"}`), Resource)
	}
	resDeny := mustParse(t, doc(`{"Effect":"Deny","Principal":"*","Action":"lex:PutBot","Resource":"*"}`), Resource)
	trust := func(principal string) *Policy {
		return mustParse(t, doc(`{"Effect":"Allow","Principal":`+principal+`,"Action":"sts:AssumeRole"}`), Trust)
	}
	put := func(p *Principal) *Request { return &Request{Action: "lex:PutBot", Resource: botB1, Principal: p} }
	putObj := func(p *Principal) *Request {
		return &Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::bkt/k", Principal: p}
	}
	assume := func(p *Principal) *Request {
		return &Request{Action: "sts:AssumeRole", Resource: "arn:aws:iam::111122223333:role/R", Principal: p}
	}

	cases := []struct {
		name    string
		in      Input
		allowed bool
		expl    bool
		reason  string
	}{
		{name: "identity allow", in: Input{Request: put(alice), CallerAccount: acctA, Identity: []*Policy{idAllowLex}}, allowed: true},
		{name: "identity allow, nil principal", in: Input{Request: &Request{Action: "lex:PutBot", Resource: botB1}, CallerAccount: acctA, Identity: []*Policy{idAllowLex}}, allowed: true},
		{name: "no identity policy", in: Input{Request: put(alice), CallerAccount: acctA, Identity: []*Policy{idAllowS3}},
			reason: "no identity-based policy allows the lex:PutBot action"},
		{name: "identity deny beats allow", in: Input{Request: put(alice), CallerAccount: acctA, Identity: []*Policy{idAllowLex, nil, idDenyPut}},
			expl: true, reason: "an explicit deny in an identity-based policy"},
		{name: "resource deny beats identity allow", in: Input{Request: put(alice), CallerAccount: acctA, Identity: []*Policy{idAllowLex}, ResourcePolicy: resDeny},
			expl: true, reason: "an explicit deny in a resource-based policy"},
		{name: "same account resource policy names user", in: Input{Request: put(alice), CallerAccount: acctA, ResourcePolicy: resPolicy(`{"AWS":"arn:aws:iam::111122223333:user/alice"}`)}, allowed: true},
		{name: "same account resource policy star", in: Input{Request: put(alice), CallerAccount: acctA, ResourcePolicy: resPolicy(`"*"`)}, allowed: true},
		{name: "same account account principal delegates only", in: Input{Request: put(alice), CallerAccount: acctA, ResourcePolicy: resPolicy(`{"AWS":"111122223333"}`)},
			reason: "no identity-based policy allows the lex:PutBot action"},
		{name: "same account account principal plus identity", in: Input{Request: put(alice), CallerAccount: acctA, Identity: []*Policy{idAllowLex}, ResourcePolicy: resPolicy(`{"AWS":"111122223333"}`)}, allowed: true},
		{name: "root own account", in: Input{Request: put(rootA), CallerAccount: acctA, IsRoot: true}, allowed: true},
		{name: "root own account via principal flag", in: Input{Request: put(rootA), CallerAccount: acctA, ResourceAccount: acctA}, allowed: true},
		{name: "root own account resource deny", in: Input{Request: put(rootA), CallerAccount: acctA, IsRoot: true, ResourcePolicy: resDeny},
			expl: true, reason: "an explicit deny in a resource-based policy"},
		{name: "root other account no resource policy", in: Input{Request: putObj(rootA), CallerAccount: acctA, ResourceAccount: acctB, IsRoot: true},
			reason: "no resource-based policy allows the s3:PutObject action"},
		{name: "root other account with resource allow", in: Input{Request: putObj(rootA), CallerAccount: acctA, ResourceAccount: acctB, IsRoot: true, ResourcePolicy: resPolicy(`{"AWS":"111122223333"}`)}, allowed: true},
		{name: "cross account both sides", in: Input{Request: putObj(carol), CallerAccount: acctB, ResourceAccount: acctA, Identity: []*Policy{idAllowS3}, ResourcePolicy: resPolicy(`{"AWS":"arn:aws:iam::444455556666:root"}`)}, allowed: true},
		{name: "cross account identity only", in: Input{Request: putObj(carol), CallerAccount: acctB, ResourceAccount: acctA, Identity: []*Policy{idAllowS3}},
			reason: "no resource-based policy allows the s3:PutObject action"},
		{name: "cross account resource names other account", in: Input{Request: putObj(carol), CallerAccount: acctB, ResourceAccount: acctA, Identity: []*Policy{idAllowS3}, ResourcePolicy: resPolicy(`{"AWS":"111122223333"}`)},
			reason: "no resource-based policy allows the s3:PutObject action"},
		{name: "cross account resource only", in: Input{Request: putObj(carol), CallerAccount: acctB, ResourceAccount: acctA, ResourcePolicy: resPolicy(`{"AWS":"arn:aws:iam::444455556666:user/carol"}`)},
			reason: "no identity-based policy allows the s3:PutObject action"},
		{name: "session intersection allows", in: Input{Request: put(session), CallerAccount: acctA, Identity: []*Policy{idAllowLex}, Session: []*Policy{sessAllowGet, sessAllowPut}}, allowed: true},
		{name: "session does not allow", in: Input{Request: put(session), CallerAccount: acctA, Identity: []*Policy{idAllowLex}, Session: []*Policy{sessAllowGet}},
			reason: "no session policy allows the lex:PutBot action"},
		{name: "session allows but identity does not", in: Input{Request: put(session), CallerAccount: acctA, Identity: []*Policy{idAllowS3}, Session: []*Policy{sessAllowPut}},
			reason: "no identity-based policy allows the lex:PutBot action"},
		{name: "session explicit deny", in: Input{Request: put(session), CallerAccount: acctA, Identity: []*Policy{idAllowLex}, Session: []*Policy{sessAllowPut, sessDeny}},
			expl: true, reason: "an explicit deny in a session policy"},
		{name: "empty session allows nothing", in: Input{Request: put(session), CallerAccount: acctA, Identity: []*Policy{idAllowLex}, Session: []*Policy{}},
			reason: "no session policy allows the lex:PutBot action"},
		{name: "resource names role: limited by session", in: Input{Request: put(session), CallerAccount: acctA, Session: []*Policy{sessAllowGet}, ResourcePolicy: resPolicy(`{"AWS":"arn:aws:iam::111122223333:role/Builder"}`)},
			reason: "no session policy allows the lex:PutBot action"},
		{name: "resource names role: session allows", in: Input{Request: put(session), CallerAccount: acctA, Session: []*Policy{sessAllowPut}, ResourcePolicy: resPolicy(`{"AWS":"arn:aws:iam::111122223333:role/Builder"}`)}, allowed: true},
		{name: "resource names session ARN: not limited by session", in: Input{Request: put(session), CallerAccount: acctA, Session: []*Policy{sessAllowGet}, ResourcePolicy: resPolicy(`{"AWS":"arn:aws:sts::111122223333:assumed-role/Builder/s1"}`)}, allowed: true},
		{name: "trust names user, no identity policy", in: Input{Request: assume(alice), CallerAccount: acctA, ResourcePolicy: trust(`{"AWS":"arn:aws:iam::111122223333:user/alice"}`), RequireResourceAllow: true}, allowed: true},
		{name: "trust names account, no identity policy", in: Input{Request: assume(alice), CallerAccount: acctA, ResourcePolicy: trust(`{"AWS":"111122223333"}`), RequireResourceAllow: true},
			reason: "no identity-based policy allows the sts:AssumeRole action"},
		{name: "trust names account, identity allows", in: Input{Request: assume(alice), CallerAccount: acctA, Identity: []*Policy{idAllowAssume}, ResourcePolicy: trust(`{"AWS":"111122223333"}`), RequireResourceAllow: true}, allowed: true},
		{name: "trust does not name caller", in: Input{Request: assume(alice), CallerAccount: acctA, Identity: []*Policy{idAllowAssume}, ResourcePolicy: trust(`{"Service":"lambda.amazonaws.com"}`), RequireResourceAllow: true},
			reason: "no resource-based policy allows the sts:AssumeRole action"},
		{name: "trust cross account", in: Input{Request: assume(carol), CallerAccount: acctB, ResourceAccount: acctA, Identity: []*Policy{idAllowAssume}, ResourcePolicy: trust(`{"AWS":"444455556666"}`), RequireResourceAllow: true}, allowed: true},
		{name: "service principal allowed by resource policy", in: Input{Request: assume(&Principal{Service: "lambda.amazonaws.com"}), ResourceAccount: acctA, ResourcePolicy: trust(`{"Service":"lambda.amazonaws.com"}`), RequireResourceAllow: true}, allowed: true},
		{name: "service principal not named", in: Input{Request: put(lexSvc), ResourceAccount: acctA, ResourcePolicy: resPolicy(`{"AWS":"111122223333"}`)},
			reason: "no resource-based policy allows the lex:PutBot action"},
		{name: "anonymous with public resource policy", in: Input{Request: put(nil), ResourceAccount: acctA, ResourcePolicy: resPolicy(`"*"`)}, allowed: true},
		{name: "anonymous without resource policy", in: Input{Request: put(nil), ResourceAccount: acctA},
			reason: "no resource-based policy allows the lex:PutBot action"},
		{name: "nil request", in: Input{}, reason: "no request to evaluate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Decide(tc.in)
			want := Decision{Allowed: tc.allowed, ExplicitDeny: tc.expl, Reason: tc.reason}
			if got != want {
				t.Errorf("Decide = %+v, want %+v", got, want)
			}
		})
	}
}
