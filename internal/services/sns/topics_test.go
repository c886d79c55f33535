package sns_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// TestTopicLifecycle: create (idempotent for the same name and
// attributes), attributes with the default policy, set attributes, tags,
// paging over 250 topics, delete (idempotent), and the management events.
func TestTopicLifecycle(t *testing.T) {
	eachDriver(t, func(t *testing.T, dbURL string) {
		e := env(t, dbURL)
		c := client(e)
		out := must(c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts"),
			Attributes: map[string]string{"DisplayName": "Alerts"},
			Tags:       []types.Tag{{Key: aws.String("team"), Value: aws.String("ops")}}}))
		arn := *out.TopicArn
		if arn != "arn:aws:sns:us-east-1:"+e.AccountID+":alerts" {
			t.Fatalf("TopicArn %q", arn)
		}
		again := must(c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts"), Attributes: map[string]string{"DisplayName": "Alerts"}}))
		if *again.TopicArn != arn {
			t.Fatalf("second CreateTopic gave %q", *again.TopicArn)
		}
		if plain := must(c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")})); *plain.TopicArn != arn {
			t.Fatalf("CreateTopic without attributes gave %q", *plain.TopicArn)
		}
		_, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts"), Attributes: map[string]string{"DisplayName": "Other"}})
		if code(err) != "InvalidParameter" || !strings.Contains(message(err), "different attributes") {
			t.Fatalf("CreateTopic with other attributes: %v", err)
		}
		_, err = c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("dev")}}})
		if code(err) != "InvalidParameter" || !strings.Contains(message(err), "different tags") {
			t.Fatalf("CreateTopic with other tags: %v", err)
		}

		a := topicAttrs(t, c, arn)
		for k, want := range map[string]string{"TopicArn": arn, "Owner": e.AccountID, "DisplayName": "Alerts",
			"SubscriptionsConfirmed": "0", "SubscriptionsPending": "0", "SubscriptionsDeleted": "0"} {
			if a[k] != want {
				t.Errorf("%s = %q, want %q", k, a[k], want)
			}
		}
		var pol struct {
			Version, Id string
			Statement   []struct {
				Effect    string
				Principal map[string]string
				Action    []string
				Resource  string
				Condition map[string]map[string]string
			}
		}
		if err := json.Unmarshal([]byte(a["Policy"]), &pol); err != nil || pol.Id != "__default_policy_ID" || len(pol.Statement) != 1 {
			t.Fatalf("default Policy %q: %v", a["Policy"], err)
		}
		st := pol.Statement[0]
		if st.Principal["AWS"] != "*" || st.Resource != arn || st.Condition["StringEquals"]["AWS:SourceOwner"] != e.AccountID || !contains(st.Action, "SNS:Publish") {
			t.Fatalf("default statement %+v", st)
		}
		var eff struct {
			HTTP struct {
				DefaultHealthyRetryPolicy map[string]any
				DefaultRequestPolicy      map[string]string
			}
		}
		if err := json.Unmarshal([]byte(a["EffectiveDeliveryPolicy"]), &eff); err != nil ||
			eff.HTTP.DefaultHealthyRetryPolicy["backoffFunction"] != "exponential" || eff.HTTP.DefaultHealthyRetryPolicy["numRetries"] != float64(10) ||
			eff.HTTP.DefaultRequestPolicy["headerContentType"] != "text/plain; charset=UTF-8" {
			t.Fatalf("EffectiveDeliveryPolicy %q: %v", a["EffectiveDeliveryPolicy"], err)
		}
		if _, ok := a["DeliveryPolicy"]; ok {
			t.Errorf("DeliveryPolicy reported though never set")
		}

		// Set attributes.
		policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"SNS:Publish","Resource":"` + arn + `"}]}`
		dp := `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"backoffFunction":"linear"}}}`
		for k, v := range map[string]string{"DisplayName": "Renamed", "Policy": policy, "DeliveryPolicy": dp, "SignatureVersion": "2"} {
			must(c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &arn, AttributeName: aws.String(k), AttributeValue: aws.String(v)}))
		}
		a = topicAttrs(t, c, arn)
		if a["DisplayName"] != "Renamed" || a["Policy"] != policy || a["DeliveryPolicy"] != dp || a["SignatureVersion"] != "2" ||
			!strings.Contains(a["EffectiveDeliveryPolicy"], `"numRetries":3`) {
			t.Fatalf("attributes after set: %v", a)
		}
		// An empty Policy restores the default one.
		must(c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &arn, AttributeName: aws.String("Policy"), AttributeValue: aws.String("")}))
		if p := topicAttrs(t, c, arn)["Policy"]; !strings.Contains(p, "__default_policy_ID") {
			t.Fatalf("policy after reset: %s", p)
		}

		// Tags.
		must(c.TagResource(ctx, &sns.TagResourceInput{ResourceArn: &arn, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}, {Key: aws.String("team"), Value: aws.String("sre")}}}))
		must(c.UntagResource(ctx, &sns.UntagResourceInput{ResourceArn: &arn, TagKeys: []string{"env"}}))
		tags := must(c.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: &arn})).Tags
		if len(tags) != 1 || *tags[0].Key != "team" || *tags[0].Value != "sre" {
			t.Fatalf("tags %+v", tags)
		}

		// Paging: 250 more topics, 100 per page.
		var want []string
		want = append(want, arn)
		for i := 0; i < 250; i++ {
			want = append(want, createTopic(t, c, fmt.Sprintf("t%03d", i)))
		}
		sort.Strings(want)
		var got []string
		pages := 0
		for p := sns.NewListTopicsPaginator(c, &sns.ListTopicsInput{}); p.HasMorePages(); {
			page := must(p.NextPage(ctx))
			pages++
			if len(page.Topics) > 100 {
				t.Fatalf("page of %d topics", len(page.Topics))
			}
			for _, tp := range page.Topics {
				got = append(got, *tp.TopicArn)
			}
		}
		if pages != 3 || strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("%d pages, %d topics (want 3 pages, %d topics)", pages, len(got), len(want))
		}
		// Topics are per account and region.
		west := sns.NewFromConfig(e.Config(), func(o *sns.Options) { o.Region = "eu-west-1" })
		if l := must(west.ListTopics(ctx, &sns.ListTopicsInput{})); len(l.Topics) != 0 {
			t.Fatalf("eu-west-1 lists %d topics", len(l.Topics))
		}
		if _, err := west.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &arn}); code(err) != "InvalidParameter" {
			t.Fatalf("us-east-1 topic from eu-west-1: %v", err)
		}

		// Delete, twice.
		must(c.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: &arn}))
		must(c.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: &arn}))
		_, err = c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &arn})
		if code(err) != "NotFound" || status(err) != 404 {
			t.Fatalf("GetTopicAttributes after delete: %v", err)
		}

		// Management events in event history, with the topic as resource.
		ct := cloudtrail.NewFromConfig(e.Config())
		for _, n := range []string{"CreateTopic", "SetTopicAttributes", "GetTopicAttributes", "DeleteTopic", "TagResource", "ListTopics"} {
			ev := must(ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
				{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(n)}}, MaxResults: aws.Int32(1)}))
			if len(ev.Events) == 0 {
				t.Errorf("no %s event in history", n)
				continue
			}
			var rec map[string]any
			json.Unmarshal([]byte(*ev.Events[0].CloudTrailEvent), &rec)
			if rec["eventSource"] != "sns.amazonaws.com" || rec["managementEvent"] != true || rec["eventCategory"] != "Management" || rec["awsRegion"] != "us-east-1" {
				t.Errorf("%s record %v", n, rec)
			}
			if n == "SetTopicAttributes" {
				if res := ev.Events[0].Resources; len(res) != 1 || (*res[0].ResourceName != arn && *res[0].ResourceName != "alerts") || *res[0].ResourceType != "AWS::SNS::Topic" {
					t.Errorf("SetTopicAttributes resources %s %s", aws.ToString(res[0].ResourceName), aws.ToString(res[0].ResourceType))
				}
			}
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
