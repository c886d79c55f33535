package awsjson

import (
	"lextrail/internal/awserr"
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

func FuzzAWSJSONDecode(f *testing.F) {
	f.Add(prefix+".LookupEvents", []byte(`{"StartTime":1494360160.133,"MaxResults":5,"TagsList":[{"Key":"a"}],"Nested":{"Nested":{"Flag":true}}}`))
	f.Add("CloudTrail_20131101.GetTrailStatus", []byte(`{"Name":"t1"}`))
	f.Add(prefix+".LookupEvents", []byte(`{"StartTime":-1e-400,"EndTime":-0.0000000001,"Blob":"===","Any":[{}]}`))
	f.Add(prefix+".LookupEvents", []byte(`{"StartTime":"x","Count":300,"Ratio":1e999}`))
	f.Add("", []byte(`[`))
	f.Add(".", []byte(``))
	f.Fuzz(func(t *testing.T, target string, body []byte) {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("X-Amz-Target", target)
		op, labels, err := Codec{}.Route(testSvc, r, body)
		if err != nil {
			clientError(t, "Route", err)
			return
		}
		in := op.NewInput()
		if err := (Codec{}).Decode(op, r, labels, body, in); err != nil {
			clientError(t, "Decode", err)
			return
		}
		rec := httptest.NewRecorder()
		_ = Codec{}.Encode(rec, nil2call(op.Name), in)
	})
}
