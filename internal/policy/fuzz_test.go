package policy

import (
	"fmt"
	"strings"
	"testing"

	"lextrail/internal/testenv/cputime"
)

func FuzzParse(f *testing.F) {
	for _, tc := range evalCases() {
		f.Add(tc.doc)
	}
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `{"Statement":[]}`, `{"Statement":{}}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"a:*","Resource":"arn:a:b:c:d:${x, 'y'}${*}${"}}`,
		`{"Statement":{"Effect":"Deny","NotAction":"*","NotResource":"arn:::::","Condition":{"ForAllValues:ArnLikeIfExists":{"a:b":["arn:*:*:*:*:*", 1, true]}}}}`,
		doc(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"IpAddress":{"aws:SourceIp":"::ffff:1.2.3.4/120"},"DateLessThan":{"aws:CurrentTime":"-1"}}}`),
		doc(`{"Effect":"Allow","Action":"x:y","Resource":"*","Condition":{"ArnEquals":{"aws:SourceArn":"arn:${aws:a}:b:${aws:c}:*:${aws:d}"},"BinaryEquals":{"a:b":"!!"}}}`),
	} {
		f.Add(s)
	}
	req := &Request{
		Action:    "lex:PutBot",
		Resource:  botB1,
		Principal: session,
		Context: map[string][]string{
			"aws:username":    {"alice"},
			"aws:sourcearn":   {botB1},
			"aws:sourceip":    {"203.0.113.7"},
			"aws:currenttime": {"2026-03-01T12:00:00Z"},
			"aws:tagkeys":     {"a", "b"},
			"aws:a":           {"*"},
			"a:b":             {"QmluYXJ5", "arn:x:y:z:w:v"},
		},
	}
	f.Fuzz(func(t *testing.T, d string) {
		for _, k := range []Kind{Identity, Resource, Trust} {
			p, err := Parse(d, k)
			if err != nil {
				if _, ok := err.(*Error); !ok || err.Error() == "" {
					t.Fatalf("bad error %T %v", err, err)
				}
				continue
			}
			e := p.Evaluate(req)
			if e != NoMatch && e != Allow && e != Deny {
				t.Fatalf("Evaluate = %v", e)
			}
			Decide(Input{Request: req, CallerAccount: acctA, ResourceAccount: acctB, Identity: []*Policy{p}, Session: []*Policy{p}, ResourcePolicy: p})
		}
	})
}

// benchInput builds a caller with 10 identity policies of 10 statements each,
// with wildcard actions/resources and a condition per statement; the request
// is allowed only by the last statement of the last policy.
func benchInput(b *testing.B) Input {
	var pols []*Policy
	for i := 0; i < 10; i++ {
		var stmts []string
		for j := 0; j < 10; j++ {
			action := fmt.Sprintf(`["lex:Describe%d*","lex:List*Bot%d","s3:Get*Object%d"]`, j, i, j)
			resource := fmt.Sprintf(`"arn:aws:lex:*:111122223333:bot/Team%d-*"`, j)
			condition := `{"StringEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]},"Bool":{"aws:SecureTransport":"true"}}`
			if i == 9 && j == 9 {
				action = `["lex:Put*","lex:Create*"]`
				resource = `["arn:aws:lex:*:111122223333:bot/B?","arn:aws:lex:*:111122223333:bot/*-prod"]`
			}
			stmts = append(stmts, fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Action":%s,"Resource":%s,"Condition":%s}`, j, action, resource, condition))
		}
		pols = append(pols, mustParse(b, doc(strings.Join(stmts, ",")), Identity))
	}
	return Input{
		Request: &Request{
			Action:    "lex:PutBot",
			Resource:  botB1,
			Principal: alice,
			Context: map[string][]string{
				"aws:requestedregion": {"us-east-1"},
				"aws:securetransport": {"true"},
				"aws:username":        {"alice"},
				"aws:principalarn":    {alice.ARN},
			},
		},
		CallerAccount: acctA,
		Identity:      pols,
	}
}

func BenchmarkDecide(b *testing.B) {
	in := benchInput(b)
	if d := Decide(in); !d.Allowed {
		b.Fatalf("not allowed: %+v", d)
	}
	b.ReportAllocs()
	b.ResetTimer()
	done := cputime.Report(b)
	for b.Loop() {
		Decide(in)
	}
	done()
}

func BenchmarkDecideWithResourcePolicy(b *testing.B) {
	in := benchInput(b)
	in.ResourceAccount = acctB
	in.ResourcePolicy = mustParse(b, doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"lex:*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/${aws:username}"}}}`), Resource)
	if d := Decide(in); !d.Allowed {
		b.Fatalf("not allowed: %+v", d)
	}
	b.ReportAllocs()
	b.ResetTimer()
	done := cputime.Report(b)
	for b.Loop() {
		Decide(in)
	}
	done()
}

func BenchmarkParse(b *testing.B) {
	d := doc(`{"Effect":"Allow","Action":["lex:Put*","lex:Get*"],"Resource":"arn:aws:lex:*:111122223333:bot/*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(d, Identity); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCacheHit(b *testing.B) {
	c := NewCache(100)
	d := doc(`{"Effect":"Allow","Action":"lex:*","Resource":"*"}`)
	b.ReportAllocs()
	for b.Loop() {
		c.Parse(d, Identity)
	}
}
