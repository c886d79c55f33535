package query

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/protocol"
)

const ns = "https://sts.amazonaws.com/doc/2011-06-15/"

type tag struct {
	Key   string
	Value string
}

type policyArn struct {
	Arn string `query:"arn"`
}

type msgAttr struct {
	DataType    string
	StringValue *string
}

type assumeRoleInput struct {
	RoleArn           string
	RoleSessionName   string
	DurationSeconds   *int32
	Tags              []tag
	PolicyArns        []*policyArn
	TransitiveTagKeys []string
	Expires           protocol.Time
	When              *time.Time
	Flag              bool
	Blob              []byte
	Attributes        map[string]string
	MessageAttributes map[string]msgAttr `query:"MessageAttributes,key=Name,value=Value"`
	Flat              []string           `query:"Item,flattened"`
	Nested            *assumeRoleInput
	Skipped           string `query:"-"`
	Ratio             float64
	Count             uint8
}

type credentials struct {
	AccessKeyId string        `xml:"AccessKeyId"`
	Expiration  protocol.Time `xml:"Expiration"`
}

type assumeRoleOutput struct {
	Credentials      *credentials `xml:"Credentials"`
	PackedPolicySize int32        `xml:"PackedPolicySize,omitempty"`
	Names            []string     `xml:"Names>member"`
}

type getCallerIdentityOutput struct {
	UserId  string `xml:"UserId"`
	Account string `xml:"Account"`
	Arn     string `xml:"Arn"`
}

var testSvc = catalog.NewService(&catalog.Service{
	Name: "sts", SigningName: "sts", Protocol: catalog.Query, APIVersion: "2011-06-15", XMLNamespace: ns,
	Ops: []*catalog.Operation{
		catalog.Define(catalog.Operation{Name: "GetCallerIdentity"}, func(_ context.Context, c *catalog.Call, _ *struct{}) (*getCallerIdentityOutput, error) {
			return &getCallerIdentityOutput{UserId: "AIDA<&>", Account: "123456789012", Arn: "arn:aws:iam::123456789012:user/alice"}, nil
		}),
		catalog.Define(catalog.Operation{Name: "AssumeRole"}, func(_ context.Context, _ *catalog.Call, in *assumeRoleInput) (*assumeRoleOutput, error) {
			if in.RoleArn == "bad" {
				return nil, awserr.New(http.StatusBadRequest, "ValidationError", "1 validation error detected: Value 'bad' at 'roleArn' failed to satisfy constraint")
			}
			return &assumeRoleOutput{Credentials: &credentials{AccessKeyId: "ASIA", Expiration: protocol.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))}}, nil
		}),
		catalog.Define(catalog.Operation{Name: "Nothing"}, func(_ context.Context, _ *catalog.Call, _ *struct{}) (*struct{}, error) {
			return nil, nil
		}),
	},
})

func req(method, query, body string) *http.Request {
	r := httptest.NewRequest(method, "/?"+query, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	return r
}

func TestRoute(t *testing.T) {
	cases := []struct {
		method, query, body string
		op, code            string
		status              int
	}{
		{"POST", "", "Action=GetCallerIdentity&Version=2011-06-15", "GetCallerIdentity", "", 0},
		{"GET", "Action=GetCallerIdentity&Version=2011-06-15", "", "GetCallerIdentity", "", 0},
		{"POST", "Action=AssumeRole", "Version=2011-06-15", "AssumeRole", "", 0},
		{"POST", "", "Action=GetCallerIdentity", "GetCallerIdentity", "", 0},
		{"POST", "", "Version=2011-06-15", "", "MissingAction", 400},
		{"POST", "", "", "", "MissingAction", 400},
		{"POST", "", "Action=Nope&Version=2011-06-15", "", "InvalidAction", 400},
		{"POST", "", "Action=GetCallerIdentity&Version=2010-05-08", "", "InvalidAction", 400},
		{"PUT", "", "Action=GetCallerIdentity&Version=2011-06-15", "", "InvalidAction", 405},
		{"POST", "", "Action=%zz", "", "MalformedQueryString", 400},
	}
	for _, tc := range cases {
		r := req(tc.method, tc.query, tc.body)
		op, _, err := Codec{}.Route(testSvc, r, []byte(tc.body))
		if tc.code == "" {
			if err != nil || op.Name != tc.op {
				t.Errorf("%+v: %v %v", tc, op, err)
			}
			continue
		}
		e, ok := err.(*awserr.Error)
		if !ok || e.Code != tc.code || e.Status != tc.status {
			t.Errorf("%+v: got %v", tc, err)
		}
	}
	_, _, err := Codec{}.Route(testSvc, req("POST", "", ""), []byte("Action=Nope&Version=2011-06-15"))
	if err.(*awserr.Error).Message != "Could not find operation Nope for version 2011-06-15" {
		t.Errorf("message %q", err.(*awserr.Error).Message)
	}
}

func TestDecode(t *testing.T) {
	op := testSvc.Op("AssumeRole")
	form := url.Values{
		"Action": {"AssumeRole"}, "Version": {"2011-06-15"},
		"RoleArn": {"arn:aws:iam::123456789012:role/r"}, "RoleSessionName": {"s"},
		"DurationSeconds":   {"3600"},
		"Tags.member.1.Key": {"k1"}, "Tags.member.1.Value": {"v1"},
		"Tags.member.2.Key": {"k2"}, "Tags.member.2.Value": {""},
		"Tags.member.4.Key":       {"after a gap: ignored"},
		"PolicyArns.member.1.arn": {"arn:p"},
		"TransitiveTagKeys":       {""},
		"Expires":                 {"2026-01-02T03:04:05Z"}, "When": {"2026-01-02T03:04:05.123Z"},
		"Flag": {"TRUE"}, "Blob": {"aGk="}, "Ratio": {"0.5"}, "Count": {"7"},
		"Attributes.entry.1.key": {"a"}, "Attributes.entry.1.value": {"1"},
		"Attributes.entry.2.key": {"b"}, "Attributes.entry.2.value": {"2"},
		"MessageAttributes.entry.1.Name": {"m"}, "MessageAttributes.entry.1.Value.DataType": {"String"}, "MessageAttributes.entry.1.Value.StringValue": {"x"},
		"Item.1": {"f1"}, "Item.2": {"f2"},
		"Nested.RoleArn": {"inner"}, "Nested.Tags.member.1.Key": {"nk"},
		"Skipped": {"no"}, "Unknown.member.1": {"ignored"},
	}
	r := req("POST", "", form.Encode())
	in := op.NewInput().(*assumeRoleInput)
	if err := (Codec{}).Decode(op, r, nil, []byte(form.Encode()), in); err != nil {
		t.Fatal(err)
	}
	switch {
	case in.RoleArn != "arn:aws:iam::123456789012:role/r" || in.RoleSessionName != "s" || *in.DurationSeconds != 3600:
		t.Errorf("scalars %+v", in)
	case len(in.Tags) != 2 || in.Tags[0] != (tag{"k1", "v1"}) || in.Tags[1] != (tag{"k2", ""}):
		t.Errorf("tags %+v", in.Tags)
	case len(in.PolicyArns) != 1 || in.PolicyArns[0].Arn != "arn:p":
		t.Errorf("policy arns %+v", in.PolicyArns)
	case in.TransitiveTagKeys == nil || len(in.TransitiveTagKeys) != 0:
		t.Errorf("empty list %#v", in.TransitiveTagKeys)
	case !in.Expires.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) || in.When.UnixMilli()%1000 != 123:
		t.Errorf("times %v %v", in.Expires, in.When)
	case !in.Flag || string(in.Blob) != "hi" || in.Ratio != 0.5 || in.Count != 7:
		t.Errorf("misc %+v", in)
	case len(in.Attributes) != 2 || in.Attributes["b"] != "2":
		t.Errorf("map %v", in.Attributes)
	case in.MessageAttributes["m"].DataType != "String" || *in.MessageAttributes["m"].StringValue != "x":
		t.Errorf("message attributes %+v", in.MessageAttributes)
	case len(in.Flat) != 2 || in.Flat[1] != "f2":
		t.Errorf("flattened %v", in.Flat)
	case in.Nested == nil || in.Nested.RoleArn != "inner" || in.Nested.Tags[0].Key != "nk":
		t.Errorf("nested %+v", in.Nested)
	case in.Skipped != "":
		t.Errorf("skipped set")
	}

	bad := map[string]string{
		"DurationSeconds=abc":        "Invalid value 'abc' for parameter DurationSeconds: expected an integer in range.",
		"DurationSeconds=9999999999": "DurationSeconds",
		"Flag=yes":                   "expected true or false",
		"Expires=tomorrow":           "ISO 8601",
		"Tags.member.1.Key=k&Nested.DurationSeconds=x": "Nested.DurationSeconds",
		"Blob=!!":  "base64",
		"Count=-1": "non-negative",
	}
	for body, msg := range bad {
		in := op.NewInput()
		err := Codec{}.Decode(op, req("POST", "", body), nil, []byte(body), in)
		e, ok := err.(*awserr.Error)
		if !ok || e.Code != "InvalidParameterValue" || e.Status != 400 || !strings.Contains(e.Message, msg) {
			t.Errorf("%s: got %v", body, err)
		}
	}
	// Empty non-string values are absent.
	in = op.NewInput().(*assumeRoleInput)
	if err := (Codec{}).Decode(op, req("POST", "", ""), nil, []byte("DurationSeconds=&Flag="), in); err != nil || in.DurationSeconds != nil {
		t.Errorf("empty values: %v %v", err, in.DurationSeconds)
	}
}

func TestEncode(t *testing.T) {
	rec := httptest.NewRecorder()
	c := &catalog.Call{RequestID: "rid", Op: testSvc.Op("GetCallerIdentity"), Header: http.Header{}}
	if err := (Codec{}).Encode(rec, c, &getCallerIdentityOutput{UserId: "AIDA<&>", Account: "123456789012", Arn: "arn"}); err != nil {
		t.Fatal(err)
	}
	want := `<GetCallerIdentityResponse xmlns="` + ns + `"><GetCallerIdentityResult><UserId>AIDA&lt;&amp;&gt;</UserId><Account>123456789012</Account><Arn>arn</Arn></GetCallerIdentityResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></GetCallerIdentityResponse>`
	if rec.Code != 200 || rec.Body.String() != want || rec.Header().Get("Content-Type") != "text/xml" || rec.Header().Get("x-amzn-RequestId") != "rid" {
		t.Fatalf("%d %v\n%s", rec.Code, rec.Header(), rec.Body)
	}

	rec = httptest.NewRecorder()
	c.Op = testSvc.Op("AssumeRole")
	if err := (Codec{}).Encode(rec, c, &assumeRoleOutput{Credentials: &credentials{AccessKeyId: "A", Expiration: protocol.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC))}, Names: []string{"a", "b"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rec.Body.String(), `<AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId><Expiration>2026-01-02T03:04:05.006Z</Expiration></Credentials><Names><member>a</member><member>b</member></Names></AssumeRoleResult>`) {
		t.Fatalf("%s", rec.Body)
	}

	rec = httptest.NewRecorder()
	c.Op = testSvc.Op("Nothing")
	if err := (Codec{}).Encode(rec, c, nil); err != nil {
		t.Fatal(err)
	}
	if want := `<NothingResponse xmlns="` + ns + `"><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></NothingResponse>`; rec.Body.String() != want {
		t.Fatalf("%s", rec.Body)
	}
}

func TestEncodeError(t *testing.T) {
	rec := httptest.NewRecorder()
	e := awserr.New(403, "AccessDenied", "User: x is not authorized <here>").With("Detail", "d&")
	Codec{}.EncodeError(rec, testSvc, "rid", e)
	want := `<ErrorResponse xmlns="` + ns + `"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: x is not authorized &lt;here&gt;</Message><Detail>d&amp;</Detail></Error><RequestId>rid</RequestId></ErrorResponse>`
	if rec.Code != 403 || rec.Body.String() != want || rec.Header().Get("x-amzn-RequestId") != "rid" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var parsed struct {
		Code string `xml:"Error>Code"`
		Type string `xml:"Error>Type"`
	}
	rec = httptest.NewRecorder()
	Codec{}.EncodeError(rec, nil, "rid", awserr.Internal(nil))
	if err := xml.Unmarshal(rec.Body.Bytes(), &parsed); err != nil || parsed.Type != "Receiver" || parsed.Code != "InternalFailure" || rec.Code != 500 {
		t.Fatalf("%v %+v %s", err, parsed, rec.Body)
	}
}

func BenchmarkRouteDecode(b *testing.B) {
	body := []byte("Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=s&DurationSeconds=900&Tags.member.1.Key=a&Tags.member.1.Value=b")
	r := req("POST", "", string(body))
	b.ReportAllocs()
	for b.Loop() {
		op, labels, err := Codec{}.Route(testSvc, r, body)
		if err != nil {
			b.Fatal(err)
		}
		if err := (Codec{}).Decode(op, r, labels, body, op.NewInput()); err != nil {
			b.Fatal(err)
		}
	}
}
