package logs_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"lextrail/internal/services/logs"
	"lextrail/internal/store"
)

// turnDoc is a conversation-log document (spec §4.1, trimmed).
func turnDoc(bot, intent, transcript string, missed bool) string {
	doc := map[string]any{"messageVersion": "1.0", "botName": bot, "botAlias": "prod", "botVersion": "1", "inputTranscript": transcript,
		"missedUtterance": missed, "inputDialogMode": "Text", "dialogState": "ElicitSlot", "userId": "u1", "sessionId": "s1"}
	if !missed {
		doc["intent"] = intent
		doc["nluIntentConfidence"] = 0.9
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

func (f *fixture) appendDocs(t *testing.T, group, stream string, evs []logs.Event) {
	t.Helper()
	arn := "arn:aws:logs:us-east-1:123456789012:log-group:" + group
	if _, err := f.env.Server.Logs.Append(f.ctx, logs.AppendInput{Region: "us-east-1", Group: arn, Stream: stream, CreateStream: true, Events: evs}); err != nil {
		t.Fatalf("Append: %v", err)
	}
}

func (f *fixture) query(t *testing.T, q string, groups ...string) *cwl.GetQueryResultsOutput {
	t.Helper()
	sq := must(f.c.StartQuery(f.ctx, &cwl.StartQueryInput{LogGroupNames: groups, StartTime: aws.Int64(f.now.Add(-7 * day).Unix()), EndTime: aws.Int64(f.now.Unix()), QueryString: aws.String(q)})).ok(t)
	out := waitQuery(t, f, aws.ToString(sq.QueryId))
	if out.Status != types.QueryStatusComplete {
		t.Fatalf("%s: status %s", q, out.Status)
	}
	return out
}

// TestQueries: Logs Insights through StartQuery / GetQueryResults /
// StopQuery on both drivers, over a fixed pair of log groups.
func TestQueries(t *testing.T) { logs.EachDriver(t, testQueries) }

func testQueries(t *testing.T, drv logs.TestDriver) {
	f := newFixture(t, drv)
	f.group("flowers")
	f.group("trips")
	at := func(h int) time.Time { return f.now.Add(-time.Duration(h) * time.Hour) }
	f.appendDocs(t, "flowers", "aws/lex/OrderFlowers/prod/1/a", []logs.Event{
		{Timestamp: at(30), Message: turnDoc("OrderFlowers", "OrderFlowers", "i want roses", false)},
		{Timestamp: at(29), Message: turnDoc("OrderFlowers", "", "what is the weather", true)},
		{Timestamp: at(5), Message: turnDoc("OrderFlowers", "OrderFlowers", "tulips", false)},
		{Timestamp: at(200), Message: turnDoc("OrderFlowers", "", "last month", true)}, // outside the 7-day window
	})
	f.appendDocs(t, "trips", "aws/lex/BookTrip/prod/2/a", []logs.Event{
		{Timestamp: at(20), Message: turnDoc("BookTrip", "", "sing a song", true)},
		{Timestamp: at(10), Message: turnDoc("BookTrip", "BookHotel", "book a hotel", false)},
	})
	// "Which utterances were missed this week?"
	res := f.query(t, `fields @timestamp, inputTranscript, botName, @logStream, @log | filter missedUtterance = 1 | sort @timestamp desc | limit 20`, "flowers", "trips")
	want := fmt.Sprintf("@timestamp=%s inputTranscript=sing a song botName=BookTrip @logStream=aws/lex/BookTrip/prod/2/a @log=123456789012:trips; "+
		"@timestamp=%s inputTranscript=what is the weather botName=OrderFlowers @logStream=aws/lex/OrderFlowers/prod/1/a @log=123456789012:flowers",
		at(20).UTC().Format("2006-01-02 15:04:05.000"), at(29).UTC().Format("2006-01-02 15:04:05.000"))
	if got := renderResults(res.Results); got != want {
		t.Fatalf("missed utterances:\n got %s\nwant %s", got, want)
	}
	if res.Statistics.RecordsScanned != 5 || res.Statistics.RecordsMatched != 2 || res.Statistics.BytesScanned == 0 {
		t.Fatalf("statistics %+v", res.Statistics)
	}
	res = f.query(t, `filter ispresent(intent) | stats count(*) as turns by botName, intent | sort turns desc, botName asc`, "flowers", "trips")
	if got := renderResults(res.Results); got != "botName=OrderFlowers intent=OrderFlowers turns=2; botName=BookTrip intent=BookHotel turns=1" {
		t.Fatalf("stats: %s", got)
	}
	// GetQueryResults pages with maxItems.
	sq := must(f.c.StartQuery(f.ctx, &cwl.StartQueryInput{LogGroupName: aws.String("flowers"), StartTime: aws.Int64(f.now.Add(-30 * day).Unix()), EndTime: aws.Int64(f.now.Unix()),
		QueryString: aws.String(`fields inputTranscript | sort @timestamp asc`)})).ok(t)
	waitQuery(t, f, aws.ToString(sq.QueryId))
	var pages []string
	var tok *string
	for i := 0; i < 5; i++ {
		p := must(f.c.GetQueryResults(f.ctx, &cwl.GetQueryResultsInput{QueryId: sq.QueryId, MaxItems: aws.Int32(3), NextToken: tok})).ok(t)
		pages = append(pages, renderResults(p.Results))
		if tok = p.NextToken; tok == nil {
			break
		}
	}
	if got := strings.Join(pages, " | "); got != "inputTranscript=last month; inputTranscript=i want roses; inputTranscript=what is the weather | inputTranscript=tulips" {
		t.Fatalf("pages: %s", got)
	}

	// Errors.
	_, err := f.c.StartQuery(f.ctx, &cwl.StartQueryInput{LogGroupName: aws.String("flowers"), StartTime: aws.Int64(1), EndTime: aws.Int64(2), QueryString: aws.String(`fields @message | frobnicate`)})
	wantCode(t, err, "MalformedQueryException")
	var mq *types.MalformedQueryException
	if !asErr(err, &mq) || mq.QueryCompileError == nil || aws.ToInt32(mq.QueryCompileError.Location.StartCharOffset) != 18 || aws.ToInt32(mq.QueryCompileError.Location.EndCharOffset) != 28 {
		t.Fatalf("queryCompileError: %s", f.lastBody())
	}
	bad := []struct {
		in   cwl.StartQueryInput
		code string
	}{
		{cwl.StartQueryInput{LogGroupName: aws.String("nope"), StartTime: aws.Int64(1), EndTime: aws.Int64(2), QueryString: aws.String("fields @message")}, "ResourceNotFoundException"},
		{cwl.StartQueryInput{LogGroupName: aws.String("flowers"), StartTime: aws.Int64(3), EndTime: aws.Int64(2), QueryString: aws.String("fields @message")}, "InvalidParameterException"},
		{cwl.StartQueryInput{StartTime: aws.Int64(1), EndTime: aws.Int64(2), QueryString: aws.String("fields @message")}, "InvalidParameterException"},
		{cwl.StartQueryInput{LogGroupName: aws.String("flowers"), LogGroupNames: []string{"trips"}, StartTime: aws.Int64(1), EndTime: aws.Int64(2), QueryString: aws.String("fields @message")}, "InvalidParameterException"},
		{cwl.StartQueryInput{LogGroupName: aws.String("flowers"), StartTime: aws.Int64(1), EndTime: aws.Int64(2), QueryString: aws.String("SELECT 1"), QueryLanguage: types.QueryLanguageSql}, "InvalidParameterException"},
	}
	for _, b := range bad {
		_, err := f.c.StartQuery(f.ctx, &b.in)
		if code(err) != b.code {
			t.Errorf("%+v: %v, want %s", b.in, err, b.code)
		}
	}
	_, err = f.c.GetQueryResults(f.ctx, &cwl.GetQueryResultsInput{QueryId: aws.String("00000000-0000-0000-0000-000000000000")})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = f.c.StopQuery(f.ctx, &cwl.StopQueryInput{QueryId: aws.String("00000000-0000-0000-0000-000000000000")})
	wantCode(t, err, "ResourceNotFoundException")
}

// TestQueryStopAndLimit: the per-account concurrency limit counts
// queries running anywhere (here one another node holds, by its lease),
// StopQuery cancels such a query for good, and then the slot is free.
func TestQueryStopAndLimit(t *testing.T) {
	f := newFixtureWith(t, logs.TestDrivers[0], func(c *logs.Config) { c.MaxQueriesPerAccount = 1 })
	f.group("big")
	evs := make([]logs.Event, 5000)
	for i := range evs {
		evs[i] = logs.Event{Timestamp: f.now.Add(-time.Duration(i) * time.Millisecond), Message: turnDoc("OrderFlowers", "OrderFlowers", fmt.Sprintf("turn %d", i), i%2 == 0)}
	}
	f.appendDocs(t, "big", "s", evs)
	// A query another node is running (its lease holds for an hour).
	const foreign = "11111111-2222-3333-4444-555555555555"
	if err := f.env.Server.DB.Write(f.ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(f.ctx, `INSERT INTO logs_queries (query_id, account_id, region, query_string, groups, start_ms, end_ms, row_limit, status, created_ms, lease_owner, lease_until)
			VALUES ($1, '123456789012', 'us-east-1', 'fields @message', '[]', 0, 1, 10, 'Running', $2, 'node-elsewhere', $3)`, foreign, f.now.UnixMilli(), f.now.Add(time.Hour).UnixMilli())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	start := func() (*cwl.StartQueryOutput, error) {
		return f.c.StartQuery(f.ctx, &cwl.StartQueryInput{LogGroupName: aws.String("big"), StartTime: aws.Int64(f.now.Add(-time.Hour).Unix()), EndTime: aws.Int64(f.now.Unix()),
			QueryString: aws.String(`filter inputTranscript like /turn 1/ | stats count(*) by missedUtterance | sort missedUtterance desc`)})
	}
	_, err := start()
	wantCode(t, err, "LimitExceededException")
	if message(err) != "Account maximum query concurrency limit of [1] reached." {
		t.Fatalf("message %q", message(err))
	}
	if res := waitQueryStatus(t, f, foreign); res.Status != types.QueryStatusRunning {
		t.Fatalf("the foreign query is %s", res.Status)
	}
	stop := must(f.c.StopQuery(f.ctx, &cwl.StopQueryInput{QueryId: aws.String(foreign)})).ok(t)
	if !stop.Success {
		t.Fatal("StopQuery of a running query must succeed")
	}
	if res := waitQuery(t, f, foreign); res.Status != types.QueryStatusCancelled {
		t.Fatalf("status %s", res.Status)
	}
	if again := must(f.c.StopQuery(f.ctx, &cwl.StopQueryInput{QueryId: aws.String(foreign)})).ok(t); again.Success {
		t.Fatal("stopping twice reports success")
	}
	// The slot is free again, and a query runs to the end.
	q2 := must(start()).ok(t)
	res := waitQuery(t, f, aws.ToString(q2.QueryId))
	if res.Status != types.QueryStatusComplete || res.Statistics.RecordsScanned != 5000 {
		t.Fatalf("second query %s %+v", res.Status, res.Statistics)
	}
	if got := renderResults(res.Results); got != "missedUtterance=1 count(*)=555; missedUtterance=0 count(*)=556" {
		t.Fatalf("results %s", got)
	}
	// A query whose owner stopped renewing its lease is taken over.
	if err := f.env.Server.DB.Write(f.ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(f.ctx, `UPDATE logs_queries SET status = 'Running', lease_owner = 'node-dead', lease_until = $1, results = '', done_ms = 0 WHERE query_id = $2`, f.now.Add(-time.Minute).UnixMilli(), aws.ToString(q2.QueryId))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// (the runner polls every second)
	if res := waitQuery(t, f, aws.ToString(q2.QueryId)); res.Status != types.QueryStatusComplete || renderResults(res.Results) != "missedUtterance=1 count(*)=555; missedUtterance=0 count(*)=556" {
		t.Fatalf("after a dead owner: %s %s", res.Status, renderResults(res.Results))
	}
}

// waitQueryStatus returns a query's current state.
func waitQueryStatus(t *testing.T, f *fixture, id string) *cwl.GetQueryResultsOutput {
	t.Helper()
	return must(f.c.GetQueryResults(f.ctx, &cwl.GetQueryResultsInput{QueryId: aws.String(id)})).ok(t)
}
