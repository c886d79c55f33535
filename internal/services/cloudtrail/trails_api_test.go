package cloudtrail_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go"

	"lextrail/internal/awserr"
	"lextrail/internal/server"
	"lextrail/internal/store"
	"lextrail/internal/trail"
)

// fakeTopics stands in for SNS: topics by name or ARN, with a policy that
// lets CloudTrail publish for the listed trails' ARNs.
type fakeTopics struct {
	topics map[string][]string // topic ARN -> trail ARNs allowed (aws:SourceArn)
}

func (f *fakeTopics) CheckPublish(_ context.Context, topicARN, sourceARN, sourceAccount string) error {
	allowed, ok := f.topics[topicARN]
	if !ok {
		return awserr.New(404, "NotFound", "Topic does not exist")
	}
	for _, a := range allowed {
		if a == sourceARN {
			return nil
		}
	}
	return awserr.New(403, "AuthorizationError", "topic policy denies")
}

// fakeKMS stands in for KMS key resolution.
type fakeKMS struct{}

const goodKeyARN = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"

func (fakeKMS) AuthorizeTrail(_ context.Context, _ *store.Tx, keyARN, trailARN, account, region string) error {
	if strings.HasSuffix(trailARN, "/no-key-access") {
		return awserr.New(400, "AccessDeniedException", "key policy denies")
	}
	return nil
}

func (fakeKMS) ResolveKey(_ context.Context, _ *store.Tx, keyID, account, region string) (string, error) {
	switch keyID {
	case "alias/trail-key", goodKeyARN, "11111111-2222-3333-4444-555555555555":
		return goodKeyARN, nil
	}
	return "", awserr.New(400, "NotFoundException", "Key %s not found", keyID)
}

func apiError(err error) (code, msg string, status int) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code, msg = ae.ErrorCode(), ae.ErrorMessage()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return
}

// accountPolicy lets CloudTrail write any of the account's trails to the
// bucket (by StringLike on aws:SourceArn).
func accountPolicy(bucket, account, prefix string) string {
	res := "arn:aws:s3:::" + bucket + "/AWSLogs/" + account + "/*"
	if prefix != "" {
		res = "arn:aws:s3:::" + bucket + "/" + prefix + "/AWSLogs/" + account + "/*"
	}
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::%s","Condition":{"StringLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:%s:trail/*"}}},
 {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":%q,"Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"},"StringLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:%s:trail/*"}}}]}`,
		bucket, account, res, account)
}

func apiEnv(t *testing.T) (*trailEnv, *fakeTopics) {
	topics := &fakeTopics{topics: map[string][]string{}}
	e := newTrailEnv(t, func(c *server.Config) {
		c.TrailHooks.Topics = topics
		c.TrailHooks.Keys = fakeKMS{}
	})
	acct := e.AccountID
	e.bucket("good", accountPolicy("good", acct, ""))
	e.bucket("nopolicy", "")
	e.bucket("otheracct", accountPolicy("otheracct", "999999999999", ""))
	e.bucket("prefixed", accountPolicy("prefixed", acct, "only/here"))
	e.bucket("noaclcheck", fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::noaclcheck/*"}]}`))
	e.bucket("noacl-write", fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::noacl-write/*"}]}`))
	topics.topics["arn:aws:sns:us-east-1:"+acct+":notices"] = []string{trail.ARN("us-east-1", acct, "with-topic")}
	topics.topics["arn:aws:sns:us-east-1:"+acct+":closed"] = nil
	return e, topics
}

// TestCreateTrailErrors: every CreateTrail error of spec §5 (vectors 1-4,
// 10), as code, message and HTTP 400.
func TestCreateTrailErrors(t *testing.T) {
	e, _ := apiEnv(t)
	ct := e.ct("us-east-1")
	acct := e.AccountID
	tags := func(n int) []types.Tag {
		var out []types.Tag
		for i := 0; i < n; i++ {
			out = append(out, types.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")})
		}
		return out
	}
	must(t, errOf(ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("taken"), S3BucketName: aws.String("good")})))
	must(t, errOf(ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("everywhere"), S3BucketName: aws.String("good"), IsMultiRegionTrail: aws.Bool(true)})))
	in := func(name, bucket string) *cloudtrail.CreateTrailInput {
		return &cloudtrail.CreateTrailInput{Name: aws.String(name), S3BucketName: aws.String(bucket)}
	}
	for _, tc := range []struct {
		name string
		in   *cloudtrail.CreateTrailInput
		code string
		msg  string
	}{
		{"duplicate", in("taken", "good"), "TrailAlreadyExistsException", "Trail taken already exists for customer: " + acct},
		{"name of a multi-region trail", in("everywhere", "good"), "TrailAlreadyExistsException", ""},
		{"short name", in("ab", "good"), "InvalidTrailNameException", "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 2 characters."},
		{"adjacent punctuation", in("a--b", "good"), "InvalidTrailNameException", ""},
		{"ip name", in("192.168.5.4", "good"), "InvalidTrailNameException", ""},
		{"blank name", in("", "good"), "InvalidTrailNameException", "Trail name cannot be blank!"},
		{"no bucket", in("tr1", "no-such-bucket"), "S3BucketDoesNotExistException", ""},
		{"no policy", in("tr1", "nopolicy"), "InsufficientS3BucketPolicyException", "Incorrect S3 bucket policy is detected for bucket: nopolicy"},
		{"policy for another account", in("tr1", "otheracct"), "InsufficientS3BucketPolicyException", ""},
		{"policy for another prefix", in("tr1", "prefixed"), "InsufficientS3BucketPolicyException", ""},
		{"no acl check", in("tr1", "noacl-write"), "InsufficientS3BucketPolicyException", ""},
		{"bad bucket name", in("tr1", "Bad_Bucket"), "InvalidS3BucketNameException", ""},
		{"blank bucket", in("tr1", ""), "InvalidS3BucketNameException", ""},
		{"AWSLogs prefix", &cloudtrail.CreateTrailInput{Name: aws.String("tr1"), S3BucketName: aws.String("good"), S3KeyPrefix: aws.String("AWSLogs/x")}, "InvalidS3PrefixException", ""},
		{"long prefix", &cloudtrail.CreateTrailInput{Name: aws.String("tr1"), S3BucketName: aws.String("good"), S3KeyPrefix: aws.String(strings.Repeat("p", 201))}, "InvalidS3PrefixException", ""},
		{"multi-region without global", &cloudtrail.CreateTrailInput{Name: aws.String("tr1"), S3BucketName: aws.String("good"), IsMultiRegionTrail: aws.Bool(true), IncludeGlobalServiceEvents: aws.Bool(false)},
			"InvalidParameterCombinationException", "Multi-Region trail must include global service events."},
		{"no such topic", &cloudtrail.CreateTrailInput{Name: aws.String("tr1"), S3BucketName: aws.String("good"), SnsTopicName: aws.String("nope")}, "InsufficientSnsTopicPolicyException", "SNS Topic does not exist or the topic policy is incorrect!"},
		{"topic policy for another trail", &cloudtrail.CreateTrailInput{Name: aws.String("tr1"), S3BucketName: aws.String("good"), SnsTopicName: aws.String("notices")}, "InsufficientSnsTopicPolicyException", ""},
		{"topic policy denies", &cloudtrail.CreateTrailInput{Name: aws.String("tr1"), S3BucketName: aws.String("good"), SnsTopicName: aws.String("arn:aws:sns:us-east-1:" + acct + ":closed")}, "InsufficientSnsTopicPolicyException", ""},
		{"no such KMS key", &cloudtrail.CreateTrailInput{Name: aws.String("tr1"), S3BucketName: aws.String("good"), KmsKeyId: aws.String("alias/nope")}, "KmsKeyNotFoundException", ""},
		{"key policy denies CloudTrail", &cloudtrail.CreateTrailInput{Name: aws.String("no-key-access"), S3BucketName: aws.String("good"), KmsKeyId: aws.String("alias/trail-key")}, "InsufficientEncryptionPolicyException", ""},
		{"KMS key id too long", &cloudtrail.CreateTrailInput{Name: aws.String("tr1"), S3BucketName: aws.String("good"), KmsKeyId: aws.String(strings.Repeat("k", 351))}, "InvalidKmsKeyIdException", ""},
		{"CloudWatch role without group", &cloudtrail.CreateTrailInput{Name: aws.String("tr1"), S3BucketName: aws.String("good"), CloudWatchLogsRoleArn: aws.String("arn:aws:iam::" + acct + ":role/r")}, "InvalidCloudWatchLogsLogGroupArnException", ""},
		{"CloudWatch Logs delivery", &cloudtrail.CreateTrailInput{Name: aws.String("tr1"), S3BucketName: aws.String("good"), CloudWatchLogsRoleArn: aws.String("arn:aws:iam::" + acct + ":role/r"),
			CloudWatchLogsLogGroupArn: aws.String("arn:aws:logs:us-east-1:" + acct + ":log-group:g:*")}, "UnsupportedOperationException", ""},
		{"organization trail", &cloudtrail.CreateTrailInput{Name: aws.String("tr1"), S3BucketName: aws.String("good"), IsOrganizationTrail: aws.Bool(true)}, "OrganizationsNotInUseException", ""},
		{"51 tags", &cloudtrail.CreateTrailInput{Name: aws.String("tr1"), S3BucketName: aws.String("good"), TagsList: tags(51)}, "TagsLimitExceededException", ""},
		{"reserved tag key", &cloudtrail.CreateTrailInput{Name: aws.String("tr1"), S3BucketName: aws.String("good"), TagsList: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}}, "InvalidTagParameterException", ""},
	} {
		_, err := ct.CreateTrail(ctx, tc.in)
		code, msg, status := apiError(err)
		if code != tc.code || status != 400 || (tc.msg != "" && msg != tc.msg) {
			t.Errorf("%s: %s %q HTTP %d, want %s %q 400", tc.name, code, msg, status, tc.code, tc.msg)
		}
	}
	// What is valid: a topic whose policy names the trail, a KMS alias
	// (stored as the key ARN), a prefix the policy allows, tags.
	out, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("with-topic"), S3BucketName: aws.String("good"),
		SnsTopicName: aws.String("notices"), KmsKeyId: aws.String("alias/trail-key"), TagsList: tags(50), EnableLogFileValidation: aws.Bool(true)})
	if err != nil || aws.ToString(out.SnsTopicARN) != "arn:aws:sns:us-east-1:"+acct+":notices" || aws.ToString(out.KmsKeyId) != goodKeyARN ||
		!aws.ToBool(out.LogFileValidationEnabled) || !aws.ToBool(out.IncludeGlobalServiceEvents) || aws.ToBool(out.IsMultiRegionTrail) {
		t.Fatalf("create with topic and key: %+v %v", out, err)
	}
	must(t, errOf(ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("in-prefix"), S3BucketName: aws.String("prefixed"), S3KeyPrefix: aws.String("only/here")})))
	// Quota: five trails apply to us-east-1 now (taken, everywhere,
	// with-topic, in-prefix + one more); the sixth fails.
	must(t, errOf(ct.CreateTrail(ctx, in("fifth", "good"))))
	if code, msg, _ := apiError(errOf(ct.CreateTrail(ctx, in("sixth", "good")))); code != "MaximumNumberOfTrailsExceededException" || !strings.Contains(msg, "already has 5 trails in us-east-1") {
		t.Fatalf("sixth trail: %s %s", code, msg)
	}
	// Another region has room, except for the multi-region one.
	if _, err := e.ct("eu-west-1").CreateTrail(ctx, in("eu-trail", "good")); err != nil {
		t.Fatalf("trail in another region: %v", err)
	}
	// Deleting frees the name at once.
	must(t, errOf(ct.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String("taken")})))
	must(t, errOf(ct.CreateTrail(ctx, in("taken", "good"))))
}

// TestTrailOperations: the other operations' behaviour and errors (spec
// §5, vectors 5, 6, 8, 9, 10, 11).
func TestTrailOperations(t *testing.T) {
	e, _ := apiEnv(t)
	acct := e.AccountID
	ct, eu := e.ct("us-east-1"), e.ct("eu-west-1")
	must(t, errOf(ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("main"), S3BucketName: aws.String("good"), IsMultiRegionTrail: aws.Bool(true)})))
	must(t, errOf(ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("local"), S3BucketName: aws.String("good")})))
	mainARN, localARN := trail.ARN("us-east-1", acct, "main"), trail.ARN("us-east-1", acct, "local")
	code := func(err error) string { c, _, _ := apiError(err); return c }

	// Status before, during and after logging.
	st, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("main")})
	if err != nil || aws.ToBool(st.IsLogging) || st.StartLoggingTime != nil || st.StopLoggingTime != nil || st.LatestDeliveryTime != nil ||
		st.LatestDeliveryError != nil || st.LatestDigestDeliveryTime != nil || aws.ToString(st.TimeLoggingStarted) != "" {
		t.Fatalf("status before logging: %+v %v", st, err)
	}
	e.Clock.Set(t0.Add(1234 * time.Millisecond))
	must(t, errOf(ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(mainARN)}))) // by ARN
	must(t, errOf(ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("main")})))  // idempotent
	st, _ = ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("main")})
	if !aws.ToBool(st.IsLogging) || st.StartLoggingTime == nil || !st.StartLoggingTime.Equal(t0.Add(1234*time.Millisecond)) || st.StopLoggingTime != nil ||
		aws.ToString(st.TimeLoggingStarted) != "2026-01-01T00:00:01Z" {
		t.Fatalf("status while logging: %+v", st)
	}
	// A multi-region trail is read from elsewhere by ARN, changed only at home.
	if _, err := eu.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(mainARN)}); err != nil {
		t.Fatalf("status of the shadow: %v", err)
	}
	if c := code(errOf(eu.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String(mainARN)}))); c != "InvalidHomeRegionException" {
		t.Fatalf("stop from another region: %s", c)
	}
	if c := code(errOf(eu.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(localARN)}))); c != "TrailNotFoundException" {
		t.Fatalf("single-region trail from another region: %s", c)
	}
	if c := code(errOf(eu.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("main")}))); c != "TrailNotFoundException" {
		t.Fatalf("shadow by name: %s", c)
	}
	for _, op := range []func() error{
		func() error {
			return errOf(eu.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String(mainARN)}))
		},
		func() error {
			return errOf(eu.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String(mainARN), EnableLogFileValidation: aws.Bool(true)}))
		},
		func() error {
			return errOf(eu.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String(mainARN), EventSelectors: []types.EventSelector{{}}}))
		},
	} {
		if c := code(op()); c != "InvalidHomeRegionException" {
			t.Errorf("mutation from another region: %s", c)
		}
	}
	e.Clock.Set(t0.Add(2 * time.Second))
	must(t, errOf(ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("main")})))
	st, _ = ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("main")})
	if aws.ToBool(st.IsLogging) || st.StopLoggingTime == nil || st.StartLoggingTime == nil || aws.ToString(st.TimeLoggingStopped) != "2026-01-01T00:00:02Z" {
		t.Fatalf("status after stop: %+v", st)
	}
	// Not found, by name and by ARN; malformed ARNs.
	_, msg, _ := apiError(errOf(ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("nope")})))
	if want := "Unknown trail: arn:aws:cloudtrail:us-east-1:" + acct + ":trail/nope for the user: " + acct; msg != want {
		t.Fatalf("status of unknown trail: %q", msg)
	}
	for name, err := range map[string]error{
		"GetTrail":          errOf(ct.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("nope")})),
		"DeleteTrail":       errOf(ct.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String("nope")})),
		"StartLogging":      errOf(ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(trail.ARN("us-east-1", acct, "nope"))})),
		"StopLogging":       errOf(ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("nope")})),
		"UpdateTrail":       errOf(ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("nope")})),
		"GetEventSelectors": errOf(ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("nope")})),
	} {
		if c := code(err); c != "TrailNotFoundException" {
			t.Errorf("%s of unknown trail: %s", name, c)
		}
	}
	// Another account's trail: the caller's identity policies cannot
	// reach it (root is not allowed across accounts either).
	if c := code(errOf(ct.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(trail.ARN("us-east-1", "999999999999", "main"))}))); c != "AccessDeniedException" {
		t.Errorf("another account's trail: %s", c)
	}
	for _, bad := range []string{"arn:aws:cloudtrail:us-east-1:12345:trail/x", "arn:aws:cloudtrail:us-east-1:" + acct + ":eventdatastore/x"} {
		if c := code(errOf(ct.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(bad)}))); c != "CloudTrailARNInvalidException" {
			t.Errorf("GetTrail %s: %s", bad, c)
		}
	}
	if c := code(errOf(ct.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("a_-b")}))); c != "InvalidTrailNameException" {
		t.Errorf("GetTrail of an invalid name: %s", c)
	}

	// GetTrail / DescribeTrails: shadows (vector 9), omitted empty strings.
	g, err := ct.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("main")})
	if err != nil || aws.ToString(g.Trail.HomeRegion) != "us-east-1" || g.Trail.S3KeyPrefix != nil || g.Trail.SnsTopicARN != nil || g.Trail.KmsKeyId != nil ||
		aws.ToBool(g.Trail.HasCustomEventSelectors) || g.Trail.IsOrganizationTrail == nil {
		t.Fatalf("GetTrail: %+v %v", g, err)
	}
	names := func(c *cloudtrail.Client, in *cloudtrail.DescribeTrailsInput) string {
		out, err := c.DescribeTrails(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, tr := range out.TrailList {
			n = append(n, aws.ToString(tr.Name))
		}
		return strings.Join(n, ",")
	}
	if n := names(ct, &cloudtrail.DescribeTrailsInput{}); n != "local,main" {
		t.Errorf("describe at home: %s", n)
	}
	if n := names(eu, &cloudtrail.DescribeTrailsInput{}); n != "main" {
		t.Errorf("describe elsewhere (shadows by default): %s", n)
	}
	if n := names(eu, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(false)}); n != "" {
		t.Errorf("describe elsewhere without shadows: %s", n)
	}
	if n := names(eu, &cloudtrail.DescribeTrailsInput{TrailNameList: []string{mainARN, "main", "nope"}}); n != "main" {
		t.Errorf("describe by list elsewhere: %s", n)
	}
	if n := names(ct, &cloudtrail.DescribeTrailsInput{TrailNameList: []string{"local", localARN}}); n != "local" {
		t.Errorf("describe by name and ARN: %s", n)
	}
	if c := code(errOf(ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{TrailNameList: []string{"x"}}))); c != "InvalidTrailNameException" {
		t.Errorf("describe invalid name: %s", c)
	}

	// Event selectors (vectors 6, 7).
	gs, err := ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("main")})
	if err != nil || len(gs.EventSelectors) != 1 || gs.AdvancedEventSelectors != nil || gs.EventSelectors[0].ReadWriteType != types.ReadWriteTypeAll ||
		!aws.ToBool(gs.EventSelectors[0].IncludeManagementEvents) || gs.EventSelectors[0].DataResources == nil || len(gs.EventSelectors[0].DataResources) != 0 ||
		gs.EventSelectors[0].ExcludeManagementEventSources == nil || aws.ToString(gs.TrailARN) != mainARN {
		t.Fatalf("default selectors: %+v %v", gs, err)
	}
	six := make([]types.EventSelector, 6)
	for name, in := range map[string]*cloudtrail.PutEventSelectorsInput{
		"six":         {TrailName: aws.String("main"), EventSelectors: six},
		"exclude s3":  {TrailName: aws.String("main"), EventSelectors: []types.EventSelector{{ExcludeManagementEventSources: []string{"s3.amazonaws.com"}}}},
		"no category": {TrailName: aws.String("main"), AdvancedEventSelectors: []types.AdvancedEventSelector{{FieldSelectors: []types.AdvancedFieldSelector{{Field: aws.String("eventName"), Equals: []string{"x"}}}}}},
	} {
		if c := code(errOf(ct.PutEventSelectors(ctx, in))); c != "InvalidEventSelectorsException" {
			t.Errorf("PutEventSelectors %s: %s", name, c)
		}
	}
	both := &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("main"), EventSelectors: []types.EventSelector{{}},
		AdvancedEventSelectors: []types.AdvancedEventSelector{{FieldSelectors: []types.AdvancedFieldSelector{{Field: aws.String("eventCategory"), Equals: []string{"Management"}}}}}}
	if c := code(errOf(ct.PutEventSelectors(ctx, both))); c != "InvalidParameterCombinationException" {
		t.Errorf("both kinds: %s", c)
	}
	ps, err := ct.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("main"), AdvancedEventSelectors: both.AdvancedEventSelectors})
	if err != nil || len(ps.AdvancedEventSelectors) != 1 || ps.EventSelectors != nil {
		t.Fatalf("put advanced: %+v %v", ps, err)
	}
	gs, _ = ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(mainARN)})
	g, _ = ct.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("main")})
	if gs.EventSelectors != nil || len(gs.AdvancedEventSelectors) != 1 || !aws.ToBool(g.Trail.HasCustomEventSelectors) {
		t.Fatalf("after advanced selectors: %+v %+v", gs, g.Trail)
	}

	// Tags (vector 10).
	if c := code(errOf(ct.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String("main"), TagsList: []types.Tag{{Key: aws.String("a")}}}))); c != "CloudTrailARNInvalidException" {
		t.Errorf("tag by name: %s", c)
	}
	if c := code(errOf(ct.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(trail.ARN("us-east-1", acct, "nope")), TagsList: []types.Tag{{Key: aws.String("a")}}}))); c != "ResourceNotFoundException" {
		t.Errorf("tag unknown trail: %s", c)
	}
	if c := code(errOf(ct.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String("arn:aws:cloudtrail:us-east-1:" + acct + ":eventdatastore/x"), TagsList: []types.Tag{{Key: aws.String("a")}}}))); c != "ResourceTypeNotSupportedException" {
		t.Errorf("tag event data store: %s", c)
	}
	var fifty []types.Tag
	for i := 0; i < 50; i++ {
		fifty = append(fifty, types.Tag{Key: aws.String(fmt.Sprintf("k%02d", i)), Value: aws.String("v")})
	}
	must(t, errOf(ct.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(mainARN), TagsList: fifty})))
	must(t, errOf(ct.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(mainARN), TagsList: []types.Tag{{Key: aws.String("k00"), Value: aws.String("new")}}})))
	if c := code(errOf(ct.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(mainARN), TagsList: []types.Tag{{Key: aws.String("k50")}}}))); c != "TagsLimitExceededException" {
		t.Errorf("51st tag: %s", c)
	}
	must(t, errOf(ct.RemoveTags(ctx, &cloudtrail.RemoveTagsInput{ResourceId: aws.String(mainARN), TagsList: []types.Tag{{Key: aws.String("k01")}, {Key: aws.String("k02"), Value: aws.String("other")}}})))
	lt, err := eu.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: []string{mainARN, localARN}})
	if err != nil || len(lt.ResourceTagList) != 2 || len(lt.ResourceTagList[0].TagsList) != 49 || aws.ToString(lt.ResourceTagList[0].TagsList[0].Value) != "new" ||
		len(lt.ResourceTagList[1].TagsList) != 0 {
		t.Fatalf("ListTags: %+v %v", lt, err)
	}
	many := make([]string, 21)
	for i := range many {
		many[i] = mainARN
	}
	if c := code(errOf(ct.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: many}))); c != "InvalidParameterException" {
		t.Errorf("ListTags of 21: %s", c)
	}

	// UpdateTrail: checks the new bucket; only given members change.
	if c := code(errOf(ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("local"), S3BucketName: aws.String("nopolicy")}))); c != "InsufficientS3BucketPolicyException" {
		t.Errorf("update to a bucket without policy: %s", c)
	}
	if c := code(errOf(ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("main"), IncludeGlobalServiceEvents: aws.Bool(false)}))); c != "InvalidParameterCombinationException" {
		t.Errorf("multi-region without global: %s", c)
	}
	up, err := ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("local"), EnableLogFileValidation: aws.Bool(true), SnsTopicName: aws.String("nope")})
	if c := code(err); c != "InsufficientSnsTopicPolicyException" {
		t.Errorf("update to an unknown topic: %v %s", up, c)
	}
	up, err = ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("local"), EnableLogFileValidation: aws.Bool(true), IsMultiRegionTrail: aws.Bool(true)})
	if err != nil || !aws.ToBool(up.LogFileValidationEnabled) || !aws.ToBool(up.IsMultiRegionTrail) || aws.ToString(up.S3BucketName) != "good" {
		t.Fatalf("update: %+v %v", up, err)
	}

	// ListTrails: every region, paged.
	must(t, errOf(eu.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("eu-one"), S3BucketName: aws.String("good")})))
	var listed []string
	p := cloudtrail.NewListTrailsPaginator(e.ct("ap-south-1"), &cloudtrail.ListTrailsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range page.Trails {
			listed = append(listed, aws.ToString(tr.Name)+"@"+aws.ToString(tr.HomeRegion))
		}
	}
	if strings.Join(listed, ",") != "eu-one@eu-west-1,local@us-east-1,main@us-east-1" {
		t.Errorf("ListTrails: %v", listed)
	}
	if c := code(errOf(ct.ListTrails(ctx, &cloudtrail.ListTrailsInput{NextToken: aws.String("garbage")}))); c != "InvalidNextTokenException" {
		t.Errorf("bad token: %s", c)
	}

	// ListPublicKeys.
	pk, err := ct.ListPublicKeys(ctx, &cloudtrail.ListPublicKeysInput{})
	if err != nil || len(pk.PublicKeyList) != 1 || !strings.HasPrefix(fmt.Sprintf("%x", pk.PublicKeyList[0].Value), "3082010a02820101") ||
		len(aws.ToString(pk.PublicKeyList[0].Fingerprint)) != 32 {
		t.Fatalf("ListPublicKeys: %+v %v", pk, err)
	}
	later := t0.Add(time.Hour)
	if c := code(errOf(ct.ListPublicKeys(ctx, &cloudtrail.ListPublicKeysInput{StartTime: &later, EndTime: &t0}))); c != "InvalidTimeRangeException" {
		t.Errorf("inverted range: %s", c)
	}

	// DeleteTrail; the name is free, the trail gone.
	must(t, errOf(ct.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String(localARN)})))
	if c := code(errOf(ct.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("local")}))); c != "TrailNotFoundException" {
		t.Errorf("deleted trail: %s", c)
	}
}
