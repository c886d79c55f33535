package logs_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ct "github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"lextrail/internal/identity"
	"lextrail/internal/services/logs"
	"lextrail/internal/store"
)

const lexTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lex.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// lexRole creates a role with an inline policy and returns the principal
// of a Lex service session of it, as the conversation-log writer holds.
func (f *fixture) lexRole(t *testing.T, name, policy string) *identity.Principal {
	t.Helper()
	ic := iam.NewFromConfig(f.env.Config())
	r := must(ic.CreateRole(f.ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(lexTrust)})).ok(t)
	if policy != "" {
		must(ic.PutRolePolicy(f.ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("logs"), PolicyDocument: aws.String(policy)})).ok(t)
	}
	roleID := aws.ToString(r.Role.RoleId)
	return &identity.Principal{
		Type: identity.TypeAssumedRole, AccountID: f.env.AccountID,
		ARN:         "arn:aws:sts::" + f.env.AccountID + ":assumed-role/" + name + "/lex-conversation-logs",
		PrincipalID: roleID + ":lex-conversation-logs", UserID: roleID + ":lex-conversation-logs",
		AccessKeyID: "ASIAEXAMPLELEX", InvokedBy: "lex.amazonaws.com",
		Session: &identity.Session{IssuerType: "Role", IssuerPrincipalID: roleID, IssuerARN: aws.ToString(r.Role.Arn),
			IssuerAccountID: f.env.AccountID, IssuerUserName: name, SessionName: "lex-conversation-logs", CreationDate: f.now, Expiration: f.now.Add(time.Hour)},
	}
}

func logsPolicy(resource string, actions ...string) string {
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Allow", "Action": actions, "Resource": resource}}})
	return string(b)
}

// TestAppend: the Go API conversation-log writers use, acting as Lex with
// an assumed role: authorization by the role's policy, stream creation
// recorded in CloudTrail as the role, sorting and batching, rejections,
// atomicity.
func TestAppend(t *testing.T) {
	f := newFixture(t)
	const group = "lex-text-logs"
	f.group(group)
	svc := f.env.Server.Logs
	good := f.lexRole(t, "LexConvLogs", logsPolicy("arn:aws:logs:us-east-1:123456789012:log-group:lex-text-logs:*", "logs:CreateLogStream", "logs:PutLogEvents"))
	putOnly := f.lexRole(t, "LexPutOnly", logsPolicy("arn:aws:logs:us-east-1:123456789012:log-group:lex-text-logs:*", "logs:PutLogEvents"))
	wrongGroup := f.lexRole(t, "LexOtherGroup", logsPolicy("arn:aws:logs:us-east-1:123456789012:log-group:other:*", "logs:CreateLogStream", "logs:PutLogEvents"))
	none := f.lexRole(t, "LexNothing", "")

	const stream = "aws/lex/OrderFlowers/prod/1/4b6f2b7e"
	// Out of order, spread over 30 hours: sorted, split by the 24-hour span.
	var evs []logs.Event
	for i := 0; i < 31; i++ {
		evs = append(evs, logs.Event{Timestamp: f.now.Add(-time.Duration(30-i) * time.Hour), Message: fmt.Sprintf(`{"turn":%d}`, i)})
	}
	evs[3], evs[17] = evs[17], evs[3]
	evs = append(evs, logs.Event{Timestamp: f.now.Add(-20 * 24 * time.Hour), Message: "too old"}, logs.Event{Timestamp: f.now.Add(3 * time.Hour), Message: "too new"})
	out, err := svc.Append(f.ctx, logs.AppendInput{Principal: good, Region: "us-east-1", Group: group, Stream: stream, CreateStream: true, Events: evs})
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if out.Accepted != 31 || out.Batches != 3 || !out.StreamCreated || fmt.Sprint(out.Rejected) != "[{31 TooOld} {32 TooNew}]" {
		t.Fatalf("Append output %+v", out)
	}
	ge := must(f.c.GetLogEvents(f.ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})).ok(t)
	if len(ge.Events) != 31 || aws.ToString(ge.Events[0].Message) != `{"turn":0}` || aws.ToString(ge.Events[30].Message) != `{"turn":30}` {
		t.Fatalf("stored %s", msgs(ge.Events))
	}
	// Appending again to the existing stream needs only PutLogEvents.
	if _, err := svc.Append(f.ctx, logs.AppendInput{Principal: putOnly, Region: "us-east-1", Group: "arn:aws:logs:us-east-1:123456789012:log-group:lex-text-logs:*", Stream: stream,
		Events: []logs.Event{{Timestamp: f.now, Message: "more"}}}); err != nil {
		t.Fatalf("Append by ARN: %v", err)
	}
	// Refusals.
	cases := []struct {
		name string
		p    *identity.Principal
		in   logs.AppendInput
		code string
		msg  string
	}{
		{"no PutLogEvents", none, logs.AppendInput{Stream: stream}, "AccessDeniedException", "is not authorized to perform: logs:PutLogEvents"},
		{"other group", wrongGroup, logs.AppendInput{Stream: stream}, "AccessDeniedException", "logs:PutLogEvents"},
		{"cannot create the stream", putOnly, logs.AppendInput{Stream: "aws/lex/OrderFlowers/prod/1/new", CreateStream: true}, "AccessDeniedException", "logs:CreateLogStream"},
		{"missing stream", good, logs.AppendInput{Stream: "aws/lex/OrderFlowers/prod/1/missing"}, "ResourceNotFoundException", "log stream does not exist"},
		{"a group the role may not use", good, logs.AppendInput{Group: "nope", Stream: stream}, "AccessDeniedException", "log-group:nope:log-stream:"},
		{"missing group (lextrail itself)", nil, logs.AppendInput{Group: "arn:aws:logs:us-east-1:123456789012:log-group:nope", Stream: stream}, "ResourceNotFoundException", "log group does not exist"},
		{"bad stream name", good, logs.AppendInput{Stream: "a:b"}, "InvalidParameterException", "logStreamName"},
	}
	for _, c := range cases {
		in := c.in
		in.Principal, in.Region = c.p, "us-east-1"
		if in.Group == "" {
			in.Group = group
		}
		in.Events = []logs.Event{{Timestamp: f.now, Message: "x"}}
		_, err := svc.Append(f.ctx, in)
		if code(err) != c.code && !strings.Contains(fmt.Sprint(err), c.code) || !strings.Contains(fmt.Sprint(err), c.msg) {
			t.Errorf("%s: %v, want %s (%s)", c.name, err, c.code, c.msg)
		}
	}
	// Nothing of the refused calls was written, and the refused stream
	// was not created.
	ds := must(f.c.DescribeLogStreams(f.ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String(group)})).ok(t)
	if len(ds.LogStreams) != 1 {
		t.Fatalf("%d streams", len(ds.LogStreams))
	}
	if n := f.count(`SELECT COALESCE(SUM(events), 0) FROM logs_blocks`); n != 32 {
		t.Fatalf("%d events stored, want 32", n)
	}

	// CloudTrail: the stream creation is a management event by the Lex
	// session; PutLogEvents (data) is not in event history.
	ctc := ct.NewFromConfig(f.env.Config())
	le := must(ctc.LookupEvents(f.ctx, &ct.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventSource, AttributeValue: aws.String("logs.amazonaws.com")}}})).ok(t)
	var names []string
	var create map[string]any
	for _, e := range le.Events {
		names = append(names, aws.ToString(e.EventName))
		if aws.ToString(e.EventName) == "CreateLogStream" {
			json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &create)
		}
	}
	if strings.Contains(strings.Join(names, ","), "PutLogEvents") || strings.Count(strings.Join(names, ","), "CreateLogStream") != 1 {
		t.Fatalf("logs events in history: %v", names)
	}
	ui, _ := create["userIdentity"].(map[string]any)
	if ui["type"] != "AssumedRole" || ui["invokedBy"] != "lex.amazonaws.com" || create["sourceIPAddress"] != "lex.amazonaws.com" ||
		!strings.HasSuffix(fmt.Sprint(ui["arn"]), "assumed-role/LexConvLogs/lex-conversation-logs") {
		t.Fatalf("CreateLogStream record %v", create)
	}
	rp, _ := create["requestParameters"].(map[string]any)
	if rp["logGroupName"] != group || rp["logStreamName"] != stream {
		t.Fatalf("requestParameters %v", rp)
	}
}

// TestAppendInCallersTransaction: events appended in a caller's
// transaction commit and roll back with it (a delivery queue's exactly
// once).
func TestAppendInCallersTransaction(t *testing.T) {
	f := newFixture(t)
	f.group("q")
	in := logs.AppendInput{Region: "us-east-1", Group: "arn:aws:logs:us-east-1:123456789012:log-group:q", Stream: "s", CreateStream: true,
		Events: []logs.Event{{Timestamp: f.now, Message: "queued"}}}
	boom := errors.New("queue ack failed")
	err := f.env.Server.DB.Write(f.ctx, func(tx *store.Tx) error {
		in.Tx = tx
		if _, err := f.env.Server.Logs.Append(f.ctx, in); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || f.count(`SELECT COUNT(*) FROM logs_blocks`) != 0 || f.count(`SELECT COUNT(*) FROM logs_streams`) != 0 {
		t.Fatalf("rolled back: %v, blocks %d", err, f.count(`SELECT COUNT(*) FROM logs_blocks`))
	}
	if err := f.env.Server.DB.Write(f.ctx, func(tx *store.Tx) error {
		in.Tx = tx
		_, err := f.env.Server.Logs.Append(f.ctx, in)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ge := must(f.c.GetLogEvents(f.ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("q"), LogStreamName: aws.String("s")})).ok(t)
	if msgs(ge.Events) != "queued" {
		t.Fatalf("committed: %s", msgs(ge.Events))
	}
}

func TestSplitBatches(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var evs []logs.Event
	for i := 0; i < 25_000; i++ {
		evs = append(evs, logs.Event{Timestamp: base.Add(time.Duration(25_000-i) * time.Millisecond), Message: "m"})
	}
	evs = append(evs, logs.Event{Timestamp: base, Message: strings.Repeat("x", logs.MaxBatchBytes)}) // too large: dropped
	b := logs.SplitBatches(evs)
	if len(b) != 3 || len(b[0]) != 10_000 || len(b[2]) != 5_000 {
		t.Fatalf("batches %d", len(b))
	}
	for _, batch := range b {
		size := 0
		for i, e := range batch {
			size += len(e.Message) + logs.EventOverhead
			if i > 0 && e.Timestamp.Before(batch[i-1].Timestamp) {
				t.Fatal("not sorted")
			}
		}
		if size > logs.MaxBatchBytes {
			t.Fatalf("batch of %d bytes", size)
		}
	}
	// By size: 1 MiB of 100 KB messages is 10 a batch.
	evs = nil
	for i := 0; i < 25; i++ {
		evs = append(evs, logs.Event{Timestamp: base, Message: strings.Repeat("y", 100_000)})
	}
	if b = logs.SplitBatches(evs); len(b) != 3 || len(b[0]) != 10 {
		t.Fatalf("by size: %d batches, first %d", len(b), len(b[0]))
	}
	// By span.
	evs = []logs.Event{{Timestamp: base, Message: "a"}, {Timestamp: base.Add(24 * time.Hour), Message: "b"}, {Timestamp: base.Add(24*time.Hour + time.Millisecond), Message: "c"}}
	if b = logs.SplitBatches(evs); len(b) != 2 || len(b[0]) != 2 {
		t.Fatalf("by span: %v", b)
	}
}
