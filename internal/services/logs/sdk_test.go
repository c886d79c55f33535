package logs_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"lextrail/internal/services/logs"
)

// TestEveryOperation drives each of the 22 operations through the Go SDK
// on both database drivers and checks its answer.
func TestEveryOperation(t *testing.T) { logs.EachDriver(t, testEveryOperation) }

func testEveryOperation(t *testing.T, drv logs.TestDriver) {
	f := newFixture(t, drv)
	ctx, c := f.ctx, f.c
	seen := map[string]bool{}
	ok := func(op string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		if f.status() != 200 {
			t.Fatalf("%s: HTTP %d", op, f.status())
		}
		seen[op] = true
	}
	const g = "/lex/text-logs"
	arn := "arn:aws:logs:us-east-1:123456789012:log-group:" + g

	_, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(g), Tags: map[string]string{"team": "bots"}})
	ok("CreateLogGroup", err)
	_, err = c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(g)})
	wantCode(t, err, "ResourceAlreadyExistsException")

	dg, err := c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/lex/")})
	ok("DescribeLogGroups", err)
	if len(dg.LogGroups) != 1 {
		t.Fatalf("DescribeLogGroups: %+v", dg.LogGroups)
	}
	lg := dg.LogGroups[0]
	if aws.ToString(lg.Arn) != arn+":*" || aws.ToString(lg.LogGroupArn) != arn || aws.ToInt64(lg.CreationTime) != f.now.UnixMilli() ||
		lg.RetentionInDays != nil || aws.ToInt64(lg.StoredBytes) != 0 || lg.KmsKeyId != nil || lg.LogGroupClass != types.LogGroupClassStandard {
		t.Fatalf("DescribeLogGroups item %+v", lg)
	}

	_, err = c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String(g), RetentionInDays: aws.Int32(30)})
	ok("PutRetentionPolicy", err)
	_, err = c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String(g), RetentionInDays: aws.Int32(2)})
	wantCode(t, err, "InvalidParameterException")
	if !strings.Contains(message(err), "Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]") {
		t.Fatalf("retention message %q", message(err))
	}
	dg = must(c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})).ok(t)
	if aws.ToInt32(dg.LogGroups[0].RetentionInDays) != 30 {
		t.Fatalf("retention not shown: %+v", dg.LogGroups[0])
	}
	_, err = c.DeleteRetentionPolicy(ctx, &cwl.DeleteRetentionPolicyInput{LogGroupName: aws.String(g)})
	ok("DeleteRetentionPolicy", err)
	if dg = must(c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})).ok(t); dg.LogGroups[0].RetentionInDays != nil {
		t.Fatal("retention still set")
	}

	_, err = c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String(g), LogStreamName: aws.String("aws/lex/OrderFlowers/prod/1/a")})
	ok("CreateLogStream", err)
	_, err = c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String(g), LogStreamName: aws.String("aws/lex/OrderFlowers/prod/1/a")})
	wantCode(t, err, "ResourceAlreadyExistsException")
	f.stream(g, "aws/lex/OrderFlowers/prod/1/b")

	put, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(g), LogStreamName: aws.String("aws/lex/OrderFlowers/prod/1/a"),
		SequenceToken: aws.String("ignored"), LogEvents: []types.InputLogEvent{
			f.ev(-3*time.Minute, `{"botName":"OrderFlowers","inputTranscript":"i want roses","missedUtterance":false}`),
			f.ev(-2*time.Minute, `{"botName":"OrderFlowers","inputTranscript":"what is the weather","missedUtterance":true}`),
		}})
	ok("PutLogEvents", err)
	if len(aws.ToString(put.NextSequenceToken)) != 56 || put.RejectedLogEventsInfo != nil {
		t.Fatalf("PutLogEvents output %+v", put)
	}
	f.put(g, "aws/lex/OrderFlowers/prod/1/b", f.ev(-time.Minute, `{"botName":"OrderFlowers","inputTranscript":"sing","missedUtterance":true}`))

	ds, err := c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String(g)})
	ok("DescribeLogStreams", err)
	if len(ds.LogStreams) != 2 {
		t.Fatalf("streams %+v", ds.LogStreams)
	}
	s0 := ds.LogStreams[0]
	if aws.ToString(s0.LogStreamName) != "aws/lex/OrderFlowers/prod/1/a" || aws.ToInt64(s0.FirstEventTimestamp) != f.ms(-3*time.Minute) ||
		aws.ToInt64(s0.LastEventTimestamp) != f.ms(-2*time.Minute) || aws.ToInt64(s0.LastIngestionTime) != f.now.UnixMilli() ||
		aws.ToString(s0.Arn) != arn+":log-stream:aws/lex/OrderFlowers/prod/1/a" || aws.ToInt64(s0.StoredBytes) != 0 {
		t.Fatalf("stream %+v", s0)
	}
	dg = must(c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})).ok(t)
	if sb := aws.ToInt64(dg.LogGroups[0].StoredBytes); sb == 0 {
		t.Fatalf("storedBytes %d", sb)
	}

	ge, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String(g), LogStreamName: aws.String("aws/lex/OrderFlowers/prod/1/a"), StartFromHead: aws.Bool(true)})
	ok("GetLogEvents", err)
	if len(ge.Events) != 2 || !strings.Contains(aws.ToString(ge.Events[0].Message), "i want roses") || aws.ToInt64(ge.Events[1].IngestionTime) != f.now.UnixMilli() {
		t.Fatalf("GetLogEvents %+v", ge.Events)
	}

	fe, err := c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String(g),
		FilterPattern: aws.String(`{ $.botName = "OrderFlowers" && $.missedUtterance IS TRUE }`)})
	ok("FilterLogEvents", err)
	if len(fe.Events) != 2 || aws.ToString(fe.Events[0].LogStreamName) != "aws/lex/OrderFlowers/prod/1/a" || aws.ToString(fe.Events[1].LogStreamName) != "aws/lex/OrderFlowers/prod/1/b" ||
		len(aws.ToString(fe.Events[0].EventId)) != 56 || fe.NextToken != nil || fe.SearchedLogStreams == nil {
		t.Fatalf("FilterLogEvents %+v", fe)
	}

	_, err = c.TagLogGroup(ctx, &cwl.TagLogGroupInput{LogGroupName: aws.String(g), Tags: map[string]string{"env": "prod"}})
	ok("TagLogGroup", err)
	lt, err := c.ListTagsLogGroup(ctx, &cwl.ListTagsLogGroupInput{LogGroupName: aws.String(g)})
	ok("ListTagsLogGroup", err)
	if fmt.Sprint(lt.Tags) != "map[env:prod team:bots]" {
		t.Fatalf("tags %v", lt.Tags)
	}
	_, err = c.UntagLogGroup(ctx, &cwl.UntagLogGroupInput{LogGroupName: aws.String(g), Tags: []string{"env"}})
	ok("UntagLogGroup", err)
	_, err = c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"cost": "42"}})
	ok("TagResource", err)
	lr, err := c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	ok("ListTagsForResource", err)
	if fmt.Sprint(lr.Tags) != "map[cost:42 team:bots]" {
		t.Fatalf("tags %v", lr.Tags)
	}
	_, err = c.UntagResource(ctx, &cwl.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"cost", "team"}})
	ok("UntagResource", err)
	if lr = must(c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String(arn)})).ok(t); len(lr.Tags) != 0 {
		t.Fatalf("tags left %v", lr.Tags)
	}
	_, err = c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String(arn + ":*"), Tags: map[string]string{"a": "b"}})
	wantCode(t, err, "InvalidParameterException")

	// KMS: the server's KMS, with a key policy that lets CloudWatch Logs
	// use the key.
	key := must(kms.NewFromConfig(f.env.Config()).CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(logsKeyPolicy)})).ok(t)
	_, err = c.AssociateKmsKey(ctx, &cwl.AssociateKmsKeyInput{LogGroupName: aws.String(g), KmsKeyId: key.KeyMetadata.Arn})
	ok("AssociateKmsKey", err)
	if dg = must(c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})).ok(t); aws.ToString(dg.LogGroups[0].KmsKeyId) != aws.ToString(key.KeyMetadata.Arn) {
		t.Fatalf("kmsKeyId %v", dg.LogGroups[0].KmsKeyId)
	}
	f.put(g, "aws/lex/OrderFlowers/prod/1/b", f.ev(-30*time.Second, `{"botName":"OrderFlowers","inputTranscript":"encrypted","missedUtterance":false}`))
	_, err = c.DisassociateKmsKey(ctx, &cwl.DisassociateKmsKeyInput{LogGroupName: aws.String(g)})
	ok("DisassociateKmsKey", err)

	sq, err := c.StartQuery(ctx, &cwl.StartQueryInput{LogGroupName: aws.String(g), StartTime: aws.Int64(f.now.Add(-time.Hour).Unix()), EndTime: aws.Int64(f.now.Unix()),
		QueryString: aws.String(`fields inputTranscript | filter missedUtterance = 1 | sort @timestamp asc`)})
	ok("StartQuery", err)
	res := waitQuery(t, f, aws.ToString(sq.QueryId))
	seen["GetQueryResults"] = true
	if got := renderResults(res.Results); got != "inputTranscript=what is the weather; inputTranscript=sing" {
		t.Fatalf("query results %s", got)
	}
	if res.Statistics.RecordsScanned != 4 || res.Statistics.RecordsMatched != 2 {
		t.Fatalf("statistics %+v", res.Statistics)
	}
	stop, err := c.StopQuery(ctx, &cwl.StopQueryInput{QueryId: sq.QueryId})
	ok("StopQuery", err)
	if stop.Success {
		t.Fatal("StopQuery of a complete query reported success")
	}

	_, err = c.DeleteLogStream(ctx, &cwl.DeleteLogStreamInput{LogGroupName: aws.String(g), LogStreamName: aws.String("aws/lex/OrderFlowers/prod/1/b")})
	ok("DeleteLogStream", err)
	if ds = must(c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String(g)})).ok(t); len(ds.LogStreams) != 1 {
		t.Fatalf("after DeleteLogStream: %d streams", len(ds.LogStreams))
	}
	if fe = must(c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String(g)})).ok(t); len(fe.Events) != 2 {
		t.Fatalf("a deleted stream's events are still found: %d", len(fe.Events))
	}
	_, err = c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String(g)})
	ok("DeleteLogGroup", err)
	_, err = c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String(g)})
	wantCode(t, err, "ResourceNotFoundException")
	// The name is free at once, and the old events are gone.
	f.group(g)
	f.stream(g, "aws/lex/OrderFlowers/prod/1/a")
	if fe = must(c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String(g)})).ok(t); len(fe.Events) != 0 {
		t.Fatalf("a recreated group sees old events: %d", len(fe.Events))
	}
	// The purge worker (woken by the deletes) removes the old blocks.
	if _, err := f.env.Server.Logs.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.count("SELECT COUNT(*) FROM logs_blocks"); n != 0 {
		t.Fatalf("%d blocks left after purging a deleted group", n)
	}
	if n := f.count("SELECT COUNT(*) FROM logs_trash"); n != 0 {
		t.Fatalf("%d trash rows left", n)
	}
	if n := f.count("SELECT COUNT(*) FROM logs_data_keys"); n != 0 {
		t.Fatalf("%d data keys of a deleted group left", n)
	}

	for _, op := range f.env.Server.Logs.Catalog().Ops {
		if !seen[op.Name] {
			t.Errorf("operation %s not exercised", op.Name)
		}
	}
	if len(f.env.Server.Logs.Catalog().Ops) != 22 {
		t.Errorf("%d operations declared", len(f.env.Server.Logs.Catalog().Ops))
	}
}

// waitQuery polls GetQueryResults until the query is done.
func waitQuery(t testing.TB, f *fixture, id string) *cwl.GetQueryResultsOutput {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := f.c.GetQueryResults(f.ctx, &cwl.GetQueryResultsInput{QueryId: aws.String(id)})
		if err != nil {
			t.Fatalf("GetQueryResults: %v", err)
		}
		switch out.Status {
		case types.QueryStatusComplete, types.QueryStatusFailed, types.QueryStatusCancelled, types.QueryStatusTimeout:
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("query %s still %s", id, out.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func renderResults(rows [][]types.ResultField) string {
	var b bytes.Buffer
	for i, r := range rows {
		if i > 0 {
			b.WriteString("; ")
		}
		for j, fld := range r {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(aws.ToString(fld.Field) + "=" + aws.ToString(fld.Value))
		}
	}
	return b.String()
}
