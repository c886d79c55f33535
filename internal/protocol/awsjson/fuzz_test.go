package awsjson

import (
	"net/http/httptest"
	"testing"
)

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
			return
		}
		in := op.NewInput()
		if err := (Codec{}).Decode(op, r, labels, body, in); err != nil {
			return
		}
		rec := httptest.NewRecorder()
		_ = Codec{}.Encode(rec, nil2call(op.Name), in)
	})
}
