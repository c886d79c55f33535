package cloudtrail_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"lextrail/internal/testenv"
)

// TestAWSCLILookupEvents runs `aws cloudtrail lookup-events` (AWS CLI v1,
// botocore): attribute filter, integer epoch-second time bounds (what
// botocore sends), auto-pagination over pages of 2 (the CLI follows
// NextToken itself), CloudTrailEvent as a JSON string, ReadOnly a string,
// and an error printed with its code and a non-zero exit.
func TestAWSCLILookupEvents(t *testing.T) {
	bin := testenv.LookTool(t, "aws", "LEXTRAIL_REQUIRE_AWSCLI")
	e := testenv.New(t)
	st := sts.NewFromConfig(e.Config())
	for i := 0; i < 5; i++ {
		if _, err := st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	}
	aws := func(args ...string) ([]byte, error) {
		cmd := exec.Command(bin, append([]string{"cloudtrail", "--endpoint-url", e.URL, "--output", "json"}, args...)...)
		cmd.Env = e.CLIEnv(t)
		return cmd.CombinedOutput()
	}
	start := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	end := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	out, err := aws("lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=GetCallerIdentity",
		"--start-time", start, "--end-time", end, "--page-size", "2")
	if err != nil {
		t.Fatalf("lookup-events: %v\n%s", err, out)
	}
	var res struct {
		Events []map[string]any
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(res.Events) != 5 {
		t.Fatalf("%d events over pages of 2, want 5: %s", len(res.Events), out)
	}
	for _, ev := range res.Events {
		var rec map[string]any
		if s, ok := ev["CloudTrailEvent"].(string); !ok || json.Unmarshal([]byte(s), &rec) != nil || rec["eventName"] != "GetCallerIdentity" {
			t.Errorf("CloudTrailEvent %v", ev["CloudTrailEvent"])
		}
		if ev["ReadOnly"] != "true" || ev["Username"] != "root" || ev["EventSource"] != "sts.amazonaws.com" {
			t.Errorf("item %v", ev)
		}
		if _, ok := ev["EventTime"].(float64); !ok {
			t.Errorf("EventTime %T (CLI v1 prints the wire number)", ev["EventTime"])
		}
	}
	// A window in the past holds nothing.
	out, err = aws("lookup-events", "--start-time", "2001-01-01T00:00:00Z", "--end-time", "2001-01-02T00:00:00Z")
	if err != nil || !strings.Contains(string(out), `"Events": []`) {
		t.Fatalf("empty window: %v %s", err, out)
	}
	out, err = aws("lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=a", "AttributeKey=Username,AttributeValue=b")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 255 ||
		!strings.Contains(string(out), "An error occurred (InvalidLookupAttributesException) when calling the LookupEvents operation") {
		t.Fatalf("two attributes: %v %s", err, out)
	}
	out, err = aws("lookup-events", "--start-time", end, "--end-time", start)
	if err == nil || !strings.Contains(string(out), "InvalidTimeRangeException") {
		t.Fatalf("start after end: %v %s", err, out)
	}
}

// TestBoto3LookupEvents uses boto3's lookup_events paginator and checks
// what botocore parses: EventTime as a datetime, ReadOnly a string, the
// record as a JSON string, and a ClientError code.
func TestBoto3LookupEvents(t *testing.T) {
	py := testenv.LookTool(t, "python3", "LEXTRAIL_REQUIRE_BOTO3")
	if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
		if testenv.Required("LEXTRAIL_REQUIRE_BOTO3") {
			t.Fatal("boto3 required (LEXTRAIL_REQUIRE_BOTO3=1) but not importable")
		}
		t.Skip("boto3 is not installed: skipping the boto3 lane")
	}
	e := testenv.New(t)
	st := sts.NewFromConfig(e.Config())
	for i := 0; i < 3; i++ {
		if _, err := st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	}
	script := `import boto3, botocore, datetime, json, sys
ct = boto3.client("cloudtrail", endpoint_url=sys.argv[1], region_name="us-east-1")
events = []
for page in ct.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "sts.amazonaws.com"}],
        PaginationConfig={"PageSize": 1}):
    events.extend(page["Events"])
assert len(events) == 3, events
for ev in events:
    assert isinstance(ev["EventTime"], datetime.datetime), ev
    assert ev["ReadOnly"] == "true", ev
    assert json.loads(ev["CloudTrailEvent"])["eventSource"] == "sts.amazonaws.com"
try:
    ct.lookup_events(MaxResults=51)
    raise SystemExit("MaxResults=51 accepted")
except botocore.exceptions.ClientError as err:
    assert err.response["Error"]["Code"] == "InvalidMaxResultsException", err.response
print("ok")
`
	cmd := exec.Command(py, "-c", script, e.URL)
	cmd.Env = e.CLIEnv(t)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
}
