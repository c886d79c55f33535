package cloudtrail_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"lextrail/internal/audit"
	"lextrail/internal/trail"
)

// histEvent is an event of the history, with its sequence number.
type histEvent struct {
	seq    int64
	record string
	ev     eventOf
}

// history reads the whole event history in sequence order.
func (e *trailEnv) history() []histEvent {
	e.t.Helper()
	var out []histEvent
	err := audit.ReadSeq(ctx, e.Server.DB, "", 0, math.MaxInt64, 1000, func(ev *audit.SeqEvent) error {
		out = append(out, histEvent{seq: ev.Seq, record: string(ev.Record), ev: parseEvent(e.t, ev.Record)})
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// seqOf returns the sequence number of the event a request produced.
func seqOf(t *testing.T, hist []histEvent, requestID string) int64 {
	t.Helper()
	for _, h := range hist {
		if h.ev.RequestID == requestID {
			return h.seq
		}
	}
	t.Fatalf("no event for request %s", requestID)
	return 0
}

func reqID(md any) string {
	switch m := md.(type) {
	case *cloudtrail.StartLoggingOutput:
		id, _ := awsmiddleware.GetRequestIDMetadata(m.ResultMetadata)
		return id
	case *cloudtrail.StopLoggingOutput:
		id, _ := awsmiddleware.GetRequestIDMetadata(m.ResultMetadata)
		return id
	}
	panic("reqID: unsupported output")
}

// delivered collects the records under prefix, checking every file's key
// and that every record is, byte for byte, its history record.
func delivered(t *testing.T, e *trailEnv, bucket, prefix string, hist []histEvent) map[string]int {
	t.Helper()
	byID := map[string]histEvent{}
	for _, h := range hist {
		byID[h.ev.EventID] = h
	}
	count := map[string]int{}
	for _, o := range e.objects(bucket, prefix) {
		if o.Type != "application/json" || o.Encoding != "gzip" {
			t.Errorf("%s: Content-Type %q, Content-Encoding %q", o.Key, o.Type, o.Encoding)
		}
		if strings.Contains(o.Key, "CloudTrail-Digest/") {
			continue
		}
		if o.SSE != "AES256" {
			t.Errorf("%s: SSE %q", o.Key, o.SSE)
		}
		m := logKeyRE.FindStringSubmatch(o.Key)
		for _, raw := range logRecords(t, o) {
			ev := parseEvent(t, raw)
			h, ok := byID[ev.EventID]
			if !ok {
				t.Fatalf("%s: event %s is not in the history", o.Key, ev.EventID)
			}
			if string(raw) != h.record {
				t.Fatalf("%s: record differs from the history's:\n%s\n%s", o.Key, raw, h.record)
			}
			if ev.AWSRegion != m[3] || ev.RecipientAccountID != m[2] {
				t.Errorf("%s: event of %s/%s in this file", o.Key, ev.RecipientAccountID, ev.AWSRegion)
			}
			count[ev.EventID]++
		}
	}
	return count
}

// expectExactly checks that count holds each wanted event once and
// nothing else.
func expectExactly(t *testing.T, name string, count map[string]int, hist []histEvent, want func(h histEvent) bool) {
	t.Helper()
	n := 0
	for _, h := range hist {
		if !want(h) {
			if count[h.ev.EventID] != 0 {
				t.Errorf("%s: delivered %s %s (%s) which it must not", name, h.ev.EventName, h.ev.AWSRegion, h.ev.RecipientAccountID)
			}
			continue
		}
		n++
		switch c := count[h.ev.EventID]; c {
		case 1:
		case 0:
			t.Errorf("%s: event %d %s %s of %s missing", name, h.seq, h.ev.EventName, h.ev.AWSRegion, h.ev.RecipientAccountID)
		default:
			t.Errorf("%s: event %s delivered %d times", name, h.ev.EventName, c)
		}
	}
	if n == 0 {
		t.Fatalf("%s: test expects no events", name)
	}
	t.Logf("%s: %d events delivered once each", name, n)
}

// TestDeliveryEndToEnd: a bucket with the CloudTrail bucket policy, three
// trails (a multi-region one and a single-region one with a prefix in
// the first account, a multi-region one of a second account delivering
// into the first account's bucket), calls from two regions and two
// accounts over two windows and a StopLogging: every file has the exact
// key layout, every record equals its history record, each trail gets
// exactly the events it covers, each once.
func TestDeliveryEndToEnd(t *testing.T) {
	e := newTrailEnv(t)
	acct1, acct2 := e.AccountID, "111122223333"
	creds2 := e.account(acct2)
	arnA := trail.ARN("us-east-1", acct1, "all-regions")
	arnB := trail.ARN("us-east-1", acct1, "home-only")
	arnC := trail.ARN("us-east-1", acct2, "second-account")
	e.bucket("ct-logs", trailPolicy("ct-logs", grant{acct1, arnA, ""}, grant{acct1, arnB, "single/x"}, grant{acct2, arnC, ""}))

	ct1, ct2 := e.ct("us-east-1"), e.ct("us-east-1", creds2)
	must(t, errOf(ct1.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("all-regions"), S3BucketName: aws.String("ct-logs"), IsMultiRegionTrail: aws.Bool(true)})))
	must(t, errOf(ct1.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("home-only"), S3BucketName: aws.String("ct-logs"), S3KeyPrefix: aws.String("single/x")})))
	out, err := ct2.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("second-account"), S3BucketName: aws.String("ct-logs"), IsMultiRegionTrail: aws.Bool(true)})
	if err != nil || aws.ToString(out.TrailARN) != arnC {
		t.Fatalf("second account's trail into the first's bucket: %v %v", out, err)
	}
	// Calls before logging starts are not delivered.
	calls := func() {
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			for _, creds := range []aws.Credentials{e.Creds(), creds2} {
				if _, err := e.ct(region, creds).ListTrails(ctx, &cloudtrail.ListTrailsInput{}); err != nil {
					t.Fatal(err)
				}
				if _, err := e.ct(region, creds).GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("nope")}); errorCode(err) != "TrailNotFoundException" {
					t.Fatal(err)
				}
				if _, err := e.sts(region, creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	calls()
	e.Clock.Advance(time.Second)
	startA, err := ct1.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("all-regions")})
	if err != nil {
		t.Fatal(err)
	}
	startB, err := ct1.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(arnB)})
	if err != nil {
		t.Fatal(err)
	}
	startC, err := ct2.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("second-account")})
	if err != nil {
		t.Fatal(err)
	}
	calls()
	e.tick(time.Minute) // first window
	calls()
	e.tick(30 * time.Second) // same window: nothing yet
	calls()
	stopA, err := ct1.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("all-regions")})
	if err != nil {
		t.Fatal(err)
	}
	calls() // after A stopped
	hist := e.history()
	e.tick(time.Minute) // second window

	st, err := ct1.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("all-regions")})
	if err != nil {
		t.Fatal(err)
	}
	if st.IsLogging == nil || *st.IsLogging || st.LatestDeliveryTime == nil || st.StartLoggingTime == nil || st.StopLoggingTime == nil || st.LatestDeliveryError != nil {
		t.Errorf("status of the stopped trail: %+v", st)
	}
	if !st.LatestDeliveryTime.Equal(e.Clock.Now().Truncate(time.Millisecond)) {
		t.Errorf("LatestDeliveryTime %v, delivered at %v", st.LatestDeliveryTime, e.Clock.Now())
	}

	sA, sB, sC := seqOf(t, hist, reqID(startA)), seqOf(t, hist, reqID(startB)), seqOf(t, hist, reqID(startC))
	eA := seqOf(t, hist, reqID(stopA))
	mgmt := func(h histEvent) bool { return h.ev.EventCategory == "Management" }
	expectExactly(t, "multi-region trail", delivered(t, e, "ct-logs", "AWSLogs/"+acct1+"/", hist), hist, func(h histEvent) bool {
		return mgmt(h) && h.ev.RecipientAccountID == acct1 && h.seq >= sA && h.seq <= eA
	})
	expectExactly(t, "single-region trail", delivered(t, e, "ct-logs", "single/x/AWSLogs/", hist), hist, func(h histEvent) bool {
		return mgmt(h) && h.ev.RecipientAccountID == acct1 && h.seq >= sB && h.ev.AWSRegion == "us-east-1"
	})
	expectExactly(t, "second account's trail", delivered(t, e, "ct-logs", "AWSLogs/"+acct2+"/", hist), hist, func(h histEvent) bool {
		return mgmt(h) && h.ev.RecipientAccountID == acct2 && h.seq >= sC
	})
	// The two windows made two files per (account, region) and trail.
	objs := e.objects("ct-logs", "AWSLogs/"+acct2+"/CloudTrail/eu-west-1/")
	if len(objs) != 2 {
		t.Errorf("second account, eu-west-1: %d files, want one per window (2)", len(objs))
	}
	// Global service events (STS) are in us-east-1, whichever region was called.
	for _, h := range hist {
		if h.ev.EventSource == "sts.amazonaws.com" && h.ev.AWSRegion != "us-east-1" {
			t.Fatalf("STS event recorded in %s", h.ev.AWSRegion)
		}
	}
}

// errOf drops a call's result.
func errOf[T any](_ T, err error) error { return err }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var _ = types.EventSelector{}
