package cloudtrail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"lextrail/internal/awserr"
	"lextrail/internal/policy"
	"lextrail/internal/server"
	"lextrail/internal/trail"
)

// fakeSNS stands in for SNS Publish: it records the notices, or fails.
type fakeSNS struct {
	mu      sync.Mutex
	notices []notice
	fail    string // error code to fail with
}

type notice struct {
	topic, message string
	principal      string
	sourceARN      string
}

func (f *fakeSNS) Publish(_ context.Context, topicARN, message string, p *policy.Principal, cond map[string][]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != "" {
		return awserr.New(403, f.fail, "publish refused")
	}
	f.notices = append(f.notices, notice{topicARN, message, p.Service, strings.Join(cond["aws:sourcearn"], ",")})
	return nil
}

// TestSNSNotices: each delivered file gets one notice on the trail's
// topic (spec §2.7, §9.20), published as CloudTrail for the trail; a
// failing topic shows LatestNotificationError and its notices go out,
// once each, when it works again.
func TestSNSNotices(t *testing.T) {
	sns := &fakeSNS{}
	topics := &fakeTopics{topics: map[string][]string{}}
	e := newTrailEnv(t, func(c *server.Config) {
		c.TrailHooks.Topics = topics
		c.TrailHooks.Notifier = sns
	})
	arn := trail.ARN("us-east-1", e.AccountID, "noisy")
	topicARN := "arn:aws:sns:us-east-1:" + e.AccountID + ":trail-notices"
	topics.topics[topicARN] = []string{arn}
	e.bucket("ct-sns", trailPolicy("ct-sns", grant{e.AccountID, arn, ""}))
	ct := e.ct("us-east-1")
	out, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("noisy"), S3BucketName: aws.String("ct-sns"),
		SnsTopicName: aws.String("trail-notices"), IsMultiRegionTrail: aws.Bool(true)})
	if err != nil || aws.ToString(out.SnsTopicARN) != topicARN || aws.ToString(out.SnsTopicName) != "trail-notices" {
		t.Fatalf("create: %+v %v", out, err)
	}
	must(t, errOf(ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("noisy")})))
	round := func() {
		must(t, errOf(e.ct("us-east-1").ListTrails(ctx, &cloudtrail.ListTrailsInput{})))
		must(t, errOf(e.ct("eu-west-1").ListTrails(ctx, &cloudtrail.ListTrailsInput{})))
		e.tick(time.Minute)
	}
	round()
	round()
	check := func(want int) {
		t.Helper()
		objs := e.objects("ct-sns", "AWSLogs/")
		if len(objs) != want {
			t.Fatalf("%d files, want %d", len(objs), want)
		}
		sns.mu.Lock()
		defer sns.mu.Unlock()
		got := map[string]int{}
		for _, n := range sns.notices {
			if n.topic != topicARN || n.principal != "cloudtrail.amazonaws.com" || n.sourceARN != arn {
				t.Fatalf("notice %+v", n)
			}
			var m struct {
				S3Bucket    string   `json:"s3Bucket"`
				S3ObjectKey []string `json:"s3ObjectKey"`
			}
			dec := json.NewDecoder(strings.NewReader(n.message))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&m); err != nil || m.S3Bucket != "ct-sns" || len(m.S3ObjectKey) != 1 {
				t.Fatalf("message %q: %v", n.message, err)
			}
			if want := `{"s3Bucket":"ct-sns","s3ObjectKey":["` + m.S3ObjectKey[0] + `"]}`; n.message != want {
				t.Fatalf("message %q, want compact %q", n.message, want)
			}
			got[m.S3ObjectKey[0]]++
		}
		for _, o := range objs {
			if got[o.Key] != 1 {
				t.Errorf("%s: %d notices", o.Key, got[o.Key])
			}
		}
		if len(got) != len(objs) {
			t.Errorf("notices for %d keys, %d files", len(got), len(objs))
		}
	}
	check(4) // two windows, two regions
	st, _ := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("noisy")})
	if st.LatestNotificationTime == nil || st.LatestNotificationError != nil {
		t.Fatalf("status: %+v", st)
	}
	sns.mu.Lock()
	sns.fail = "AuthorizationError"
	sns.mu.Unlock()
	round()
	round()
	st, _ = ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("noisy")})
	if aws.ToString(st.LatestNotificationError) != "AuthorizationError" || st.LatestDeliveryError != nil {
		t.Fatalf("status with a failing topic: %+v", st)
	}
	sns.mu.Lock()
	sns.fail = ""
	sns.mu.Unlock()
	e.tick(10 * time.Minute)
	check(len(e.objects("ct-sns", "AWSLogs/")))
	st, _ = ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("noisy")})
	if st.LatestNotificationError != nil {
		t.Fatalf("status after the topic recovered: %+v", st)
	}
}

// TestSSEKMSTrail: a trail with a KMS key writes its log files SSE-KMS
// under the key's ARN (digests stay SSE-S3); without one, SSE-S3.
func TestSSEKMSTrail(t *testing.T) {
	e := newTrailEnv(t, func(c *server.Config) { c.TrailHooks.Keys = fakeKMS{} })
	arn := trail.ARN("us-east-1", e.AccountID, "sealed")
	e.bucket("ct-kms", trailPolicy("ct-kms", grant{e.AccountID, arn, ""}))
	ct := e.ct("us-east-1")
	out, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("sealed"), S3BucketName: aws.String("ct-kms"),
		KmsKeyId: aws.String("alias/trail-key"), EnableLogFileValidation: aws.Bool(true)})
	if err != nil || aws.ToString(out.KmsKeyId) != goodKeyARN {
		t.Fatalf("create: %+v %v", out, err)
	}
	must(t, errOf(ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("sealed")})))
	e.tick(time.Minute)
	e.tick(time.Hour)
	logs, digests := 0, 0
	c := e.s3()
	for _, o := range e.objects("ct-kms", "AWSLogs/") {
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("ct-kms"), Key: aws.String(o.Key)})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(o.Key, "CloudTrail-Digest") {
			digests++
			if h.ServerSideEncryption != "AES256" {
				t.Errorf("digest %s: SSE %s", o.Key, h.ServerSideEncryption)
			}
			continue
		}
		logs++
		if h.ServerSideEncryption != "aws:kms" || aws.ToString(h.SSEKMSKeyId) != goodKeyARN {
			t.Errorf("log %s: SSE %s key %s", o.Key, h.ServerSideEncryption, aws.ToString(h.SSEKMSKeyId))
		}
	}
	if logs == 0 || digests == 0 {
		t.Fatalf("%d logs, %d digests", logs, digests)
	}
	// Removing the key: SSE-S3 again.
	must(t, errOf(ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("sealed"), KmsKeyId: aws.String("")})))
	g, _ := ct.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("sealed")})
	if g.Trail.KmsKeyId != nil {
		t.Fatalf("key after removal: %v", *g.Trail.KmsKeyId)
	}
}

// TestSelectorsFilterDelivery: advanced selectors (management writes; S3
// object events under one prefix), then basic ones (read-only management
// events; S3 object events of another prefix): each batch holds exactly
// what its selectors select, data events included.
func TestSelectorsFilterDelivery(t *testing.T) {
	e := newTrailEnv(t)
	arn := trail.ARN("us-east-1", e.AccountID, "picky")
	e.bucket("ct-sel", trailPolicy("ct-sel", grant{e.AccountID, arn, ""}))
	e.bucket("data-bucket", "")
	ct, c := e.ct("us-east-1"), e.s3()
	must(t, errOf(ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("picky"), S3BucketName: aws.String("ct-sel")})))
	must(t, errOf(ct.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("picky"), AdvancedEventSelectors: []types.AdvancedEventSelector{
		{Name: aws.String("management writes"), FieldSelectors: []types.AdvancedFieldSelector{
			{Field: aws.String("eventCategory"), Equals: []string{"Management"}}, {Field: aws.String("readOnly"), Equals: []string{"false"}}}},
		{Name: aws.String("kept objects"), FieldSelectors: []types.AdvancedFieldSelector{
			{Field: aws.String("eventCategory"), Equals: []string{"Data"}}, {Field: aws.String("resources.type"), Equals: []string{"AWS::S3::Object"}},
			{Field: aws.String("resources.ARN"), StartsWith: []string{"arn:aws:s3:::data-bucket/keep/"}, NotEndsWith: []string{".tmp"}},
			{Field: aws.String("eventName"), NotEquals: []string{"DeleteObject"}}}},
	}})))
	start, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("picky")})
	if err != nil {
		t.Fatal(err)
	}
	activity := func() {
		for _, k := range []string{"keep/a", "keep/b.tmp", "drop/c"} {
			must(t, errOf(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data-bucket"), Key: aws.String(k), Body: bytes.NewReader([]byte("x"))})))
			g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data-bucket"), Key: aws.String(k)})
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, g.Body)
			g.Body.Close()
		}
		must(t, errOf(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("data-bucket"), Key: aws.String("keep/a")})))
		must(t, errOf(ct.ListTrails(ctx, &cloudtrail.ListTrailsInput{})))
		must(t, errOf(ct.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(arn), TagsList: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})))
	}
	activity()
	h1 := e.history()
	e.tick(time.Minute)
	must(t, errOf(ct.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("picky"), EventSelectors: []types.EventSelector{{
		ReadWriteType: types.ReadWriteTypeReadOnly, IncludeManagementEvents: aws.Bool(true),
		DataResources: []types.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{"arn:aws:s3:::data-bucket/drop/"}}},
	}}})))
	activity()
	hist := e.history()
	e.tick(time.Minute)
	cut := h1[len(h1)-1].seq
	s := seqOf(t, hist, reqID(start))
	type rec struct {
		EventName string `json:"eventName"`
		ReadOnly  bool   `json:"readOnly"`
		Category  string `json:"eventCategory"`
		Resources []struct {
			ARN string `json:"ARN"`
		} `json:"resources"`
	}
	want := func(h histEvent) bool {
		if h.seq < s || h.ev.RecipientAccountID != e.AccountID {
			return false
		}
		var r rec
		json.Unmarshal([]byte(h.record), &r)
		arnIs := func(p string) bool { return len(r.Resources) > 0 && strings.HasPrefix(r.Resources[0].ARN, p) }
		if h.seq <= cut { // advanced selectors
			if r.Category == "Management" {
				return !r.ReadOnly
			}
			return arnIs("arn:aws:s3:::data-bucket/keep/") && !strings.HasSuffix(r.Resources[0].ARN, ".tmp") && r.EventName != "DeleteObject"
		}
		if r.Category == "Management" { // basic selector
			return r.ReadOnly
		}
		return r.ReadOnly && arnIs("arn:aws:s3:::data-bucket/drop/")
	}
	count := delivered(t, e, "ct-sel", "AWSLogs/", hist)
	expectExactly(t, "selectors", count, hist, want)
	// The selectors let data events through in both phases.
	data := 0
	for _, h := range hist {
		if count[h.ev.EventID] == 1 && h.ev.EventCategory == "Data" {
			data++
		}
	}
	if data != 3 { // PutObject+GetObject keep/a, then GetObject drop/c
		t.Errorf("%d data events delivered, want 3", data)
	}
}
