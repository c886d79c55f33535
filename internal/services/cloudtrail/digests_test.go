package cloudtrail_test

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"lextrail/internal/server"
	"lextrail/internal/trail"
	"lextrail/internal/trail/digest"
)

// digestsOf returns the stored digests of a source region, oldest first.
func (e *trailEnv) digestsOf(t *testing.T, bucket, region string) ([]object, []digest.Document) {
	t.Helper()
	objs := e.objects(bucket, "AWSLogs/"+e.AccountID+"/CloudTrail-Digest/"+region+"/")
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key[len(objs[i].Key)-24:] < objs[j].Key[len(objs[j].Key)-24:] })
	docs := make([]digest.Document, len(objs))
	for i, o := range objs {
		docs[i] = digestOf(t, o)
	}
	return objs, docs
}

// TestDigestLifecycle (hourly digests, injected clock): a starting
// digest, a digest for an hour without files, a final digest on
// StopLogging, nothing while stopped, a new starting digest on restart,
// a final digest when validation is disabled and a starting one when it
// is enabled again, a final digest on DeleteTrail (then the trail is
// gone). Every digest verifies with the key ListPublicKeys serves.
func TestDigestLifecycle(t *testing.T) {
	e := newTrailEnv(t, func(c *server.Config) { c.DigestInterval = time.Hour })
	arn := trail.ARN("us-east-1", e.AccountID, "chained")
	e.bucket("ct-dig", trailPolicy("ct-dig", grant{e.AccountID, arn, ""}))
	ct := e.ct("us-east-1")
	must(t, errOf(ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("chained"), S3BucketName: aws.String("ct-dig"), EnableLogFileValidation: aws.Bool(true)})))
	at := func(d time.Duration) {
		t.Helper()
		for e.Clock.Now().Before(t0.Add(d)) {
			e.tick(time.Minute)
		}
	}
	count := func() int { objs, _ := e.digestsOf(t, "ct-dig", "us-east-1"); return len(objs) }

	at(10 * time.Minute)
	must(t, errOf(ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("chained")})))
	at(30 * time.Minute)
	must(t, errOf(ct.ListTrails(ctx, &cloudtrail.ListTrailsInput{})))
	at(time.Hour + time.Minute)   // digest 1 (starting) at 01:00
	at(2*time.Hour + time.Minute) // digest 2 (no files) at 02:00
	if n := count(); n != 2 {
		t.Fatalf("%d digests after two hours", n)
	}
	at(2*time.Hour + 30*time.Minute)
	must(t, errOf(ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("chained")})))
	at(2*time.Hour + 33*time.Minute) // delivery, then the final digest
	if n := count(); n != 3 {
		t.Fatalf("%d digests after StopLogging", n)
	}
	at(4 * time.Hour)
	if n := count(); n != 3 {
		t.Fatalf("%d digests while stopped", n)
	}
	must(t, errOf(ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("chained")})))
	at(5*time.Hour + time.Minute) // starting digest at 05:00
	must(t, errOf(ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("chained"), EnableLogFileValidation: aws.Bool(false)})))
	at(6*time.Hour + 10*time.Minute) // final digest after disabling; none at 06:00
	if n := count(); n != 5 {
		t.Fatalf("%d digests after disabling validation", n)
	}
	must(t, errOf(ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("chained"), EnableLogFileValidation: aws.Bool(true)})))
	at(7*time.Hour + time.Minute) // starting digest at 07:00
	st, _ := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("chained")})
	if st.LatestDigestDeliveryTime == nil || !st.LatestDigestDeliveryTime.Equal(t0.Add(7*time.Hour)) || st.LatestDigestDeliveryError != nil {
		t.Fatalf("digest status: %+v", st)
	}
	must(t, errOf(ct.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String("chained")})))
	at(7*time.Hour + 5*time.Minute)

	objs, docs := e.digestsOf(t, "ct-dig", "us-east-1")
	type want struct {
		start, end string
		starting   bool
		files      bool
	}
	ts := func(d time.Duration) string { return t0.Add(d).Format("2006-01-02T15:04:05Z") }
	wants := []want{
		{ts(10 * time.Minute), ts(time.Hour), true, true},
		{ts(time.Hour), ts(2 * time.Hour), false, false},
		{ts(2 * time.Hour), ts(2*time.Hour + 31*time.Minute), false, true},
		{ts(4 * time.Hour), ts(5 * time.Hour), true, true},
		{ts(5 * time.Hour), ts(5*time.Hour + 2*time.Minute), false, true},
		{ts(6*time.Hour + 10*time.Minute), ts(7 * time.Hour), true, true},
		{ts(7 * time.Hour), ts(7*time.Hour + 2*time.Minute), false, true},
	}
	if len(docs) != len(wants) {
		var got []string
		for _, d := range docs {
			got = append(got, d.DigestStartTime+".."+d.DigestEndTime)
		}
		t.Fatalf("digests %v, want %d", got, len(wants))
	}
	keys, err := e.Server.SigningKeys.Public(ctx, "us-east-1", t0, t0.Add(8*time.Hour))
	if err != nil || len(keys) == 0 {
		t.Fatal(err)
	}
	for i, d := range docs {
		w := wants[i]
		starting := d.PreviousDigestSignature == nil && d.PreviousDigestS3Object == nil && d.PreviousDigestHashValue == nil
		if d.DigestStartTime[:16] != w.start[:16] || d.DigestEndTime != w.end || starting != w.starting || (len(d.LogFiles) > 0) != w.files {
			t.Errorf("digest %d: %s..%s starting %v, %d files; want %+v", i, d.DigestStartTime, d.DigestEndTime, starting, len(d.LogFiles), w)
		}
		if !w.files && (d.NewestEventTime != nil || d.OldestEventTime != nil || d.LogFiles == nil) {
			t.Errorf("digest %d without files: %+v", i, d)
		}
		if !w.starting && aws.ToString(d.PreviousDigestS3Object) != objs[i-1].Key {
			t.Errorf("digest %d does not chain to %d", i, i-1)
		}
		if !strings.HasSuffix(objs[i].Key, "_chained_us-east-1_"+strings.NewReplacer("-", "", ":", "").Replace(d.DigestEndTime)+".json.gz") {
			t.Errorf("digest %d key %s, end %s", i, objs[i].Key, d.DigestEndTime)
		}
		var ok bool
		for _, k := range keys {
			if k.Fingerprint == d.DigestPublicKeyFingerprint {
				sts := digest.StringToSign(d.DigestEndTime, d.DigestS3Bucket, d.DigestS3Object, gunzip(t, objs[i].Body), d.PreviousDigestSignature)
				ok = digest.Verify(k.Public, sts, objs[i].Metadata["signature"]) == nil
			}
		}
		if !ok {
			t.Errorf("digest %d does not verify", i)
		}
	}
	// Every delivered log file is listed by exactly one digest.
	listed := map[string]int{}
	for _, d := range docs {
		for _, lf := range d.LogFiles {
			listed[lf.S3Object]++
		}
	}
	for _, o := range e.objects("ct-dig", "AWSLogs/"+e.AccountID+"/CloudTrail/") {
		if listed[o.Key] != 1 {
			t.Errorf("log %s listed by %d digests", o.Key, listed[o.Key])
		}
	}
	// The deleted trail is gone, its name free.
	if _, err := ct.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("chained")}); errorCode(err) != "TrailNotFoundException" {
		t.Fatalf("deleted trail: %v", err)
	}
	all, _ := trail.All(ctx, e.Server.DB)
	if len(all) != 0 {
		t.Fatalf("%d trail rows left after the final digest", len(all))
	}
}
