package trail

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"lextrail/internal/audit"
)

// TestValidateName is spec §9.2 plus the rules' edges.
func TestValidateName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"ab", false}, {"-abc", false}, {"abc-", false}, {"a--b", false}, {"a._b", false}, {"my-_x", false},
		{"192.168.5.4", false}, {strings.Repeat("a", 129), false}, {"a b", false}, {"", false}, {"   ", false},
		{"a/b", false}, {"ümlaut", false}, {"_abc", false}, {"abc.", false},
		{"a.b-c_d", true}, {strings.Repeat("a", 128), true}, {"abc", true}, {"My-Trail.01", true}, {"1.2.3", true}, {"1.2.3.4.5", true},
	} {
		err := ValidateName(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	if err := ValidateName(""); err == nil || err.Error() != "Trail name cannot be blank!" {
		t.Errorf("blank: %v", err)
	}
	if err := ValidateName("ab"); err == nil || !strings.Contains(err.Error(), "Minimum allowed length: 3") {
		t.Errorf("short: %v", err)
	}
}

func TestValidatePrefix(t *testing.T) {
	for _, tc := range []struct {
		p  string
		ok bool
	}{
		{"", true}, {"x", true}, {"x/y", true}, {"x/y/", true}, {strings.Repeat("p", 200), true},
		{strings.Repeat("p", 201), false}, {"AWSLogs", false}, {"AWSLogs/x", false}, {"/x", false}, {"a//b", false},
		{"a/../b", false}, {"a\x00b", false}, {"AWSLogsX", true},
	} {
		if err := ValidatePrefix(tc.p); (err == nil) != tc.ok {
			t.Errorf("ValidatePrefix(%q) = %v, want ok=%v", tc.p, err, tc.ok)
		}
	}
}

func TestARN(t *testing.T) {
	a := ARN("eu-west-1", "111122223333", "t1")
	p, err := ParseARN(a)
	if err != nil || p.Region != "eu-west-1" || p.Account != "111122223333" || p.Type != "trail" || p.Name != "t1" {
		t.Fatalf("%s: %+v %v", a, p, err)
	}
	for _, bad := range []string{"arn:aws:cloudtrail:us-east-1:12345:trail/x", "arn:aws:s3:::b", "trail/x", "arn:aws:cloudtrail:us-east-1:111122223333:trail/"} {
		if _, err := ParseARN(bad); err == nil {
			t.Errorf("ParseARN(%q) accepted", bad)
		}
	}
}

// TestLayout: spec §2.1, §2.2 (minute timestamps, delivery date folders),
// §3.1 (second timestamps, the CLI's key[-24:-8]) and §9.19 (one slash).
func TestLayout(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	u := Unique("trail-id", "111122223333", "us-east-2", 7, 0)
	if !regexp.MustCompile(`^[A-Za-z0-9]{16}$`).MatchString(u) {
		t.Fatalf("unique %q", u)
	}
	if u != Unique("trail-id", "111122223333", "us-east-2", 7, 0) || u == Unique("trail-id", "111122223333", "us-east-2", 7, 1) ||
		u == Unique("trail-id", "111122223333", "us-east-2", 8, 0) || u == Unique("trail-id", "111122223333", "us-west-2", 7, 0) ||
		u == Unique("trail-id2", "111122223333", "us-east-2", 7, 0) {
		t.Fatal("unique is not a function of (trail, account, region, batch, part)")
	}
	if k := LogKey("", "111122223333", "us-east-2", at, u); k != "AWSLogs/111122223333/CloudTrail/us-east-2/2026/01/02/111122223333_CloudTrail_us-east-2_20260102T0304Z_"+u+".json.gz" {
		t.Fatalf("log key %s", k)
	}
	if k := LogKey("x/y", "1", "r", at, u); !strings.HasPrefix(k, "x/y/AWSLogs/") {
		t.Fatalf("prefixed %s", k)
	}
	if k := LogKey("x/y/", "1", "r", at, u); !strings.HasPrefix(k, "x/y/AWSLogs/") {
		t.Fatalf("prefix with slash %s", k)
	}
	d := DigestKey("p", "111122223333", "eu-west-1", "my-trail", "us-east-1", at)
	if d != "p/AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/01/02/111122223333_CloudTrail-Digest_eu-west-1_my-trail_us-east-1_20260102T030405Z.json.gz" {
		t.Fatalf("digest key %s", d)
	}
	if d[len(d)-24:len(d)-8] != "20260102T030405Z" {
		t.Fatal("digest timestamp not where validate-logs reads it")
	}
}

func cand(category, source, name string, readOnly bool, record string) *Candidate {
	c := &Candidate{}
	c.Reset(category, source, name, readOnly, []byte(record))
	return c
}

// TestSelectorsMatch: basic selectors (read/write, management events,
// excluded sources, data resources) and advanced selectors with every
// operator.
func TestSelectorsMatch(t *testing.T) {
	f, tr := false, true
	s3obj := `{"resources":[{"ARN":"arn:aws:s3:::logs/app/x.txt","accountId":"1","type":"AWS::S3::Object"}]}`
	s3other := `{"resources":[{"ARN":"arn:aws:s3:::other/x.txt","accountId":"1","type":"AWS::S3::Object"}]}`
	mgmtRead := cand(audit.CategoryManagement, "lex.amazonaws.com", "GetBots", true, `{}`)
	mgmtWrite := cand(audit.CategoryManagement, "lex.amazonaws.com", "PutBot", false, `{}`)
	kms := cand(audit.CategoryManagement, "kms.amazonaws.com", "Decrypt", true, `{}`)
	getObj := cand(audit.CategoryData, "s3.amazonaws.com", "GetObject", true, s3obj)
	putObj := cand(audit.CategoryData, "s3.amazonaws.com", "PutObject", false, s3obj)
	putOther := cand(audit.CategoryData, "s3.amazonaws.com", "PutObject", false, s3other)
	all := []*Candidate{mgmtRead, mgmtWrite, kms, getObj, putObj, putOther}
	names := []string{"mgmtRead", "mgmtWrite", "kms", "getObj", "putObj", "putOther"}
	adv := func(fs ...FieldSelector) Selectors {
		return Selectors{Advanced: []AdvancedEventSelector{{FieldSelectors: fs}}}
	}
	cat := func(c string) FieldSelector { return FieldSelector{Field: "eventCategory", Equals: []string{c}} }
	for _, tc := range []struct {
		name string
		sel  Selectors
		want string // matching candidates, by initial in names order: 1 = match
	}{
		{"default", Selectors{}, "111000"},
		{"read only", Selectors{Basic: []EventSelector{{ReadWriteType: "ReadOnly"}}}, "101000"},
		{"write only", Selectors{Basic: []EventSelector{{ReadWriteType: "WriteOnly"}}}, "010000"},
		{"exclude kms", Selectors{Basic: []EventSelector{{ReadWriteType: "All", ExcludeManagementEventSources: []string{"kms.amazonaws.com"}}}}, "110000"},
		{"no management", Selectors{Basic: []EventSelector{{ReadWriteType: "All", IncludeManagementEvents: &f}}}, "000000"},
		{"all S3 objects", Selectors{Basic: []EventSelector{{ReadWriteType: "All", IncludeManagementEvents: &f, DataResources: []DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3"}}}}}}, "000111"},
		{"one bucket prefix", Selectors{Basic: []EventSelector{{ReadWriteType: "All", IncludeManagementEvents: &tr, DataResources: []DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::logs/app/"}}}}}}, "111110"},
		{"S3 writes only", Selectors{Basic: []EventSelector{{ReadWriteType: "WriteOnly", IncludeManagementEvents: &f, DataResources: []DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::"}}}}}}, "000011"},
		{"lambda only", Selectors{Basic: []EventSelector{{ReadWriteType: "All", IncludeManagementEvents: &f, DataResources: []DataResource{{Type: "AWS::Lambda::Function", Values: []string{"arn:aws:lambda"}}}}}}, "000000"},
		{"adv management", adv(cat("Management")), "111000"},
		{"adv management readOnly", adv(cat("Management"), FieldSelector{Field: "readOnly", Equals: []string{"false"}}), "010000"},
		{"adv NotEquals source", adv(cat("Management"), FieldSelector{Field: "eventSource", NotEquals: []string{"kms.amazonaws.com"}}), "110000"},
		{"adv data Equals type", adv(cat("Data"), FieldSelector{Field: "resources.type", Equals: []string{"AWS::S3::Object"}}), "000111"},
		{"adv StartsWith ARN", adv(cat("Data"), FieldSelector{Field: "resources.type", Equals: []string{"AWS::S3::Object"}}, FieldSelector{Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::logs/"}}), "000110"},
		{"adv EndsWith ARN", adv(cat("Data"), FieldSelector{Field: "resources.type", Equals: []string{"AWS::S3::Object"}}, FieldSelector{Field: "resources.ARN", EndsWith: []string{"/x.txt"}}), "000111"},
		{"adv NotStartsWith ARN", adv(cat("Data"), FieldSelector{Field: "resources.type", Equals: []string{"AWS::S3::Object"}}, FieldSelector{Field: "resources.ARN", NotStartsWith: []string{"arn:aws:s3:::logs/"}}), "000001"},
		{"adv NotEndsWith name", adv(cat("Data"), FieldSelector{Field: "resources.type", Equals: []string{"AWS::S3::Object"}}, FieldSelector{Field: "eventName", NotEndsWith: []string{"Object"}}), "000000"},
		{"adv Equals name", adv(cat("Data"), FieldSelector{Field: "resources.type", Equals: []string{"AWS::S3::Object"}}, FieldSelector{Field: "eventName", Equals: []string{"PutObject", "DeleteObject"}}), "000011"},
		{"adv StartsWith name", adv(cat("Data"), FieldSelector{Field: "resources.type", Equals: []string{"AWS::S3::Object"}}, FieldSelector{Field: "eventName", StartsWith: []string{"Get"}}), "000100"},
		{"adv Equals ARN", adv(cat("Data"), FieldSelector{Field: "resources.type", Equals: []string{"AWS::S3::Object"}}, FieldSelector{Field: "resources.ARN", Equals: []string{"arn:aws:s3:::other/x.txt"}}), "000001"},
		{"adv combined operators", adv(cat("Data"), FieldSelector{Field: "resources.type", Equals: []string{"AWS::S3::Object"}}, FieldSelector{Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::"}, NotEquals: []string{"arn:aws:s3:::other/x.txt"}}), "000110"},
		{"two advanced selectors", Selectors{Advanced: []AdvancedEventSelector{
			{FieldSelectors: []FieldSelector{cat("Management"), {Field: "readOnly", Equals: []string{"true"}}}},
			{FieldSelectors: []FieldSelector{cat("Data"), {Field: "resources.type", Equals: []string{"AWS::S3::Object"}}, {Field: "eventName", Equals: []string{"PutObject"}}}},
		}}, "101011"},
	} {
		if len(tc.sel.Basic) > 0 {
			n, err := NormalizeBasic(tc.sel.Basic)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			tc.sel.Basic = n
		}
		if len(tc.sel.Advanced) > 0 {
			if _, err := NormalizeAdvanced(tc.sel.Advanced); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
		}
		got := ""
		for _, c := range all {
			c.parsed, c.res = false, nil
			if tc.sel.Match(c) {
				got += "1"
			} else {
				got += "0"
			}
		}
		if got != tc.want {
			t.Errorf("%s: matched %s, want %s (%v)", tc.name, got, tc.want, names)
		}
	}
}

func TestSelectorsValidate(t *testing.T) {
	f := false
	six := make([]EventSelector, 6)
	for _, tc := range []struct {
		name  string
		basic []EventSelector
		adv   []AdvancedEventSelector
	}{
		{"six basic", six, nil},
		{"bad read/write", []EventSelector{{ReadWriteType: "Sometimes"}}, nil},
		{"exclude s3", []EventSelector{{ExcludeManagementEventSources: []string{"s3.amazonaws.com"}}}, nil},
		{"exclude without management", []EventSelector{{IncludeManagementEvents: &f, ExcludeManagementEventSources: []string{"kms.amazonaws.com"}}}, nil},
		{"bad resource type", []EventSelector{{DataResources: []DataResource{{Type: "AWS::EC2::Instance", Values: []string{"x"}}}}}, nil},
		{"bad resource value", []EventSelector{{DataResources: []DataResource{{Type: "AWS::S3::Object", Values: []string{"bucket"}}}}}, nil},
		{"no values", []EventSelector{{DataResources: []DataResource{{Type: "AWS::S3::Object"}}}}, nil},
		{"251 values", []EventSelector{{DataResources: []DataResource{{Type: "AWS::S3::Object", Values: make251()}}}}, nil},
		{"empty advanced", nil, []AdvancedEventSelector{{}}},
		{"no category", nil, []AdvancedEventSelector{{FieldSelectors: []FieldSelector{{Field: "eventName", Equals: []string{"x"}}}}}},
		{"bad field", nil, []AdvancedEventSelector{{FieldSelectors: []FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "userAgent", Equals: []string{"x"}}}}}},
		{"category StartsWith", nil, []AdvancedEventSelector{{FieldSelectors: []FieldSelector{{Field: "eventCategory", StartsWith: []string{"Man"}}}}}},
		{"bad category", nil, []AdvancedEventSelector{{FieldSelectors: []FieldSelector{{Field: "eventCategory", Equals: []string{"Insight"}}}}}},
		{"readOnly yes", nil, []AdvancedEventSelector{{FieldSelectors: []FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "readOnly", Equals: []string{"yes"}}}}}},
		{"data without type", nil, []AdvancedEventSelector{{FieldSelectors: []FieldSelector{{Field: "eventCategory", Equals: []string{"Data"}}}}}},
		{"field twice", nil, []AdvancedEventSelector{{FieldSelectors: []FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "eventCategory", Equals: []string{"Management"}}}}}},
		{"no operator", nil, []AdvancedEventSelector{{FieldSelectors: []FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "eventSource"}}}}},
		{"empty value", nil, []AdvancedEventSelector{{FieldSelectors: []FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "eventSource", Equals: []string{""}}}}}},
	} {
		var err error
		if tc.basic != nil {
			_, err = NormalizeBasic(tc.basic)
		} else {
			_, err = NormalizeAdvanced(tc.adv)
		}
		if _, ok := err.(SelectorError); !ok {
			t.Errorf("%s: %v, want a SelectorError", tc.name, err)
		}
	}
	n, err := NormalizeBasic([]EventSelector{{}})
	if err != nil || n[0].ReadWriteType != "All" || !*n[0].IncludeManagementEvents || n[0].DataResources == nil || n[0].ExcludeManagementEventSources == nil {
		t.Fatalf("defaults: %+v %v", n, err)
	}
}

func make251() []string {
	v := make([]string, 251)
	for i := range v {
		v[i] = "arn:aws:s3:::b/"
	}
	return v
}

// TestCovers: regions and global service events (spec §2.5).
func TestCovers(t *testing.T) {
	single := Settings{IncludeGlobal: true}
	noGlobal := Settings{}
	multi := Settings{MultiRegion: true, IncludeGlobal: true}
	for _, tc := range []struct {
		s            Settings
		home, region string
		source       string
		want         bool
	}{
		{single, "us-east-1", "us-east-1", "lex.amazonaws.com", true},
		{single, "us-east-1", "eu-west-1", "lex.amazonaws.com", false},
		{single, "us-east-1", "us-east-1", "iam.amazonaws.com", true},
		{noGlobal, "us-east-1", "us-east-1", "iam.amazonaws.com", false},
		{noGlobal, "us-east-1", "us-east-1", "s3.amazonaws.com", true},
		{single, "eu-west-1", "us-east-1", "sts.amazonaws.com", false},
		{multi, "eu-west-1", "us-east-1", "sts.amazonaws.com", true},
		{multi, "eu-west-1", "ap-south-1", "lex.amazonaws.com", true},
	} {
		if got := tc.s.Covers(tc.home, tc.region, tc.source); got != tc.want {
			t.Errorf("%+v home %s: %s/%s = %v", tc.s, tc.home, tc.region, tc.source, got)
		}
	}
}
