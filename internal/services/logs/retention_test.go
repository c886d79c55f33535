package logs_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"lextrail/internal/services/logs"
)

// TestRetention: the purge worker deletes, with the injected clock, the
// blocks wholly older than the group's retention, in bounded batches, and
// keeps storedBytes true; groups without a policy keep everything.
func TestRetention(t *testing.T) { logs.EachDriver(t, testRetention) }

func testRetention(t *testing.T, drv logs.TestDriver) {
	f := newFixtureWith(t, drv, func(c *logs.Config) {
		c.PurgeBatch = 7
		c.PurgeInterval = time.Hour // the test runs Purge itself
	})
	svc := f.env.Server.Logs
	for _, g := range []string{"kept", "short"} {
		f.group(g)
		f.stream(g, "s")
	}
	must(f.c.PutRetentionPolicy(f.ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("short"), RetentionInDays: aws.Int32(7)})).ok(t)
	// 20 old blocks (6 days old), one block spanning old and new, one new.
	for _, g := range []string{"kept", "short"} {
		for i := 0; i < 20; i++ {
			f.put(g, "s", f.ev(-6*day+time.Duration(i)*time.Minute, fmt.Sprintf("old-%02d", i)))
		}
		f.put(g, "s", f.ev(-5*day-time.Hour, "straddle-old"), f.ev(-4*day-2*time.Hour, "straddle-new"))
		f.put(g, "s", f.ev(-time.Minute, "new"))
	}
	stored := func(g string) int64 {
		out := must(f.c.DescribeLogGroups(f.ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(g)})).ok(t)
		return aws.ToInt64(out.LogGroups[0].StoredBytes)
	}
	before := stored("short")
	if before != 20*6+int64(len("straddle-old")+len("straddle-new")+len("new")) {
		t.Fatalf("storedBytes %d", before)
	}
	blocks := func(g string) int64 {
		return f.count(`SELECT COUNT(*) FROM logs_blocks b JOIN logs_groups g ON g.group_id = b.group_id WHERE g.name = $1`, g)
	}
	// Nothing is due yet. (The background worker may purge too; the
	// checks are on what is left, whoever deleted it.)
	if _, err := svc.Purge(f.ctx); err != nil || blocks("short") != 22 {
		t.Fatalf("early purge: %v, %d blocks", err, blocks("short"))
	}
	// Two days later the 20 old blocks of "short" are past 7 days; the
	// straddling block is not wholly expired. PurgeBatch 7 takes three
	// transactions.
	f.env.Clock.Set(f.now.Add(2 * day))
	if _, err := svc.Purge(f.ctx); err != nil || blocks("short") != 2 || blocks("kept") != 22 {
		t.Fatalf("purge: %v, short %d kept %d blocks", err, blocks("short"), blocks("kept"))
	}
	f.env.Clock.Set(f.now) // back to the signing clock for SDK calls
	get := func(g string) string {
		out := must(f.c.GetLogEvents(f.ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String(g), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)})).ok(t)
		return msgs(out.Events)
	}
	if got := get("short"); got != "straddle-old,straddle-new,new" {
		t.Fatalf("short after purge: %s", got)
	}
	if n := len(get("kept")); n < 20*7 {
		t.Fatalf("a group without retention lost events: %d bytes of messages", n)
	}
	if after := stored("short"); after != before-20*6 {
		t.Fatalf("storedBytes %d after purge, want %d", after, before-20*6)
	}
	// Much later the rest goes too; removing the policy stops it.
	must(f.c.DeleteRetentionPolicy(f.ctx, &cwl.DeleteRetentionPolicyInput{LogGroupName: aws.String("kept")})).ok(t)
	f.env.Clock.Set(f.now.Add(30 * day))
	if _, err := svc.Purge(f.ctx); err != nil || blocks("short") != 0 || blocks("kept") != 22 {
		t.Fatalf("late purge: %v, short %d kept %d", err, blocks("short"), blocks("kept"))
	}
	f.env.Clock.Set(f.now)
	if got := get("short"); got != "" {
		t.Fatalf("short at the end: %s", got)
	}
	if stored("short") != 0 || stored("kept") != before {
		t.Fatalf("storedBytes short=%d kept=%d", stored("short"), stored("kept"))
	}
}
