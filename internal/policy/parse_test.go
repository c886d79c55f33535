package policy

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestParseErrors(t *testing.T) {
	st := func(body string) string { return doc(body) }
	cases := []struct {
		name string
		kind Kind
		doc  string
		want string
	}{
		{"empty", Identity, ``, "Syntax errors in policy."},
		{"not json", Identity, `Version: 2012`, "Syntax errors in policy."},
		{"array top level", Identity, `[]`, "Syntax errors in policy."},
		{"trailing data", Identity, st(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`) + ` {}`, "Syntax errors in policy."},
		{"truncated", Identity, `{"Version":"2012-10-17","Statement":[`, "Syntax errors in policy."},
		{"unknown top-level field", Identity, `{"Version":"2012-10-17","Foo":1,"Statement":[]}`, "Unknown field Foo"},
		{"unknown statement field", Identity, st(`{"Effect":"Allow","Actions":"s3:*","Resource":"*"}`), "Unknown field Actions"},
		{"bad version", Identity, `{"Version":"2012-10-18","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, "The policy failed legacy parsing"},
		{"numeric version", Identity, `{"Version":2012,"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, "The policy failed legacy parsing"},
		{"missing statement", Identity, `{"Version":"2012-10-17"}`, "Missing required field Statement"},
		{"empty statement list", Identity, `{"Version":"2012-10-17","Statement":[]}`, "Missing required field Statement"},
		{"statement is string", Identity, `{"Version":"2012-10-17","Statement":"x"}`, "Syntax errors in policy."},
		{"statement element is string", Identity, `{"Version":"2012-10-17","Statement":["x"]}`, "Syntax errors in policy."},
		{"missing effect", Identity, st(`{"Action":"s3:*","Resource":"*"}`), "Missing required field Effect"},
		{"lower-case effect", Identity, st(`{"Effect":"allow","Action":"s3:*","Resource":"*"}`), "Invalid effect: allow"},
		{"identity with principal", Identity, st(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}`), "Policy document should not specify a principal."},
		{"identity with NotPrincipal", Identity, st(`{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"*"}`), "Has prohibited field NotPrincipal"},
		{"resource missing principal", Resource, st(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`), "Missing required field Principal"},
		{"trust missing principal", Trust, st(`{"Effect":"Allow","Action":"sts:AssumeRole"}`), "Missing required field Principal"},
		{"invalid AWS principal", Resource, st(`{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"s3:*","Resource":"*"}`), `Invalid principal in policy: "AWS":"bob"`},
		{"short account id", Resource, st(`{"Effect":"Allow","Principal":{"AWS":"12345"},"Action":"s3:*","Resource":"*"}`), `Invalid principal in policy: "AWS":"12345"`},
		{"wildcard principal ARN", Resource, st(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/*"},"Action":"s3:*","Resource":"*"}`), `Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:user/*"`},
		{"principal wrong service", Resource, st(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:s3:::bkt"},"Action":"s3:*","Resource":"*"}`), `Invalid principal in policy: "AWS":"arn:aws:s3:::bkt"`},
		{"invalid service principal", Resource, st(`{"Effect":"Allow","Principal":{"Service":"lex"},"Action":"s3:*","Resource":"*"}`), `Invalid principal in policy: "Service":"lex"`},
		{"unknown principal type", Resource, st(`{"Effect":"Allow","Principal":{"Foo":"x"},"Action":"s3:*","Resource":"*"}`), `Invalid principal in policy: "Foo":"x"`},
		{"principal string not star", Resource, st(`{"Effect":"Allow","Principal":"bob","Action":"s3:*","Resource":"*"}`), `Invalid principal in policy: "bob"`},
		{"empty principal object", Resource, st(`{"Effect":"Allow","Principal":{},"Action":"s3:*","Resource":"*"}`), `Invalid principal in policy: {}`},
		{"principal and NotPrincipal", Resource, st(`{"Effect":"Allow","Principal":"*","NotPrincipal":"*","Action":"s3:*","Resource":"*"}`), "Statement cannot contain both Principal and NotPrincipal"},
		{"trust with resource", Trust, st(`{"Effect":"Allow","Principal":{"Service":"lex.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}`), "Has prohibited field Resource"},
		{"trust with non-sts action", Trust, st(`{"Effect":"Allow","Principal":{"Service":"lex.amazonaws.com"},"Action":"s3:GetObject"}`), "AssumeRole policy may only specify STS AssumeRole actions."},
		{"missing action", Identity, st(`{"Effect":"Allow","Resource":"*"}`), "Policy statement must contain actions."},
		{"empty action list", Identity, st(`{"Effect":"Allow","Action":[],"Resource":"*"}`), "Policy statement must contain actions."},
		{"action and NotAction", Identity, st(`{"Effect":"Allow","Action":"s3:*","NotAction":"iam:*","Resource":"*"}`), "Statement cannot contain both Action and NotAction"},
		{"action without vendor", Identity, st(`{"Effect":"Allow","Action":"PutBot","Resource":"*"}`), "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
		{"action empty vendor", Identity, st(`{"Effect":"Allow","Action":":PutBot","Resource":"*"}`), "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
		{"action number", Identity, st(`{"Effect":"Allow","Action":5,"Resource":"*"}`), "Syntax errors in policy."},
		{"missing resource", Identity, st(`{"Effect":"Allow","Action":"s3:*"}`), "Policy statement must contain resources."},
		{"resource not ARN", Identity, st(`{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}`), `Resource bucket must be in ARN format or "*".`},
		{"resource and NotResource", Identity, st(`{"Effect":"Allow","Action":"s3:*","Resource":"*","NotResource":"*"}`), "Statement cannot contain both Resource and NotResource"},
		{"duplicate sid", Identity, st(`{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"}`), "Statement IDs (SID) in a single policy must be unique."},
		{"sid not alphanumeric", Identity, st(`{"Sid":"a b","Effect":"Allow","Action":"s3:*","Resource":"*"}`), "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"},
		{"unknown condition operator", Identity, st(`{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"a"}}}`), "Unknown condition operator StringEqualz"},
		{"set operator on Null", Identity, st(`{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"ForAnyValue:Null":{"aws:username":"true"}}}`), "Unknown condition operator ForAnyValue:Null"},
		{"condition key without vendor", Identity, st(`{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"username":"a"}}}`), "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
		{"condition value object", Identity, st(`{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:username":{"a":1}}}}`), "Syntax errors in policy."},
		{"condition value null", Identity, st(`{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:username":null}}}`), "Syntax errors in policy."},
		{"condition not object", Identity, st(`{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":"x"}`), "Syntax errors in policy."},
		{"Null bad value", Identity, st(`{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Null":{"aws:username":"maybe"}}}`), "Invalid value maybe for condition operator Null: must be true or false"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.doc, tc.kind)
			if err == nil {
				t.Fatalf("Parse succeeded (%d statements), want %q", len(p.Statements), tc.want)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *Error", err)
			}
			if pe.Message != tc.want || pe.Error() != tc.want {
				t.Errorf("error = %q, want %q", pe.Message, tc.want)
			}
			if pe.Code() != "MalformedPolicyDocument" {
				t.Errorf("Code = %q", pe.Code())
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	cases := []struct {
		kind Kind
		doc  string
	}{
		{Identity, `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`},
		{Identity, `{"Version":"2008-10-17","Id":"x","Statement":[{"Sid":"S1","Effect":"Deny","NotAction":["iam:*"],"NotResource":["*"]}]}`},
		{Identity, doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":[10,"20"]},"Bool":{"aws:SecureTransport":[true]},"ForAllValues:StringLikeIfExists":{"aws:TagKeys":"a*"}}}`)},
		{Resource, doc(`{"Sid":"any chars allowed here","Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:role/path/R","arn:aws:sts::111122223333:assumed-role/R/s"],"Service":["lex.amazonaws.com"],"Federated":"cognito-identity.amazonaws.com","CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"lex:*","Resource":"*"}`)},
		{Trust, doc(`{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:saml-provider/IdP"},"Action":["sts:AssumeRoleWithSAML","sts:TagSession"]}`)},
	}
	for i, tc := range cases {
		p, err := Parse(tc.doc, tc.kind)
		if err != nil {
			t.Errorf("case %d: %v", i, err)
			continue
		}
		if p.Kind != tc.kind || len(p.Statements) == 0 {
			t.Errorf("case %d: bad policy %+v", i, p)
		}
	}
	p, _ := Parse(cases[1].doc, Identity)
	if p.Version != Version2008 || p.ID != "x" || p.Statements[0].Sid != "S1" || p.Statements[0].Effect != Deny {
		t.Errorf("fields not kept: %+v %+v", p, p.Statements[0])
	}
	if _, err := Parse(cases[0].doc, Kind(9)); err == nil {
		t.Error("unknown kind accepted")
	}
}

func TestNonWhitespaceLen(t *testing.T) {
	if n := NonWhitespaceLen(" {\n\t\"a\" : \"b c\"}\r\n"); n != 10 {
		t.Errorf("NonWhitespaceLen = %d, want 10", n)
	}
	if n := NonWhitespaceLen("é\u00a0x"); n != 2 {
		t.Errorf("NonWhitespaceLen = %d, want 2", n)
	}
}

func TestGlob(t *testing.T) {
	cases := []struct {
		pat, s string
		fold   bool
		want   bool
	}{
		{"", "", false, true},
		{"", "a", false, false},
		{"*", "", false, true},
		{"a*", "a", false, true},
		{"*a", "ba", false, true},
		{"*a", "ab", false, false},
		{"a*b*c", "abxbc", false, true},
		{"a*b*c", "acb", false, false},
		{"a?c", "aéc", false, true},
		{"a??c", "aéc", false, false},
		{"**x", "yyx", false, true},
		{"A*", "ab", true, true},
		{"A*", "ab", false, false},
		{"*b?", "abbc", false, true},
	}
	for _, tc := range cases {
		g := compileGlob(parseTemplate(tc.pat, true, false), tc.fold)
		if got := g.match(tc.s); got != tc.want {
			t.Errorf("glob %q match %q = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
		if got := matchToks(parseTemplate(tc.pat, true, false), tc.s, tc.fold); got != tc.want {
			t.Errorf("matchToks %q match %q = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
}

func TestCache(t *testing.T) {
	c := NewCache(2)
	d1 := doc(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`)
	d2 := doc(`{"Effect":"Allow","Action":"lex:*","Resource":"*"}`)
	d3 := doc(`{"Effect":"Allow","Action":"iam:*","Resource":"*"}`)
	p1, err := c.Parse(d1, Identity)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := c.Parse(d1, Identity); again != p1 {
		t.Error("cache miss for identical document")
	}
	if _, err := c.Parse(d1, Resource); err == nil {
		t.Error("kind not part of the key: resource policy without principal accepted")
	}
	if _, err := c.Parse("nope", Identity); err == nil {
		t.Error("bad document accepted")
	}
	c.Parse(d2, Identity)
	c.Parse(d3, Identity) // evicts d1 (least recently used)
	if c.Len() != 2 {
		t.Errorf("Len = %d, want 2", c.Len())
	}
	if again, _ := c.Parse(d1, Identity); again == p1 {
		t.Error("evicted entry still returned")
	}

	// Concurrent use (run with -race).
	c = NewCache(8)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				d := doc(fmt.Sprintf(`{"Effect":"Allow","Action":"s3:Get%d","Resource":"*"}`, (g+i)%12))
				p, err := c.Parse(d, Identity)
				if err != nil {
					t.Error(err)
					return
				}
				p.Evaluate(&Request{Action: "s3:Get1", Resource: "x"})
			}
		}(g)
	}
	wg.Wait()
	if c.Len() > 8 {
		t.Errorf("Len = %d exceeds bound", c.Len())
	}
}
