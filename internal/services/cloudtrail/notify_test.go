package cloudtrail_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"lextrail/internal/trail"
)

// subscriber is an SNS HTTP endpoint: it confirms its subscription and
// records the notifications it receives.
type subscriber struct {
	srv     *httptest.Server
	mu      sync.Mutex
	got     []snsNotice
	confirm chan string
}

type snsNotice struct {
	Type, MessageId, TopicArn, Message, SubscribeURL string
	Subject                                          *string
}

func newSubscriber(t *testing.T) *subscriber {
	s := &subscriber{confirm: make(chan string, 1)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n snsNotice
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		switch n.Type {
		case "SubscriptionConfirmation":
			s.confirm <- n.SubscribeURL
		case "Notification":
			s.mu.Lock()
			s.got = append(s.got, n)
			s.mu.Unlock()
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *subscriber) notices() []snsNotice {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]snsNotice(nil), s.got...)
}

func (e *trailEnv) sns() *sns.Client {
	return sns.NewFromConfig(e.Config(), func(o *sns.Options) { o.HTTPSignerV4 = clockSigner{e.Clock.Now, v4.NewSigner()} })
}

// topicPolicy lets CloudTrail publish for the trail (spec §2.7).
func topicPolicy(topicARN, trailARN string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"CloudTrail","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
 "Action":"SNS:Publish","Resource":"` + topicARN + `","Condition":{"StringEquals":{"aws:SourceArn":"` + trailARN + `"}}}]}`
}

// TestSNSNotices: with lextrail's SNS, an HTTP subscriber of the trail's
// topic gets one notice per delivered file (spec §2.7, §9.20): Message
// {"s3Bucket":...,"s3ObjectKey":[key]}, no Subject. A topic whose policy
// stops allowing CloudTrail shows LatestNotificationError; its notices go
// out, once each, when it allows again.
func TestSNSNotices(t *testing.T) {
	e := newTrailEnv(t)
	arn := trail.ARN("us-east-1", e.AccountID, "noisy")
	e.bucket("ct-sns", trailPolicy("ct-sns", grant{e.AccountID, arn, ""}))
	ct, sc := e.ct("us-east-1"), e.sns()
	topic, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("trail-notices")})
	if err != nil {
		t.Fatal(err)
	}
	topicARN := aws.ToString(topic.TopicArn)
	if _, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("noisy"), S3BucketName: aws.String("ct-sns"),
		SnsTopicName: aws.String("trail-notices")}); errorCode(err) != "InsufficientSnsTopicPolicyException" {
		t.Fatalf("topic with the default policy: %v", err)
	}
	setPolicy := func(p string) {
		t.Helper()
		must(t, errOf(sc.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(topicARN), AttributeName: aws.String("Policy"), AttributeValue: aws.String(p)})))
	}
	setPolicy(topicPolicy(topicARN, arn))
	out, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("noisy"), S3BucketName: aws.String("ct-sns"),
		SnsTopicName: aws.String("trail-notices"), IsMultiRegionTrail: aws.Bool(true)})
	if err != nil || aws.ToString(out.SnsTopicARN) != topicARN || aws.ToString(out.SnsTopicName) != "trail-notices" {
		t.Fatalf("create: %+v %v", out, err)
	}
	sub := newSubscriber(t)
	must(t, errOf(sc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topicARN), Protocol: aws.String("http"), Endpoint: aws.String(sub.srv.URL)})))
	select {
	case u := <-sub.confirm:
		resp, err := http.Get(u)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("confirming: %v %v", resp, err)
		}
		resp.Body.Close()
	case <-time.After(20 * time.Second):
		t.Fatal("no subscription confirmation")
	}
	must(t, errOf(ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("noisy")})))
	round := func() {
		must(t, errOf(e.ct("us-east-1").ListTrails(ctx, &cloudtrail.ListTrailsInput{})))
		must(t, errOf(e.ct("eu-west-1").ListTrails(ctx, &cloudtrail.ListTrailsInput{})))
		e.tick(time.Minute)
	}
	check := func(want int) {
		t.Helper()
		objs := e.objects("ct-sns", "AWSLogs/")
		if want > 0 && len(objs) != want {
			t.Fatalf("%d files, want %d", len(objs), want)
		}
		var got []snsNotice
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if got = sub.notices(); len(got) >= len(objs) || time.Now().After(deadline) {
				break
			}
		}
		time.Sleep(100 * time.Millisecond) // anything extra would arrive now
		got = sub.notices()
		keys := map[string]int{}
		for _, n := range got {
			var m struct {
				S3Bucket    string   `json:"s3Bucket"`
				S3ObjectKey []string `json:"s3ObjectKey"`
			}
			dec := json.NewDecoder(strings.NewReader(n.Message))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&m); err != nil || m.S3Bucket != "ct-sns" || len(m.S3ObjectKey) != 1 || n.TopicArn != topicARN || n.Subject != nil {
				t.Fatalf("notice %+v: %v", n, err)
			}
			if want := `{"s3Bucket":"ct-sns","s3ObjectKey":["` + m.S3ObjectKey[0] + `"]}`; n.Message != want {
				t.Fatalf("message %q, want compact %q", n.Message, want)
			}
			keys[m.S3ObjectKey[0]]++
		}
		for _, o := range objs {
			if keys[o.Key] != 1 {
				t.Errorf("%s: %d notices", o.Key, keys[o.Key])
			}
		}
		if len(got) != len(objs) {
			t.Errorf("%d notices for %d files", len(got), len(objs))
		}
	}
	round()
	round()
	check(4) // two windows, two regions
	st, _ := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("noisy")})
	if st.LatestNotificationTime == nil || st.LatestNotificationError != nil {
		t.Fatalf("status: %+v", st)
	}
	setPolicy(topicPolicy(topicARN, "arn:aws:cloudtrail:us-east-1:"+e.AccountID+":trail/other"))
	round()
	round()
	st, _ = ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("noisy")})
	if aws.ToString(st.LatestNotificationError) != "AuthorizationError" || st.LatestDeliveryError != nil {
		t.Fatalf("status with a topic that refuses: %+v", st)
	}
	setPolicy(topicPolicy(topicARN, arn))
	e.tick(10 * time.Minute)
	check(0)
	st, _ = ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("noisy")})
	if st.LatestNotificationError != nil {
		t.Fatalf("status after the topic allowed again: %+v", st)
	}
}

func (e *trailEnv) kms() *kms.Client {
	return kms.NewFromConfig(e.Config(), func(o *kms.Options) { o.HTTPSignerV4 = clockSigner{e.Clock.Now, v4.NewSigner()} })
}

// TestSSEKMSTrail: with lextrail's KMS, a trail whose key policy lets
// CloudTrail generate data keys writes its log files SSE-KMS under the
// key (encrypted at rest, readable by the account); digests stay SSE-S3.
// A key whose policy does not is InsufficientEncryptionPolicyException; an
// unknown key KmsKeyNotFoundException; and a key policy that stops
// allowing CloudTrail shows in LatestDeliveryError.
func TestSSEKMSTrail(t *testing.T) {
	e := newTrailEnv(t)
	arn := trail.ARN("us-east-1", e.AccountID, "sealed")
	e.bucket("ct-kms", trailPolicy("ct-kms", grant{e.AccountID, arn, ""}))
	ct, kc := e.ct("us-east-1"), e.kms()
	k, err := kc.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	must(t, errOf(kc.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/trail-key"), TargetKeyId: k.KeyMetadata.KeyId})))
	create := &cloudtrail.CreateTrailInput{Name: aws.String("sealed"), S3BucketName: aws.String("ct-kms"), KmsKeyId: aws.String("alias/trail-key"), EnableLogFileValidation: aws.Bool(true)}
	if _, err := ct.CreateTrail(ctx, create); errorCode(err) != "InsufficientEncryptionPolicyException" {
		t.Fatalf("key with the default policy: %v", err)
	}
	if _, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("sealed"), S3BucketName: aws.String("ct-kms"), KmsKeyId: aws.String("alias/nope")}); errorCode(err) != "KmsKeyNotFoundException" {
		t.Fatalf("unknown key: %v", err)
	}
	keyPolicy := func(trailARN string) string {
		return `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + e.AccountID + `:root"},"Action":"kms:*","Resource":"*"},
 {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"kms:GenerateDataKey*","Resource":"*",
  "Condition":{"StringEquals":{"aws:SourceArn":"` + trailARN + `"},"StringLike":{"kms:EncryptionContext:aws:cloudtrail:arn":"arn:aws:cloudtrail:*:` + e.AccountID + `:trail/*"}}}]}`
	}
	must(t, errOf(kc.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: k.KeyMetadata.KeyId, PolicyName: aws.String("default"), Policy: aws.String(keyPolicy(arn))})))
	out, err := ct.CreateTrail(ctx, create)
	if err != nil || aws.ToString(out.KmsKeyId) != aws.ToString(k.KeyMetadata.Arn) {
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
		if h.ServerSideEncryption != "aws:kms" || aws.ToString(h.SSEKMSKeyId) != aws.ToString(k.KeyMetadata.Arn) {
			t.Errorf("log %s: SSE %s key %s", o.Key, h.ServerSideEncryption, aws.ToString(h.SSEKMSKeyId))
		}
		logRecords(t, o) // read back (decrypted for the account) and well formed
	}
	if logs == 0 || digests == 0 {
		t.Fatalf("%d logs, %d digests", logs, digests)
	}
	// At rest the log files are ciphertext.
	for _, o := range e.objects("ct-kms", "AWSLogs/"+e.AccountID+"/CloudTrail/") {
		if rawOnDisk(t, e, o.Body) {
			t.Fatalf("%s stored in the clear", o.Key)
		}
	}
	// The key policy stops allowing CloudTrail: deliveries fail visibly.
	must(t, errOf(kc.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: k.KeyMetadata.KeyId, PolicyName: aws.String("default"),
		Policy: aws.String(keyPolicy("arn:aws:cloudtrail:us-east-1:" + e.AccountID + ":trail/other"))})))
	must(t, errOf(ct.ListTrails(ctx, &cloudtrail.ListTrailsInput{})))
	e.tick(time.Minute)
	st, _ := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("sealed")})
	if aws.ToString(st.LatestDeliveryError) != "AccessDeniedException" {
		t.Fatalf("status with a key policy that refuses: %+v", st)
	}
	// Removing the key: SSE-S3 again, and the pending batch goes out.
	must(t, errOf(ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("sealed"), KmsKeyId: aws.String("")})))
	g, _ := ct.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("sealed")})
	if g.Trail.KmsKeyId != nil {
		t.Fatalf("key after removal: %v", *g.Trail.KmsKeyId)
	}
}

// rawOnDisk reports whether the gzip bytes served appear in the clear in
// the local store's data files.
func rawOnDisk(t *testing.T, e *trailEnv, served []byte) bool {
	t.Helper()
	found := false
	filepath.Walk(filepath.Join(e.DataDir, "objects"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(p, ".d") {
			if b, _ := os.ReadFile(p); bytes.Contains(b, served[:min(len(served), 64)]) {
				found = true
			}
		}
		return nil
	})
	return found
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
