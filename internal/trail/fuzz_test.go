package trail

import (
	"encoding/json"
	"testing"
)

// FuzzParseARN: ParseARN never panics, and what it accepts as a trail ARN
// is rebuilt exactly by ARN.
func FuzzParseARN(f *testing.F) {
	for _, s := range []string{"arn:aws:cloudtrail:us-east-1:123456789012:trail/t", "arn:aws:cloudtrail:us-east-1:12345:trail/x",
		"arn:aws-cn:cloudtrail:cn-north-1:123456789012:eventdatastore/e", "arn:", "trail/x", "arn:aws:cloudtrail:::trail/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseARN(s)
		if err != nil {
			return
		}
		if p.Type == "trail" && p.Partition == "aws" && ARN(p.Region, p.Account, p.Name) != s {
			t.Fatalf("%q parsed as %+v", s, p)
		}
		ValidateName(p.Name)
	})
}

// FuzzSelectors: PutEventSelectors' selectors, decoded from any JSON,
// validate without panicking, and the accepted ones match any event
// without panicking.
func FuzzSelectors(f *testing.F) {
	f.Add([]byte(`[{"FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]},{"Field":"resources.type","Equals":["AWS::S3::Object"]},{"Field":"resources.ARN","StartsWith":["arn:aws:s3:::b/"],"NotEndsWith":[".tmp"]}]}]`), []byte(`{"resources":[{"ARN":"arn:aws:s3:::b/k","type":"AWS::S3::Object"}]}`))
	f.Add([]byte(`[{"ReadWriteType":"ReadOnly","DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3"]}]}]`), []byte(`{}`))
	f.Add([]byte(`[{}]`), []byte(`{"resources":[1]}`))
	f.Fuzz(func(t *testing.T, sel, record []byte) {
		cands := []*Candidate{}
		for _, cat := range []string{"Management", "Data"} {
			c := &Candidate{}
			c.Reset(cat, "s3.amazonaws.com", "GetObject", true, record)
			cands = append(cands, c)
		}
		var adv []AdvancedEventSelector
		if json.Unmarshal(sel, &adv) == nil {
			if n, err := NormalizeAdvanced(adv); err == nil {
				s := Selectors{Advanced: n}
				for _, c := range cands {
					s.Match(c)
				}
			}
		}
		var basic []EventSelector
		if json.Unmarshal(sel, &basic) == nil {
			if n, err := NormalizeBasic(basic); err == nil {
				s := Selectors{Basic: n}
				for _, c := range cands {
					c.parsed = false
					s.Match(c)
				}
			}
		}
	})
}
