package query

import (
	"lextrail/internal/awserr"
	"net/http"
	"net/http/httptest"
	"testing"
)

// clientError fails unless err is an AWS-shaped 4xx error: malformed input
// must never become a 500.
func clientError(t *testing.T, stage string, err error) {
	t.Helper()
	if e := awserr.As(err); e.Status < 400 || e.Status >= 500 || e.Code == "" {
		t.Fatalf("%s: %d %s: %v", stage, e.Status, e.Code, err)
	}
}

func FuzzQueryDecode(f *testing.F) {
	f.Add("Action=AssumeRole&Version=2011-06-15&RoleArn=a&DurationSeconds=900&Tags.member.1.Key=k&Tags.member.1.Value=v")
	f.Add("Action=AssumeRole&Nested.Nested.Nested.Tags.member.1.Key=x&PolicyArns.member.1.arn=p&Attributes.entry.1.key=a&Attributes.entry.1.value=b")
	f.Add("Action=AssumeRole&MessageAttributes.entry.1.Name=n&MessageAttributes.entry.1.Value.StringValue=s&Item.1=x&Item.2=y")
	f.Add("Action=AssumeRole&Expires=2020-01-01T00:00:00Z&When=1e9&Flag=true&Blob=aGk%3D&Ratio=NaN&Count=256")
	f.Add("Action=AssumeRole&Tags=&TransitiveTagKeys=&Tags.member.1..=x&..=.&Attributes.entry.1.key=")
	f.Add("Action=GetCallerIdentity&Version=2011-06-15;x=%zz")
	f.Fuzz(func(t *testing.T, form string) {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		body := []byte(form)
		op, labels, err := Codec{}.Route(testSvc, r, body)
		if err != nil {
			clientError(t, "Route", err)
			return
		}
		if err := (Codec{}).Decode(op, r, labels, body, op.NewInput()); err != nil {
			clientError(t, "Decode", err)
		}
	})
}
