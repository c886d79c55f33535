package logs_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

const day = 24 * time.Hour

// TestPutLogEventsRejected pins rejectedLogEventsInfo: which events are
// too old (> 14 days), expired (older than the retention) or too new (> 2
// hours ahead), by index, and that only the rest is stored.
func TestPutLogEventsRejected(t *testing.T) {
	f := newFixture(t)
	f.group("g")
	f.stream("g", "s")
	f.group("short")
	must(f.c.PutRetentionPolicy(f.ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("short"), RetentionInDays: aws.Int32(3)})).ok(t)
	f.stream("short", "s")

	type rej struct{ old, expired, new *int32 }
	cases := []struct {
		name   string
		group  string
		events []types.InputLogEvent
		want   *rej
		stored string
	}{
		{"oldest accepted", "g", []types.InputLogEvent{f.ev(-14*day+time.Minute, "edge-old")}, nil, "edge-old"},
		{"newest accepted", "g", []types.InputLogEvent{f.ev(2*time.Hour, "edge-new")}, nil, "edge-new"},
		{"too old", "g", []types.InputLogEvent{f.ev(-15*day, "old1"), f.ev(-14*day-time.Second, "old2"), f.ev(-time.Hour, "ok")}, &rej{old: aws.Int32(2)}, "ok"},
		{"too new", "g", []types.InputLogEvent{f.ev(-time.Minute, "ok"), f.ev(2*time.Hour+time.Second, "new1"), f.ev(3*time.Hour, "new2")}, &rej{new: aws.Int32(1)}, "ok"},
		{"both", "g", []types.InputLogEvent{f.ev(-20*day, "old"), f.ev(0, "ok"), f.ev(5*time.Hour, "new")}, &rej{old: aws.Int32(1), new: aws.Int32(2)}, "ok"},
		{"all rejected", "g", []types.InputLogEvent{f.ev(-20*day, "old"), f.ev(5*time.Hour, "new")}, &rej{old: aws.Int32(1), new: aws.Int32(1)}, ""},
		{"expired under retention", "short", []types.InputLogEvent{f.ev(-4*day, "exp1"), f.ev(-3*day-time.Minute, "exp2"), f.ev(-2*day, "ok")}, &rej{expired: aws.Int32(2)}, "ok"},
		{"old and expired", "short", []types.InputLogEvent{f.ev(-15*day, "old"), f.ev(-10*day, "exp"), f.ev(-time.Hour, "ok")}, &rej{old: aws.Int32(1), expired: aws.Int32(2)}, "ok"},
	}
	for i, c := range cases {
		stream := fmt.Sprintf("s%d", i)
		f.stream(c.group, stream)
		out := must(f.c.PutLogEvents(f.ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(c.group), LogStreamName: aws.String(stream), LogEvents: c.events})).ok(t)
		r := out.RejectedLogEventsInfo
		switch {
		case c.want == nil && r != nil:
			t.Errorf("%s: unexpected rejections %+v", c.name, r)
		case c.want != nil && r == nil:
			t.Errorf("%s: no rejectedLogEventsInfo", c.name)
		case c.want != nil:
			if fmt.Sprint(aws.ToInt32(r.TooOldLogEventEndIndex), r.TooOldLogEventEndIndex != nil) != fmt.Sprint(aws.ToInt32(c.want.old), c.want.old != nil) ||
				fmt.Sprint(aws.ToInt32(r.ExpiredLogEventEndIndex), r.ExpiredLogEventEndIndex != nil) != fmt.Sprint(aws.ToInt32(c.want.expired), c.want.expired != nil) ||
				fmt.Sprint(aws.ToInt32(r.TooNewLogEventStartIndex), r.TooNewLogEventStartIndex != nil) != fmt.Sprint(aws.ToInt32(c.want.new), c.want.new != nil) {
				t.Errorf("%s: rejected %s, want old=%v expired=%v new=%v", c.name, f.lastBody(), aws.ToInt32(c.want.old), aws.ToInt32(c.want.expired), aws.ToInt32(c.want.new))
			}
		}
		got := must(f.c.GetLogEvents(f.ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String(c.group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})).ok(t)
		if m := msgs(got.Events); m != c.stored {
			t.Errorf("%s: stored %q, want %q", c.name, m, c.stored)
		}
	}
	// The wire shape AWS uses.
	f.put("g", "s", f.ev(-20*day, "old"), f.ev(0, "ok"))
	if !strings.Contains(string(f.lastBody()), `"rejectedLogEventsInfo":{"tooOldLogEventEndIndex":1}`) {
		t.Errorf("body %s", f.lastBody())
	}
}

// TestPutLogEventsLimits: what fails a whole batch, with AWS's messages,
// and the limits themselves accepted.
func TestPutLogEventsLimits(t *testing.T) {
	f := newFixture(t)
	f.group("g")
	f.stream("g", "s")
	put := func(evs []types.InputLogEvent) error {
		_, err := f.c.PutLogEvents(f.ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: evs, SequenceToken: aws.String("49039859680383213573432095453843958716543")})
		return err
	}
	many := func(n, size int) []types.InputLogEvent {
		evs := make([]types.InputLogEvent, n)
		for i := range evs {
			evs[i] = f.ev(time.Duration(i)*time.Millisecond-time.Hour, strings.Repeat("x", size))
		}
		return evs
	}
	// At the limits: 10,000 events; 1,048,576 bytes with 26 per event.
	if err := put(many(10000, 1)); err != nil {
		t.Fatalf("10,000 events: %v", err)
	}
	if err := put(many(2, 1048576/2-26)); err != nil {
		t.Fatalf("exactly 1,048,576 bytes: %v", err)
	}
	if err := put([]types.InputLogEvent{f.ev(-day+time.Hour, "a"), f.ev(time.Hour, "b")}); err != nil {
		t.Fatalf("24 hours exactly: %v", err)
	}
	cases := []struct {
		name   string
		events []types.InputLogEvent
		msg    string
	}{
		{"too many", many(10001, 1), "Member must have length less than or equal to 10000"},
		{"too large", many(2, 1048576/2-25), "Upload too large: 1048578 bytes exceeds limit of 1048576"},
		{"one event too large", many(1, 1048576-25), "Log event too large: 1048577 bytes exceeds limit of 1048576"},
		{"out of order", []types.InputLogEvent{f.ev(-time.Minute, "b"), f.ev(-2*time.Minute, "a")}, "Log events in a single PutLogEvents request must be in chronological order."},
		{"span", []types.InputLogEvent{f.ev(-day-time.Minute, "a"), f.ev(0, "b")}, "cannot span more than 24 hours"},
		{"empty", []types.InputLogEvent{}, "Member must have length greater than or equal to 1"},
		{"empty message", []types.InputLogEvent{{Timestamp: aws.Int64(f.ms(0)), Message: aws.String("")}}, "logEvents.1.member.message"},
	}
	for _, c := range cases {
		err := put(c.events)
		if code(err) != "InvalidParameterException" || !strings.Contains(message(err), c.msg) {
			t.Errorf("%s: %v, want InvalidParameterException with %q", c.name, err, c.msg)
		}
	}
	// A span over 24 hours only counts valid events: a too-old event does
	// not stretch it.
	out := must(f.c.PutLogEvents(f.ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"),
		LogEvents: []types.InputLogEvent{f.ev(-20*day, "old"), f.ev(-time.Hour, "ok")}})).ok(t)
	if aws.ToInt32(out.RejectedLogEventsInfo.TooOldLogEventEndIndex) != 1 {
		t.Fatalf("%+v", out.RejectedLogEventsInfo)
	}
	// Nothing stored by the failed batches: 10000 + 2 + 2 + 1.
	n := 0
	var tok *string
	for {
		p := must(f.c.GetLogEvents(f.ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true), NextToken: tok})).ok(t)
		if len(p.Events) == 0 {
			break
		}
		n += len(p.Events)
		tok = p.NextForwardToken
	}
	if n != 10005 {
		t.Fatalf("%d events stored, want 10005", n)
	}
	_, err := f.c.PutLogEvents(f.ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("nope"), LogEvents: many(1, 1)})
	wantCode(t, err, "ResourceNotFoundException")
	if message(err) != "The specified log stream does not exist." {
		t.Fatalf("message %q", message(err))
	}
	_, err = f.c.PutLogEvents(f.ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("nope"), LogStreamName: aws.String("s"), LogEvents: many(1, 1)})
	wantCode(t, err, "ResourceNotFoundException")
}
