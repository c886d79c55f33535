package logs_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"lextrail/internal/services/logs"
)

// tok decodes a GetLogEvents token into "f:<offset from now in s>:<seq>".
func (f *fixture) tok(t testing.TB, token *string) string {
	t.Helper()
	s := aws.ToString(token)
	if len(s) != 58 || (s[:2] != "f/" && s[:2] != "b/") {
		t.Fatalf("token %q is not f/ or b/ and 56 digits", s)
	}
	for _, c := range s[2:] {
		if c < '0' || c > '9' {
			t.Fatalf("token %q has a non-digit", s)
		}
	}
	ts, _ := strconv.ParseInt(s[2:21], 10, 64)
	seq, _ := strconv.ParseInt(s[21:40], 10, 64)
	return fmt.Sprintf("%c:%+d:%d", s[0], (ts-f.now.UnixMilli())/1000, seq)
}

func msgs(evs []types.OutputLogEvent) string {
	var out []string
	for _, e := range evs {
		out = append(out, aws.ToString(e.Message))
	}
	return strings.Join(out, ",")
}

// TestGetLogEventsPaging pins GetLogEvents' paging: pages in timestamp
// order across blocks whose times overlap, forward and backward tokens,
// the same token at either end of the stream, time bounds, and bad tokens.
func TestGetLogEventsPaging(t *testing.T) { logs.EachDriver(t, testGetLogEventsPaging) }

func testGetLogEventsPaging(t *testing.T, drv logs.TestDriver) {
	f := newFixture(t, drv)
	f.group("g")
	f.stream("g", "s")
	f.stream("g", "other")
	// Two batches whose times interleave: seqs 0-4, then 5-6.
	f.put("g", "s", f.ev(-50*time.Second, "e50"), f.ev(-40*time.Second, "e40"), f.ev(-30*time.Second, "e30"), f.ev(-20*time.Second, "e20"), f.ev(-10*time.Second, "e10"))
	f.put("g", "s", f.ev(-45*time.Second, "e45"), f.ev(-5*time.Second, "e05"))
	get := func(in cwl.GetLogEventsInput) *cwl.GetLogEventsOutput {
		t.Helper()
		in.LogGroupName, in.LogStreamName = aws.String("g"), aws.String("s")
		return must(f.c.GetLogEvents(f.ctx, &in)).ok(t)
	}
	type page struct{ events, fwd, bwd string }
	check := func(name string, out *cwl.GetLogEventsOutput, want page) {
		t.Helper()
		got := page{msgs(out.Events), f.tok(t, out.NextForwardToken), f.tok(t, out.NextBackwardToken)}
		if got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
	}

	// From the head, three at a time, then the end.
	p1 := get(cwl.GetLogEventsInput{StartFromHead: aws.Bool(true), Limit: aws.Int32(3)})
	check("head page 1", p1, page{"e50,e45,e40", "f:-40:2", "b:-50:0"})
	p2 := get(cwl.GetLogEventsInput{NextToken: p1.NextForwardToken, Limit: aws.Int32(3)})
	check("head page 2", p2, page{"e30,e20,e10", "f:-10:5", "b:-30:2"})
	p3 := get(cwl.GetLogEventsInput{NextToken: p2.NextForwardToken, Limit: aws.Int32(3)})
	check("head page 3", p3, page{"e05", "f:-5:7", "b:-5:6"})
	p4 := get(cwl.GetLogEventsInput{NextToken: p3.NextForwardToken, Limit: aws.Int32(3)})
	check("end of stream", p4, page{"", "f:-5:7", "b:-5:7"})
	if aws.ToString(p4.NextForwardToken) != aws.ToString(p3.NextForwardToken) {
		t.Errorf("at the end the same token comes back: %s vs %s", aws.ToString(p4.NextForwardToken), aws.ToString(p3.NextForwardToken))
	}
	// Following the stream: a new event shows up from the end token.
	f.put("g", "s", f.ev(-3*time.Second, "e03"))
	p5 := get(cwl.GetLogEventsInput{NextToken: p4.NextForwardToken})
	check("tail", p5, page{"e03", "f:-3:8", "b:-3:7"})

	// The default: the newest events first, then backwards.
	b1 := get(cwl.GetLogEventsInput{Limit: aws.Int32(3)})
	check("tail page 1", b1, page{"e10,e05,e03", "f:-3:8", "b:-10:4"})
	b2 := get(cwl.GetLogEventsInput{NextToken: b1.NextBackwardToken, Limit: aws.Int32(3)})
	check("tail page 2", b2, page{"e40,e30,e20", "f:-20:4", "b:-40:1"})
	b3 := get(cwl.GetLogEventsInput{NextToken: b2.NextBackwardToken, Limit: aws.Int32(3)})
	check("tail page 3", b3, page{"e50,e45", "f:-45:6", "b:-50:0"})
	b4 := get(cwl.GetLogEventsInput{NextToken: b3.NextBackwardToken, Limit: aws.Int32(3)})
	check("head of stream", b4, page{"", "f:-50:0", "b:-50:0"})
	if aws.ToString(b4.NextBackwardToken) != aws.ToString(b3.NextBackwardToken) {
		t.Error("at the head the same backward token comes back")
	}
	again := get(cwl.GetLogEventsInput{NextToken: b4.NextForwardToken, Limit: aws.Int32(3)})
	check("forward from the head", again, page{"e50,e45,e40", "f:-40:2", "b:-50:0"})

	// Time bounds: startTime inclusive, endTime exclusive.
	tb := get(cwl.GetLogEventsInput{StartFromHead: aws.Bool(true), StartTime: aws.Int64(f.ms(-40 * time.Second)), EndTime: aws.Int64(f.ms(-10 * time.Second))})
	if got := msgs(tb.Events); got != "e40,e30,e20" {
		t.Errorf("time bounds: %s", got)
	}
	tb = get(cwl.GetLogEventsInput{StartTime: aws.Int64(f.ms(-40 * time.Second)), EndTime: aws.Int64(f.ms(-10 * time.Second)), Limit: aws.Int32(2)})
	if got := msgs(tb.Events); got != "e30,e20" {
		t.Errorf("time bounds, from the end: %s", got)
	}

	// An empty stream: both tokens at the same place.
	empty := must(f.c.GetLogEvents(f.ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("other")})).ok(t)
	if len(empty.Events) != 0 || aws.ToString(empty.NextForwardToken)[2:40] != aws.ToString(empty.NextBackwardToken)[2:40] {
		t.Errorf("empty stream: %+v", empty)
	}

	// Bad tokens and limits.
	otherTok := aws.ToString(empty.NextForwardToken)
	tampered := []byte(aws.ToString(p1.NextForwardToken))
	tampered[30]++
	if tampered[30] > '9' {
		tampered[30] = '0'
	}
	for _, bad := range []string{"f/123", "x/" + strings.Repeat("0", 56), otherTok, string(tampered), "b" + aws.ToString(p1.NextForwardToken)[1:]} {
		_, err := f.c.GetLogEvents(f.ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), NextToken: aws.String(bad)})
		wantCode(t, err, "InvalidParameterException")
	}
	for _, lim := range []int32{0, 10001} {
		_, err := f.c.GetLogEvents(f.ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), Limit: aws.Int32(lim)})
		wantCode(t, err, "InvalidParameterException")
	}
	_, err := f.c.GetLogEvents(f.ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = f.c.GetLogEvents(f.ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogGroupIdentifier: aws.String("g"), LogStreamName: aws.String("s")})
	wantCode(t, err, "InvalidParameterException")
	// logGroupIdentifier takes the ARN.
	byARN := must(f.c.GetLogEvents(f.ctx, &cwl.GetLogEventsInput{LogGroupIdentifier: aws.String("arn:aws:logs:us-east-1:123456789012:log-group:g"), LogStreamName: aws.String("s"), Limit: aws.Int32(1)})).ok(t)
	if msgs(byARN.Events) != "e03" {
		t.Errorf("by ARN: %s", msgs(byARN.Events))
	}
}

func fmsgs(evs []types.FilteredLogEvent) string {
	var out []string
	for _, e := range evs {
		out = append(out, aws.ToString(e.LogStreamName)+":"+aws.ToString(e.Message))
	}
	return strings.Join(out, ",")
}

// TestFilterLogEventsPaging: several streams interleaved by time, limits
// and tokens in both directions, inclusive time bounds, stream selection.
func TestFilterLogEventsPaging(t *testing.T) { logs.EachDriver(t, testFilterLogEventsPaging) }

func testFilterLogEventsPaging(t *testing.T, drv logs.TestDriver) {
	f := newFixture(t, drv)
	f.group("g")
	for _, s := range []string{"a", "b", "c"} {
		f.stream("g", s)
	}
	f.put("g", "a", f.ev(-60*time.Second, "a60 ERROR"), f.ev(-30*time.Second, "a30"), f.ev(-10*time.Second, "a10 ERROR"))
	f.put("g", "b", f.ev(-50*time.Second, "b50"), f.ev(-20*time.Second, "b20 ERROR"))
	f.put("g", "c", f.ev(-40*time.Second, "c40 ERROR"), f.ev(-5*time.Second, "c05"))
	filter := func(in cwl.FilterLogEventsInput) *cwl.FilterLogEventsOutput {
		t.Helper()
		in.LogGroupName = aws.String("g")
		return must(f.c.FilterLogEvents(f.ctx, &in)).ok(t)
	}
	all := filter(cwl.FilterLogEventsInput{})
	if got := fmsgs(all.Events); got != "a:a60 ERROR,b:b50,c:c40 ERROR,a:a30,b:b20 ERROR,a:a10 ERROR,c:c05" || all.NextToken != nil {
		t.Fatalf("interleaved: %s (token %v)", got, all.NextToken)
	}
	// Pages of two, following nextToken to the end.
	var pages []string
	var tok *string
	for i := 0; i < 10; i++ {
		p := filter(cwl.FilterLogEventsInput{Limit: aws.Int32(2), NextToken: tok})
		pages = append(pages, fmsgs(p.Events))
		if tok = p.NextToken; tok == nil {
			break
		}
	}
	if got := strings.Join(pages, " | "); got != "a:a60 ERROR,b:b50 | c:c40 ERROR,a:a30 | b:b20 ERROR,a:a10 ERROR | c:c05" {
		t.Fatalf("pages: %s", got)
	}
	// Newest first.
	pages = nil
	tok = nil
	for i := 0; i < 10; i++ {
		p := filter(cwl.FilterLogEventsInput{Limit: aws.Int32(3), NextToken: tok, StartFromHead: aws.Bool(false)})
		pages = append(pages, fmsgs(p.Events))
		if tok = p.NextToken; tok == nil {
			break
		}
	}
	if got := strings.Join(pages, " | "); got != "c:c05,a:a10 ERROR,b:b20 ERROR | a:a30,c:c40 ERROR,b:b50 | a:a60 ERROR" {
		t.Fatalf("reverse pages: %s", got)
	}
	// A pattern, time bounds (both inclusive), stream selection.
	cases := []struct {
		in   cwl.FilterLogEventsInput
		want string
	}{
		{cwl.FilterLogEventsInput{FilterPattern: aws.String("ERROR")}, "a:a60 ERROR,c:c40 ERROR,b:b20 ERROR,a:a10 ERROR"},
		{cwl.FilterLogEventsInput{FilterPattern: aws.String("ERROR -a10")}, "a:a60 ERROR,c:c40 ERROR,b:b20 ERROR"},
		{cwl.FilterLogEventsInput{FilterPattern: aws.String("?b50 ?c05")}, "b:b50,c:c05"},
		{cwl.FilterLogEventsInput{StartTime: aws.Int64(f.ms(-40 * time.Second)), EndTime: aws.Int64(f.ms(-20 * time.Second))}, "c:c40 ERROR,a:a30,b:b20 ERROR"},
		{cwl.FilterLogEventsInput{LogStreamNames: []string{"a", "c"}, FilterPattern: aws.String("ERROR")}, "a:a60 ERROR,c:c40 ERROR,a:a10 ERROR"},
		{cwl.FilterLogEventsInput{LogStreamNames: []string{"b"}}, "b:b50,b:b20 ERROR"},
		{cwl.FilterLogEventsInput{LogStreamNamePrefix: aws.String("c")}, "c:c40 ERROR,c:c05"},
		{cwl.FilterLogEventsInput{LogStreamNamePrefix: aws.String("z")}, ""},
		{cwl.FilterLogEventsInput{FilterPattern: aws.String(`""`)}, fmsgs(all.Events)},
		{cwl.FilterLogEventsInput{FilterPattern: aws.String(`{ $.x = 1 }`)}, ""},
	}
	for _, c := range cases {
		if got := fmsgs(filter(c.in).Events); got != c.want {
			t.Errorf("%+v: got %s, want %s", c.in, got, c.want)
		}
	}
	// Errors.
	bad := []struct {
		in   cwl.FilterLogEventsInput
		code string
	}{
		{cwl.FilterLogEventsInput{LogStreamNames: []string{"a"}, LogStreamNamePrefix: aws.String("a")}, "InvalidParameterException"},
		{cwl.FilterLogEventsInput{LogStreamNames: []string{"nope"}}, "ResourceNotFoundException"},
		{cwl.FilterLogEventsInput{FilterPattern: aws.String("foo.bar")}, "InvalidParameterException"},
		{cwl.FilterLogEventsInput{FilterPattern: aws.String("{ $.a = ")}, "InvalidParameterException"},
		{cwl.FilterLogEventsInput{NextToken: aws.String("garbage")}, "InvalidParameterException"},
		{cwl.FilterLogEventsInput{StartTime: aws.Int64(5), EndTime: aws.Int64(4)}, "InvalidParameterException"},
		{cwl.FilterLogEventsInput{StartFromHead: aws.Bool(false), StartTime: aws.Int64(time.Date(2023, 12, 31, 0, 0, 0, 0, time.UTC).UnixMilli())}, "InvalidParameterException"},
		{cwl.FilterLogEventsInput{Limit: aws.Int32(0)}, "InvalidParameterException"},
	}
	for _, b := range bad {
		b.in.LogGroupName = aws.String("g")
		_, err := f.c.FilterLogEvents(f.ctx, &b.in)
		if code(err) != b.code {
			t.Errorf("%+v: %v, want %s", b.in, err, b.code)
		}
	}
	// A token is bound to its parameters.
	p := filter(cwl.FilterLogEventsInput{Limit: aws.Int32(1)})
	_, err := f.c.FilterLogEvents(f.ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"), NextToken: p.NextToken, FilterPattern: aws.String("ERROR")})
	wantCode(t, err, "InvalidParameterException")
	_, err = f.c.FilterLogEvents(f.ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException")
}

// TestFilterScanLimit: a call that examines more events than the limit
// returns what it found with a token that resumes where it stopped, and
// paging finds every match exactly once.
func TestFilterScanLimit(t *testing.T) {
	f := newFixtureWith(t, logs.TestDrivers[0], func(c *logs.Config) { c.FilterScanLimit = 25 })
	f.group("g")
	f.stream("g", "s")
	for b := 0; b < 20; b++ {
		var evs []types.InputLogEvent
		for i := 0; i < 10; i++ {
			n := b*10 + i
			msg := fmt.Sprintf("event %d", n)
			if n%37 == 0 {
				msg += " MATCH"
			}
			evs = append(evs, f.ev(time.Duration(n-300)*time.Second, msg))
		}
		f.put("g", "s", evs...)
	}
	var found []string
	var tok *string
	calls := 0
	for {
		calls++
		p := must(f.c.FilterLogEvents(f.ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"), FilterPattern: aws.String("MATCH"), NextToken: tok})).ok(t)
		for _, e := range p.Events {
			found = append(found, aws.ToString(e.Message))
		}
		if tok = p.NextToken; tok == nil || calls > 100 {
			break
		}
	}
	if got := strings.Join(found, ","); got != "event 0 MATCH,event 37 MATCH,event 74 MATCH,event 111 MATCH,event 148 MATCH,event 185 MATCH" {
		t.Fatalf("found %s", got)
	}
	if calls < 2 {
		t.Fatalf("the scan limit should split the search into several calls, got %d", calls)
	}
}

// TestDescribePaging: DescribeLogGroups with prefix, pattern and limit;
// DescribeLogStreams by name and by last event time, both directions.
func TestDescribePaging(t *testing.T) { logs.EachDriver(t, testDescribePaging) }

func testDescribePaging(t *testing.T, drv logs.TestDriver) {
	f := newFixture(t, drv)
	for _, g := range []string{"/aws-like/x", "/lex/a", "/lex/b", "/lex/c", "FooBar", "GroupFoo", "foo"} {
		f.group(g)
	}
	groups := func(in cwl.DescribeLogGroupsInput) string {
		t.Helper()
		var names []string
		for i := 0; i < 20; i++ {
			out := must(f.c.DescribeLogGroups(f.ctx, &in)).ok(t)
			var page []string
			for _, g := range out.LogGroups {
				page = append(page, aws.ToString(g.LogGroupName))
			}
			names = append(names, strings.Join(page, ","))
			if in.NextToken = out.NextToken; in.NextToken == nil {
				break
			}
		}
		return strings.Join(names, " | ")
	}
	for _, c := range []struct {
		in   cwl.DescribeLogGroupsInput
		want string
	}{
		{cwl.DescribeLogGroupsInput{}, "/aws-like/x,/lex/a,/lex/b,/lex/c,FooBar,GroupFoo,foo"},
		{cwl.DescribeLogGroupsInput{Limit: aws.Int32(3)}, "/aws-like/x,/lex/a,/lex/b | /lex/c,FooBar,GroupFoo | foo"},
		{cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/lex/"), Limit: aws.Int32(2)}, "/lex/a,/lex/b | /lex/c"},
		{cwl.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("Foo")}, "FooBar,GroupFoo"},
		{cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("nothing")}, ""},
	} {
		if got := groups(c.in); got != c.want {
			t.Errorf("DescribeLogGroups %+v: got %s, want %s", c.in, got, c.want)
		}
	}
	_, err := f.c.DescribeLogGroups(f.ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("a"), LogGroupNamePattern: aws.String("b")})
	wantCode(t, err, "InvalidParameterException")
	_, err = f.c.DescribeLogGroups(f.ctx, &cwl.DescribeLogGroupsInput{Limit: aws.Int32(51)})
	wantCode(t, err, "InvalidParameterException")
	_, err = f.c.DescribeLogGroups(f.ctx, &cwl.DescribeLogGroupsInput{NextToken: aws.String("bm9wZQ")})
	wantCode(t, err, "InvalidParameterException")

	// Streams: names and last event times differ in order.
	for i, s := range []string{"s1", "s2", "s3", "s4", "x1"} {
		f.stream("/lex/a", s)
		if s != "s4" {
			f.put("/lex/a", s, f.ev(-time.Duration(10*(5-i))*time.Second, "m"))
		}
	}
	f.put("/lex/a", "s1", f.ev(-time.Second, "m")) // s1 is now the most recent
	streams := func(in cwl.DescribeLogStreamsInput) string {
		t.Helper()
		in.LogGroupName = aws.String("/lex/a")
		var names []string
		for i := 0; i < 20; i++ {
			out := must(f.c.DescribeLogStreams(f.ctx, &in)).ok(t)
			var page []string
			for _, s := range out.LogStreams {
				page = append(page, aws.ToString(s.LogStreamName))
			}
			names = append(names, strings.Join(page, ","))
			if in.NextToken = out.NextToken; in.NextToken == nil {
				break
			}
		}
		return strings.Join(names, " | ")
	}
	for _, c := range []struct {
		in   cwl.DescribeLogStreamsInput
		want string
	}{
		{cwl.DescribeLogStreamsInput{}, "s1,s2,s3,s4,x1"},
		{cwl.DescribeLogStreamsInput{Limit: aws.Int32(2)}, "s1,s2 | s3,s4 | x1"},
		{cwl.DescribeLogStreamsInput{Descending: aws.Bool(true), Limit: aws.Int32(2)}, "x1,s4 | s3,s2 | s1"},
		{cwl.DescribeLogStreamsInput{LogStreamNamePrefix: aws.String("s"), Limit: aws.Int32(3)}, "s1,s2,s3 | s4"},
		{cwl.DescribeLogStreamsInput{LogStreamNamePrefix: aws.String("s"), Descending: aws.Bool(true)}, "s4,s3,s2,s1"},
		{cwl.DescribeLogStreamsInput{OrderBy: types.OrderByLastEventTime}, "s4,s2,s3,x1,s1"},
		{cwl.DescribeLogStreamsInput{OrderBy: types.OrderByLastEventTime, Descending: aws.Bool(true), Limit: aws.Int32(2)}, "s1,x1 | s3,s2 | s4"},
	} {
		if got := streams(c.in); got != c.want {
			t.Errorf("DescribeLogStreams %+v: got %s, want %s", c.in, got, c.want)
		}
	}
	_, err = f.c.DescribeLogStreams(f.ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("/lex/a"), OrderBy: types.OrderByLastEventTime, LogStreamNamePrefix: aws.String("s")})
	wantCode(t, err, "InvalidParameterException")
	if message(err) != "Cannot order by LastEventTime with a logStreamNamePrefix." {
		t.Errorf("message %q", message(err))
	}
	_, err = f.c.DescribeLogStreams(f.ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("/nope")})
	wantCode(t, err, "ResourceNotFoundException")
}

// TestFilterBloomSampling: a scan whose first blocks all hold the
// pattern's literal stops reading Bloom filters for a while; the blocks
// it then reads without them are filtered all the same (every match
// found once, in order), in one call and when paging in small pages.
func TestFilterBloomSampling(t *testing.T) {
	f := newFixture(t)
	f.group("g")
	f.stream("g", "s")
	var want []string
	n := 0
	for b := 0; b < 60; b++ {
		var evs []types.InputLogEvent
		for i := 0; i < 5; i++ {
			msg := fmt.Sprintf(`{"n":%d,"bot":"Other"}`, n)
			// The first 20 blocks all have the literal; later only every
			// seventh block does.
			if (b < 20 && i == 0) || (b >= 20 && b%7 == 0 && i == 3) {
				msg = fmt.Sprintf(`{"n":%d,"bot":"Wanted"}`, n)
				want = append(want, msg)
			}
			evs = append(evs, f.ev(time.Duration(n-400)*time.Second, msg))
			n++
		}
		f.put("g", "s", evs...)
	}
	for _, limit := range []*int32{nil, aws.Int32(7)} {
		var got []string
		var tok *string
		for calls := 0; calls < 50; calls++ {
			p := must(f.c.FilterLogEvents(f.ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"), FilterPattern: aws.String(`{ $.bot = "Wanted" }`), NextToken: tok, Limit: limit})).ok(t)
			for _, e := range p.Events {
				got = append(got, aws.ToString(e.Message))
			}
			if tok = p.NextToken; tok == nil {
				break
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("limit %v: got %d matches:\n%s\nwant %d:\n%s", aws.ToInt32(limit), len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
		}
	}
}
