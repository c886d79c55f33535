package awsjson

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/protocol"
)

const prefix = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value,omitempty"`
}

type getTrailStatusInput struct {
	Name string `json:"Name"`
}

type getTrailStatusOutput struct {
	IsLogging          *bool          `json:"IsLogging,omitempty"`
	LatestDeliveryTime *protocol.Time `json:"LatestDeliveryTime,omitempty"`
	StartLoggingTime   protocol.Time  `json:"StartLoggingTime,omitzero"`
	StopLoggingTime    protocol.Time  `json:"StopLoggingTime,omitzero"`
	LatestDeliveryErr  string         `json:"LatestDeliveryError,omitempty"`
}

type lookupInput struct {
	StartTime   *protocol.Time `json:"StartTime,omitempty"`
	MaxResults  *int32         `json:"MaxResults,omitempty"`
	Tags        []tag          `json:"TagsList,omitempty"`
	Attributes  map[string]string
	Blob        []byte
	Flag        bool
	Ratio       float64
	Nested      *lookupInput `json:"Nested,omitempty"`
	Any         any
	unexported  int
	NextToken   string `json:"NextToken,omitempty"`
	EndTime     protocol.Time
	Count       uint8
	LookupAttrs []map[string]string
}

var testSvc = catalog.NewService(&catalog.Service{
	Name: "cloudtrail", SigningName: "cloudtrail", Protocol: catalog.JSON, TargetPrefix: prefix,
	Ops: []*catalog.Operation{
		catalog.Define(catalog.Operation{Name: "GetTrailStatus"}, func(_ context.Context, _ *catalog.Call, in *getTrailStatusInput) (*getTrailStatusOutput, error) {
			if in.Name != "t1" {
				return nil, awserr.New(http.StatusBadRequest, "TrailNotFoundException", "Unknown trail: %s for the user: 123456789012", in.Name)
			}
			yes := true
			return &getTrailStatusOutput{IsLogging: &yes, LatestDeliveryTime: protocol.TimePtr(time.UnixMilli(1494360160133)),
				StartLoggingTime: protocol.NewTime(time.Unix(1494360000, 0))}, nil
		}),
		catalog.Define(catalog.Operation{Name: "LookupEvents"}, func(_ context.Context, _ *catalog.Call, in *lookupInput) (*struct{}, error) {
			return nil, nil
		}),
	},
})

func TestRoute(t *testing.T) {
	cases := []struct {
		name, method, target string
		wantOp               string
		wantCode             string
		wantStatus           int
	}{
		{"ok", "POST", prefix + ".GetTrailStatus", "GetTrailStatus", "", 0},
		{"missing", "POST", "", "", "UnknownOperationException", 400},
		{"unknown op", "POST", prefix + ".Nope", "", "UnknownOperationException", 400},
		{"short prefix (aws-sdk-go-v2)", "POST", "CloudTrail_20131101.GetTrailStatus", "GetTrailStatus", "", 0},
		{"partial prefix", "POST", "v20131101.CloudTrail_20131101.GetTrailStatus", "", "UnknownOperationException", 400},
		{"suffix not component", "POST", "Trail_20131101.GetTrailStatus", "", "UnknownOperationException", 400},
		{"wrong prefix", "POST", "Logs_20140328.GetTrailStatus", "", "UnknownOperationException", 400},
		{"no dot", "POST", "GetTrailStatus", "", "UnknownOperationException", 400},
		{"get", "GET", prefix + ".GetTrailStatus", "", "UnknownOperationException", 405},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/", nil)
			if tc.target != "" {
				r.Header.Set("X-Amz-Target", tc.target)
			}
			op, _, err := Codec{}.Route(testSvc, r, nil)
			if tc.wantCode == "" {
				if err != nil || op.Name != tc.wantOp {
					t.Fatalf("got %v, %v", op, err)
				}
				return
			}
			e, ok := err.(*awserr.Error)
			if !ok || e.Code != tc.wantCode || e.Status != tc.wantStatus {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	op := testSvc.Op("LookupEvents")
	good := []struct {
		body  string
		check func(*lookupInput) bool
	}{
		{"", func(in *lookupInput) bool { return in.StartTime == nil }},
		{"  ", func(in *lookupInput) bool { return true }},
		{`{}`, func(in *lookupInput) bool { return true }},
		{`{"StartTime":1494360160.133,"Unknown":[1,2,{"x":null}]}`, func(in *lookupInput) bool {
			return in.StartTime.UnixMilli() == 1494360160133
		}},
		{`{"StartTime":1494360160,"EndTime":1.494360160133E9}`, func(in *lookupInput) bool {
			return in.StartTime.Unix() == 1494360160 && in.EndTime.UnixMilli() == 1494360160133
		}},
		{`{"MaxResults":50,"TagsList":[{"Key":"a","Value":"b"}],"Attributes":{"k":"v"},"Blob":"aGk=","Flag":true}`, func(in *lookupInput) bool {
			return *in.MaxResults == 50 && in.Tags[0].Value == "b" && in.Attributes["k"] == "v" && string(in.Blob) == "hi" && in.Flag
		}},
		{`{"StartTime":null}`, func(in *lookupInput) bool { return in.StartTime == nil }},
	}
	for _, tc := range good {
		in := op.NewInput().(*lookupInput)
		if err := (Codec{}).Decode(op, httptest.NewRequest("POST", "/", nil), nil, []byte(tc.body), in); err != nil {
			t.Errorf("%s: %v", tc.body, err)
			continue
		}
		if !tc.check(in) {
			t.Errorf("%s: decoded %+v", tc.body, in)
		}
	}
	bad := []struct{ body, msg string }{
		{`{`, "not valid JSON"},
		{`{"MaxResults":"5"}`, "Member 'MaxResults' must be an integer in range, not a string."},
		{`{"MaxResults":5.5}`, "Member 'MaxResults' must be an integer in range, not the number 5.5."},
		{`{"MaxResults":99999999999}`, "Member 'MaxResults' must be an integer in range"},
		{`{"StartTime":"2020-01-01T00:00:00Z"}`, "Member 'StartTime' must be a timestamp (a number of epoch seconds), not a string."},
		{`{"StartTime":1e300}`, "Member 'StartTime' must be a timestamp"},
		{`{"TagsList":{}}`, "Member 'TagsList' must be a list, not an object."},
		{`{"TagsList":[{"Key":1}]}`, "Member 'TagsList.Key' must be a string, not a number."},
		{`{"Blob":"!!"}`, "not valid base64"},
		{`{"Blob":5}`, "Member 'Blob' must be a base64-encoded string"},
		{`[]`, "The request body must be a JSON object, not a list."},
		{`"x"`, "must be a JSON object, not a string"},
		{`{} x`, "not valid JSON"},
		{`{"Attributes":{"k":1}}`, "Each element of member 'Attributes' must be a string, not a number."},
	}
	for _, tc := range bad {
		in := op.NewInput()
		err := (Codec{}).Decode(op, httptest.NewRequest("POST", "/", nil), nil, []byte(tc.body), in)
		e, ok := err.(*awserr.Error)
		if !ok || e.Code != "SerializationException" || e.Status != 400 || !strings.Contains(e.Message, tc.msg) {
			t.Errorf("%s: got %v, want message containing %q", tc.body, err, tc.msg)
		}
		if ok && (strings.Contains(e.Message, "int32") || strings.Contains(e.Message, "protocol.") || strings.Contains(e.Message, "Go ")) {
			t.Errorf("%s: message leaks Go types: %s", tc.body, e.Message)
		}
	}
}

func TestEncode(t *testing.T) {
	rec := httptest.NewRecorder()
	c := &catalog.Call{RequestID: "rid", Op: testSvc.Op("GetTrailStatus"), Header: http.Header{"X-Extra": {"1"}}}
	yes := true
	err := Codec{}.Encode(rec, c, &getTrailStatusOutput{IsLogging: &yes, LatestDeliveryTime: protocol.TimePtr(time.UnixMilli(1494360160133)), LatestDeliveryErr: "<&>"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Code != 200 || rec.Header().Get("Content-Type") != ContentType || rec.Header().Get("x-amzn-RequestId") != "rid" || rec.Header().Get("X-Extra") != "1" {
		t.Fatalf("headers %d %v", rec.Code, rec.Header())
	}
	if got, want := rec.Body.String(), `{"IsLogging":true,"LatestDeliveryTime":1494360160.133,"LatestDeliveryError":"<&>"}`; got != want {
		t.Fatalf("body %s, want %s", got, want)
	}

	for _, out := range []any{nil, (*getTrailStatusOutput)(nil)} {
		rec = httptest.NewRecorder()
		if err := (Codec{}).Encode(rec, c, out); err != nil || rec.Body.String() != "{}" {
			t.Fatalf("nil out: %q %v", rec.Body.String(), err)
		}
	}
}

func TestEncodeError(t *testing.T) {
	rec := httptest.NewRecorder()
	e := awserr.New(429, "ThrottlingException", "Rate exceeded").With("Reason", "x")
	e.Header = http.Header{"Retry-After": {"3"}}
	Codec{}.EncodeError(rec, testSvc, "rid", e)
	if rec.Code != 429 || rec.Header().Get("Content-Type") != ContentType || rec.Header().Get("x-amzn-RequestId") != "rid" ||
		rec.Header().Get("Retry-After") != "3" || rec.Header().Get("X-Amzn-ErrorType") != "ThrottlingException" {
		t.Fatalf("headers %d %v", rec.Code, rec.Header())
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m["__type"] != "ThrottlingException" || m["message"] != "Rate exceeded" || m["Reason"] != "x" {
		t.Fatalf("body %s", rec.Body)
	}

	rec = httptest.NewRecorder()
	Codec{}.EncodeError(rec, nil, "rid", &awserr.Error{Code: "X", OmitMessage: true})
	if rec.Code != 500 || rec.Body.String() != `{"__type":"X"}` {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func BenchmarkRouteDecode(b *testing.B) {
	body := []byte(`{"StartTime":1494360160.133,"MaxResults":50,"NextToken":"abc","TagsList":[{"Key":"a","Value":"b"}]}`)
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("X-Amz-Target", prefix+".LookupEvents")
	b.ReportAllocs()
	for b.Loop() {
		op, labels, err := Codec{}.Route(testSvc, r, body)
		if err != nil {
			b.Fatal(err)
		}
		in := op.NewInput()
		if err := (Codec{}).Decode(op, r, labels, body, in); err != nil {
			b.Fatal(err)
		}
	}
}

func nil2call(op string) *catalog.Call {
	return &catalog.Call{RequestID: "r", Op: testSvc.Op(op), Header: http.Header{}}
}
