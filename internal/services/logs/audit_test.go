package logs_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ct "github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// TestAudit: management calls are CloudTrail management events (reads
// with readOnly true and no responseElements, failures with errorCode);
// PutLogEvents, GetLogEvents, FilterLogEvents and GetQueryResults are data
// events and stay out of event history; log messages never reach it.
func TestAudit(t *testing.T) {
	f := newFixture(t)
	f.group("audited")
	f.stream("audited", "s")
	f.put("audited", "s", f.ev(-time.Minute, "SECRET-MESSAGE"))
	must(f.c.GetLogEvents(f.ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("audited"), LogStreamName: aws.String("s")})).ok(t)
	must(f.c.FilterLogEvents(f.ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("audited"), FilterPattern: aws.String("SECRET")})).ok(t)
	must(f.c.DescribeLogGroups(f.ctx, &cwl.DescribeLogGroupsInput{})).ok(t)
	must(f.c.PutRetentionPolicy(f.ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("audited"), RetentionInDays: aws.Int32(7)})).ok(t)
	sq := must(f.c.StartQuery(f.ctx, &cwl.StartQueryInput{LogGroupName: aws.String("audited"), StartTime: aws.Int64(f.now.Add(-time.Hour).Unix()), EndTime: aws.Int64(f.now.Unix()), QueryString: aws.String("fields @message")})).ok(t)
	waitQuery(t, f, aws.ToString(sq.QueryId))
	_, err := f.c.CreateLogGroup(f.ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("audited")})
	wantCode(t, err, "ResourceAlreadyExistsException")

	ctc := ct.NewFromConfig(f.env.Config())
	out := must(ctc.LookupEvents(f.ctx, &ct.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventSource, AttributeValue: aws.String("logs.amazonaws.com")}}})).ok(t)
	recs := map[string][]map[string]any{}
	var names []string
	for _, e := range out.Events {
		if strings.Contains(aws.ToString(e.CloudTrailEvent), "SECRET-MESSAGE") {
			t.Fatalf("a log message reached event history: %s", aws.ToString(e.CloudTrailEvent))
		}
		var r map[string]any
		json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &r)
		recs[aws.ToString(e.EventName)] = append(recs[aws.ToString(e.EventName)], r)
		names = append(names, aws.ToString(e.EventName))
	}
	sort.Strings(names)
	if got := strings.Join(names, ","); got != "CreateLogGroup,CreateLogGroup,CreateLogStream,DescribeLogGroups,PutRetentionPolicy,StartQuery" {
		t.Fatalf("events %s", got)
	}
	for _, r := range recs["CreateLogGroup"] {
		if r["eventSource"] != "logs.amazonaws.com" || r["eventCategory"] != "Management" || r["managementEvent"] != true {
			t.Fatalf("record %v", r)
		}
	}
	var failed map[string]any
	for _, r := range recs["CreateLogGroup"] {
		if r["errorCode"] != nil {
			failed = r
		}
	}
	if failed == nil || failed["errorCode"] != "ResourceAlreadyExistsException" {
		t.Fatalf("failed CreateLogGroup not recorded: %v", recs["CreateLogGroup"])
	}
	d := recs["DescribeLogGroups"][0]
	if d["readOnly"] != true || d["responseElements"] != nil {
		t.Fatalf("DescribeLogGroups record %v", d)
	}
	p := recs["PutRetentionPolicy"][0]
	if rp := p["requestParameters"].(map[string]any); rp["logGroupName"] != "audited" || rp["retentionInDays"] != float64(7) || p["readOnly"] != false {
		t.Fatalf("PutRetentionPolicy record %v", p)
	}
	if s := recs["StartQuery"][0]; s["readOnly"] != true || s["requestParameters"].(map[string]any)["queryString"] != "fields @message" {
		t.Fatalf("StartQuery record %v", s)
	}
}
