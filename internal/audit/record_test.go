package audit

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"lextrail/internal/audit/audittest"
	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/identity"
	"lextrail/internal/protocol"
)

// A fake JSON service whose inputs exercise member naming.

type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value,omitempty"`
}

type createThingInput struct {
	ThingName   string            `json:"ThingName"`
	BotName     string            `location:"uri" locationName:"botName"`
	Version     string            `location:"querystring" locationName:"version" json:"-"`
	UserName    string            `query:"UserName"`
	Password    string            `json:"Password" audit:"hidden"`
	Internal    string            `json:"Internal" audit:"omit"`
	Enabled     *bool             `json:"Enabled,omitempty"`
	Count       *int              `json:"Count,omitempty"`
	Zero        int               `json:"Zero,omitempty"`
	Empty       string            `json:"Empty,omitempty"`
	Tags        []Tag             `json:"Tags,omitempty"`
	Attrs       map[string]string `json:"Attrs,omitempty"`
	When        *protocol.Time    `json:"When,omitempty"`
	Blob        []byte            `json:"Blob,omitempty"`
	Nested      *nested           `json:"Nested,omitempty"`
	skipped     string
	Skipped     string `json:"-"`
	SSEKMSKeyID string `json:"SSEKMSKeyId,omitempty"`
}

type nested struct {
	InnerName string   `json:"InnerName"`
	List      []string `json:"List"`
}

type createThingOutput struct {
	ThingArn        string `json:"ThingArn"`
	SecretAccessKey string `json:"SecretAccessKey" audit:"hidden"`
}

func fakeService(record bool) *catalog.Service {
	h := func(context.Context, *catalog.Call, *createThingInput) (*createThingOutput, error) { return nil, nil }
	return catalog.NewService(&catalog.Service{Name: "things", SigningName: "things", EventSource: "things.amazonaws.com",
		Protocol: catalog.JSON, TargetPrefix: "Things_20200101",
		Ops: []*catalog.Operation{
			catalog.Define(catalog.Operation{Name: "CreateThing", Audited: true, RecordResponse: record,
				Resources: func(c *catalog.Call, in any) []catalog.Resource {
					return []catalog.Resource{{ARN: "arn:aws:things:eu-west-1:" + c.AccountID() + ":thing/" + in.(*createThingInput).ThingName, Type: "AWS::Things::Thing"}}
				}}, h),
			catalog.Define(catalog.Operation{Name: "GetThing", ReadOnly: true, Audited: true, RecordResponse: record}, h),
			catalog.Define(catalog.Operation{Name: "PutThingData", Audited: true, DataEvent: true}, h),
		}})
}

var (
	t0      = time.Date(2026, 1, 2, 3, 4, 5, 600_000_000, time.UTC)
	created = time.Date(2026, 1, 2, 2, 0, 0, 0, time.UTC)
)

func principals() map[string]*identity.Principal {
	return map[string]*identity.Principal{
		"root": identity.Root("111122223333", "AKIAROOTEXAMPLE00001"),
		"iamuser": {Type: identity.TypeIAMUser, AccountID: "111122223333", ARN: "arn:aws:iam::111122223333:user/alice",
			PrincipalID: "AIDAEXAMPLE000000001", UserName: "alice", AccessKeyID: "AKIAEXAMPLE000000001"},
		"assumedrole": {Type: identity.TypeAssumedRole, AccountID: "111122223333",
			ARN: "arn:aws:sts::111122223333:assumed-role/Deployer/deploy", PrincipalID: "AROAEXAMPLE000000001:deploy",
			AccessKeyID: "ASIAEXAMPLE000000002", Session: &identity.Session{IssuerType: "Role", IssuerPrincipalID: "AROAEXAMPLE000000001",
				IssuerARN: "arn:aws:iam::111122223333:role/Deployer", IssuerAccountID: "111122223333", IssuerUserName: "Deployer",
				SessionName: "deploy", CreationDate: created}},
		"awsservice": {Type: identity.TypeAWSService, AccountID: "111122223333", InvokedBy: "lex.amazonaws.com"},
	}
}

func call(svc *catalog.Service, op string, p *identity.Principal) *catalog.Call {
	return &catalog.Call{RequestID: "3f0c7a5e-0000-4000-8000-000000000001", Op: svc.Op(op), Region: "eu-west-1", Principal: p,
		Now: t0, SourceIP: "203.0.113.10", UserAgent: "aws-cli/2.15.0 Python/3.11"}
}

func sampleInput() *createThingInput {
	yes, zero := true, 0
	return &createThingInput{ThingName: "t1", BotName: "OrderFlowers", Version: "3", UserName: "bob", Password: "hunter2",
		Internal: "x", Enabled: &yes, Count: &zero, Tags: []Tag{{Key: "team", Value: "a"}, {Key: "empty"}},
		Attrs: map[string]string{"B": "2", "A": "1"}, When: protocol.TimePtr(t0), Blob: []byte("hi"),
		Nested: &nested{InnerName: "n"}, skipped: "s", Skipped: "s", SSEKMSKeyID: "k"}
}

// marshalStd encodes r with encoding/json (no HTML escaping).
func marshalStd(t *testing.T, r *Record) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(r); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func TestAppendJSONEqualsEncodingJSON(t *testing.T) {
	svc := fakeService(true)
	for name, p := range principals() {
		for _, failed := range []bool{false, true} {
			c := call(svc, "CreateThing", p)
			c.Request = httptest.NewRequest("POST", "https://things.eu-west-1.amazonaws.com/", nil)
			c.Request.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256}
			c.UserAgent = "agent \"quoted\" \\ \n\t\x01 <&> \u2028 é" // invalid UTF-8: TestAppendStringEqualsEncodingJSON
			var e *awserr.Error
			if failed {
				e = awserr.New(400, "ValidationException", "bad <input> \"x\"")
			}
			ev := Build(c, sampleInput(), &createThingOutput{ThingArn: "arn:x", SecretAccessKey: "s3cr3t"}, e, t0)
			var rec Record
			if err := json.Unmarshal(ev.Record, &rec); err != nil {
				t.Fatalf("%s: record is not JSON: %v\n%s", name, err, ev.Record)
			}
			std := marshalStd(t, &rec)
			if !bytes.Equal(std, ev.Record) {
				t.Errorf("%s failed=%v: AppendJSON differs from encoding/json:\n got %s\nwant %s", name, failed, ev.Record, std)
			}
		}
	}
}

func TestGoldenRecords(t *testing.T) {
	svc := fakeService(true)
	ps := principals()
	cases := []struct {
		name, op, principal string
		err                 *awserr.Error
		tls                 bool
	}{
		{"root_success", "CreateThing", "root", nil, false},
		{"iamuser_failure", "CreateThing", "iamuser", awserr.New(400, "ValidationException", "1 validation error detected"), false},
		{"assumedrole_readonly_tls", "GetThing", "assumedrole", nil, true},
		{"assumedrole_denied", "CreateThing", "assumedrole", awserr.New(403, "AccessDeniedException",
			"User: arn:aws:sts::111122223333:assumed-role/Deployer/deploy is not authorized to perform: things:CreateThing"), false},
		{"awsservice_data", "PutThingData", "awsservice", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := call(svc, tc.op, ps[tc.principal])
			if tc.tls {
				c.Request = httptest.NewRequest("POST", "https://things.eu-west-1.amazonaws.com/", nil)
				c.Request.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256}
			}
			ev := Build(c, sampleInput(), &createThingOutput{ThingArn: "arn:aws:things:eu-west-1:111122223333:thing/t1", SecretAccessKey: "s3cr3t"}, tc.err, t0)
			audittest.Check(t, "testdata/"+tc.name+".json", ev.Record)
			if strings.Contains(string(ev.Record), "hunter2") || strings.Contains(string(ev.Record), "s3cr3t") {
				t.Errorf("secret in record: %s", ev.Record)
			}
		})
	}
}

func TestEventIndexFields(t *testing.T) {
	svc := fakeService(false)
	for name, want := range map[string]string{"root": "root", "iamuser": "alice", "assumedrole": "deploy", "awsservice": ""} {
		ev := Build(call(svc, "GetThing", principals()[name]), nil, nil, nil, t0)
		if ev.Username != want {
			t.Errorf("%s: Username %q, want %q", name, ev.Username, want)
		}
		if ev.TimeMs != t0.Truncate(time.Second).UnixMilli() || !ev.ReadOnly || ev.Category != CategoryManagement || ev.Region != "eu-west-1" {
			t.Errorf("%s: %+v", name, ev)
		}
	}
	ev := Build(call(svc, "PutThingData", principals()["root"]), nil, nil, nil, t0)
	if ev.Category != CategoryData {
		t.Errorf("data event category %q", ev.Category)
	}
}

func TestElementsRules(t *testing.T) {
	svc := fakeService(true)
	p := principals()["root"]
	get := func(ev *Event) map[string]json.RawMessage {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(ev.Record, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	// Read-only: responseElements null even with RecordResponse.
	m := get(Build(call(svc, "GetThing", p), sampleInput(), &createThingOutput{ThingArn: "a"}, nil, t0))
	if string(m["responseElements"]) != "null" || string(m["readOnly"]) != "true" {
		t.Errorf("read-only: responseElements %s readOnly %s", m["responseElements"], m["readOnly"])
	}
	// Failure: null.
	m = get(Build(call(svc, "CreateThing", p), sampleInput(), nil, awserr.New(400, "X", "y"), t0))
	if string(m["responseElements"]) != "null" || string(m["errorCode"]) != `"X"` {
		t.Errorf("failure: %s %s", m["responseElements"], m["errorCode"])
	}
	// Not recorded: null.
	m = get(Build(call(fakeService(false), "CreateThing", p), sampleInput(), &createThingOutput{ThingArn: "a"}, nil, t0))
	if string(m["responseElements"]) != "null" {
		t.Errorf("unrecorded: %s", m["responseElements"])
	}
	if _, ok := m["errorCode"]; ok {
		t.Error("errorCode on success")
	}
	// Nil input, empty input: null requestParameters.
	m = get(Build(call(svc, "CreateThing", p), &createThingInput{}, nil, nil, t0))
	if string(m["requestParameters"]) != "null" {
		t.Errorf("empty input: %s", m["requestParameters"])
	}
	// Handler overrides.
	c := call(svc, "CreateThing", p)
	c.Audit = catalog.AuditNotes{RequestParameters: map[string]any{"x": 1}, ResponseElements: map[string]any{"y": "z"},
		Resources: []catalog.Resource{}, AdditionalEventData: map[string]any{"MFAUsed": "No"}}
	m = get(Build(c, sampleInput(), &createThingOutput{ThingArn: "a"}, nil, t0))
	if string(m["requestParameters"]) != `{"x":1}` || string(m["responseElements"]) != `{"y":"z"}` || string(m["additionalEventData"]) != `{"MFAUsed":"No"}` {
		t.Errorf("overrides: %s %s %s", m["requestParameters"], m["responseElements"], m["additionalEventData"])
	}
	if _, ok := m["resources"]; ok {
		t.Errorf("empty Audit.Resources should drop resources: %s", m["resources"])
	}
	// Oversized parameters are omitted (null).
	big := &createThingInput{ThingName: strings.Repeat("x", maxElements+1)}
	m = get(Build(call(svc, "CreateThing", p), big, nil, nil, t0))
	if string(m["requestParameters"]) != "null" {
		t.Errorf("oversized parameters recorded (%d bytes)", len(m["requestParameters"]))
	}
	// User agent capped at 1 KB.
	c = call(svc, "GetThing", p)
	c.UserAgent = strings.Repeat("a", 5000)
	m = get(Build(c, nil, nil, nil, t0))
	if len(m["userAgent"]) != 1024+2 {
		t.Errorf("userAgent %d bytes", len(m["userAgent"])-2)
	}
	// ... at a character boundary: 1023 ASCII bytes and a two-byte "é"
	// straddling the limit keep the 1023 bytes, not half a character.
	c.UserAgent = strings.Repeat("a", 1023) + "é" + "tail"
	m = get(Build(c, nil, nil, nil, t0))
	var ua string
	json.Unmarshal(m["userAgent"], &ua)
	if ua != strings.Repeat("a", 1023) {
		t.Errorf("userAgent cut inside a character: %d bytes, ends %q", len(ua), ua[len(ua)-3:])
	}
}

func TestResourceName(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:iam::1:user/alice":          "alice",
		"arn:aws:iam::1:user/path/to/bob":    "bob",
		"arn:aws:lex:us-east-1:1:bot:B":      "B",
		"arn:aws:lex:us-east-1:1:bot:B:prod": "prod",
		"arn:aws:s3:::bucket":                "bucket",
		"plain":                              "plain",
	} {
		if got := ResourceName(arn); got != want {
			t.Errorf("ResourceName(%q) = %q, want %q", arn, got, want)
		}
	}
}

// bigInput is a ~2 KB input with nested members.
func bigInput() *createThingInput {
	in := sampleInput()
	for i := 0; i < 20; i++ {
		in.Tags = append(in.Tags, Tag{Key: "key-" + strings.Repeat("k", 20), Value: strings.Repeat("v", 40)})
	}
	in.Nested.List = []string{strings.Repeat("l", 100), strings.Repeat("m", 100)}
	return in
}

func TestBigInputSize(t *testing.T) {
	ev := Build(call(fakeService(true), "CreateThing", principals()["assumedrole"]), bigInput(), nil, nil, t0)
	var m map[string]json.RawMessage
	json.Unmarshal(ev.Record, &m)
	if n := len(m["requestParameters"]); n < 1800 || n > 2600 {
		t.Errorf("benchmark input is %d bytes of requestParameters, want about 2 KB", n)
	}
}

// BenchmarkBuildRecord2KB builds and encodes the record of a call with a
// 2 KB input (target: <= 15 µs, bounded allocations).
func BenchmarkBuildRecord2KB(b *testing.B) {
	c := call(fakeService(true), "CreateThing", principals()["assumedrole"])
	in := bigInput()
	out := &createThingOutput{ThingArn: "arn:aws:things:eu-west-1:111122223333:thing/t1"}
	b.ReportAllocs()
	for b.Loop() {
		Build(c, in, out, nil, t0)
	}
}

// BenchmarkBuildRecordSmall builds and encodes the record of a call with
// a small input and output (an IAM CreateUser's size), by an IAM user.
func BenchmarkBuildRecordSmall(b *testing.B) {
	c := call(fakeService(true), "CreateThing", principals()["iamuser"])
	in := &createThingInput{ThingName: "lload-user-12345"}
	out := &createThingOutput{ThingArn: "arn:aws:things:eu-west-1:111122223333:thing/lload-user-12345"}
	b.ReportAllocs()
	for b.Loop() {
		Build(c, in, out, nil, t0)
	}
}

// TestSizeHint: a record's buffer starts large enough for its JSON (no
// escapes in these), so that encoding allocates once.
func TestSizeHint(t *testing.T) {
	for name, p := range principals() {
		for _, in := range []any{&createThingInput{ThingName: "t"}, bigInput()} {
			ev := Build(call(fakeService(true), "CreateThing", p), in, &createThingOutput{ThingArn: "arn:aws:things:eu-west-1:111122223333:thing/t"}, nil, t0)
			if cap(ev.Record) < len(ev.Record) || cap(ev.Record) > len(ev.Record)+512 {
				t.Errorf("%s: record of %d bytes in a buffer of %d", name, len(ev.Record), cap(ev.Record))
			}
		}
	}
}

func TestAppendEventTime(t *testing.T) {
	for _, tm := range []time.Time{t0, time.Unix(0, 0).UTC(), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(33, 2, 3, 4, 5, 6, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if got, want := string(appendEventTime(nil, tm)), tm.Format(EventTimeLayout); got != want {
			t.Errorf("appendEventTime(%v) = %q, want %q", tm, got, want)
		}
	}
}
