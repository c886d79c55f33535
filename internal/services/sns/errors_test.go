package sns_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// TestErrors: bad input gets SNS's error codes and statuses, and changes
// nothing.
func TestErrors(t *testing.T) {
	e := env(t, "")
	c := client(e)
	arn := createTopic(t, c, "errs")
	missing := "arn:aws:sns:us-east-1:" + e.AccountID + ":missing"
	subARN := missing + ":0b9a4a6e-3c1f-4f0e-9b7a-1d2e3f4a5b6c"
	str := func(v string) *string { return &v }
	big := strings.Repeat("x", 262145)
	attr := func(typ string, v *string, b []byte) map[string]types.MessageAttributeValue {
		return map[string]types.MessageAttributeValue{"a": {DataType: aws.String(typ), StringValue: v, BinaryValue: b}}
	}
	cases := []struct {
		name   string
		call   func() error
		code   string
		status int
		msg    string
	}{
		{"bad topic name", func() error {
			_, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: str("bad name!")})
			return err
		}, "InvalidParameter", 400, "Invalid parameter: Topic Name"},
		{"FIFO topic", func() error {
			_, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: str("q.fifo")})
			return err
		}, "InvalidParameter", 400, "standard topics only"},
		{"unsupported attribute", func() error {
			_, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: str("k"), Attributes: map[string]string{"KmsMasterKeyId": "alias/aws/sns"}})
			return err
		}, "InvalidParameter", 400, "lextrail supports DisplayName, Policy, DeliveryPolicy and SignatureVersion"},
		{"malformed policy", func() error {
			_, err := c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &arn, AttributeName: str("Policy"), AttributeValue: str(`{"Statement":`)})
			return err
		}, "InvalidParameter", 400, "Invalid parameter: Policy Error"},
		{"policy without principal", func() error {
			_, err := c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &arn, AttributeName: str("Policy"),
				AttributeValue: str(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":"*"}]}`)})
			return err
		}, "InvalidParameter", 400, "Invalid parameter: Policy Error"},
		{"unknown attribute name", func() error {
			_, err := c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &arn, AttributeName: str("Nope"), AttributeValue: str("x")})
			return err
		}, "InvalidParameter", 400, "Invalid parameter: AttributeName"},
		{"delivery policy over the limits", func() error {
			_, err := c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &arn, AttributeName: str("DeliveryPolicy"),
				AttributeValue: str(`{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":5000,"numRetries":3}}}`)})
			return err
		}, "InvalidParameter", 400, "maxDelayTarget must be at most 3600"},
		{"signature version 3", func() error {
			_, err := c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &arn, AttributeName: str("SignatureVersion"), AttributeValue: str("3")})
			return err
		}, "InvalidParameter", 400, "SignatureVersion"},
		{"attributes of a missing topic", func() error {
			_, err := c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &missing})
			return err
		}, "NotFound", 404, "Topic does not exist"},
		{"malformed topic ARN", func() error {
			_, err := c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: str("arn:aws:sqs:us-east-1:123456789012:q")})
			return err
		}, "InvalidParameter", 400, "Invalid parameter: TopicArn"},
		{"sqs subscription", func() error {
			_, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: str("sqs"), Endpoint: str("arn:aws:sqs:us-east-1:123456789012:q")})
			return err
		}, "InvalidParameter", 400, "lextrail delivers only to http and https endpoints, not sqs"},
		{"unknown protocol", func() error {
			_, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: str("pigeon"), Endpoint: str("x")})
			return err
		}, "InvalidParameter", 400, "does not support this protocol string: pigeon"},
		{"http endpoint that is not an http URL", func() error {
			_, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: str("http"), Endpoint: str("https://example.com/")})
			return err
		}, "InvalidParameter", 400, "Invalid parameter: Endpoint"},
		{"unsupported subscription attribute", func() error {
			_, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: str("http"), Endpoint: str("http://example.com/"),
				Attributes: map[string]string{"FilterPolicy": "{}"}})
			return err
		}, "InvalidParameter", 400, "lextrail supports RawMessageDelivery"},
		{"subscribe to a missing topic", func() error {
			_, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &missing, Protocol: str("http"), Endpoint: str("http://example.com/")})
			return err
		}, "NotFound", 404, ""},
		{"wrong token", func() error {
			_, err := c.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: &arn, Token: str("00ff")})
			return err
		}, "InvalidParameter", 400, "Invalid parameter: Token"},
		{"unsubscribe a missing subscription", func() error {
			_, err := c.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: &subARN})
			return err
		}, "NotFound", 404, "Subscription does not exist"},
		{"unsubscribe a malformed ARN", func() error {
			_, err := c.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: str("nope")})
			return err
		}, "InvalidParameter", 400, "SubscriptionArn"},
		{"empty message", func() error {
			_, err := c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: str("")})
			return err
		}, "InvalidParameter", 400, "Invalid parameter: Empty message"},
		{"message over 256 KiB", func() error {
			_, err := c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: &big})
			return err
		}, "InvalidParameter", 400, "Message too long"},
		{"message and attributes over 256 KiB", func() error {
			_, err := c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: str(big[:262000]), MessageAttributes: attr("String", str(big[:200]), nil)})
			return err
		}, "InvalidParameter", 400, "Message too long"},
		{"publish to a missing topic", func() error {
			_, err := c.Publish(ctx, &sns.PublishInput{TopicArn: &missing, Message: str("x")})
			return err
		}, "NotFound", 404, "Topic does not exist"},
		{"subject with a line break", func() error {
			_, err := c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: str("x"), Subject: str("a\nb")})
			return err
		}, "InvalidParameter", 400, "Invalid parameter: Subject"},
		{"json structure without default", func() error {
			_, err := c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: str(`{"http":"x"}`), MessageStructure: str("json")})
			return err
		}, "InvalidParameter", 400, "No default entry"},
		{"json structure that is not JSON", func() error {
			_, err := c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: str(`{"default":`), MessageStructure: str("json")})
			return err
		}, "InvalidParameter", 400, "failed to parse"},
		{"attribute type", func() error {
			_, err := c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: str("x"), MessageAttributes: attr("Date", str("x"), nil)})
			return err
		}, "ParameterValueInvalid", 400, "supported type prefixes is Binary, Number, and String"},
		{"empty attribute value", func() error {
			_, err := c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: str("x"), MessageAttributes: attr("String", str(""), nil)})
			return err
		}, "ParameterValueInvalid", 400, "non-empty message attribute value"},
		{"non-numeric Number", func() error {
			_, err := c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: str("x"), MessageAttributes: attr("Number", str("ten"), nil)})
			return err
		}, "ParameterValueInvalid", 400, "invalid number"},
		{"reserved attribute name", func() error {
			_, err := c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: str("x"),
				MessageAttributes: map[string]types.MessageAttributeValue{"AWS.x": {DataType: str("String"), StringValue: str("v")}}})
			return err
		}, "ParameterValueInvalid", 400, "is invalid"},
		{"SMS", func() error {
			_, err := c.Publish(ctx, &sns.PublishInput{PhoneNumber: str("+15555550100"), Message: str("x")})
			return err
		}, "InvalidParameter", 400, "does not send SMS"},
		{"FIFO parameter on a standard topic", func() error {
			_, err := c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: str("x"), MessageGroupId: str("g")})
			return err
		}, "InvalidParameter", 400, "MessageGroupId"},
		{"garbage NextToken", func() error {
			_, err := c.ListTopics(ctx, &sns.ListTopicsInput{NextToken: str("!!!")})
			return err
		}, "InvalidParameter", 400, "NextToken"},
		{"tag a missing topic", func() error {
			_, err := c.TagResource(ctx, &sns.TagResourceInput{ResourceArn: &missing, Tags: []types.Tag{{Key: str("k"), Value: str("v")}}})
			return err
		}, "ResourceNotFound", 404, ""},
		{"reserved tag key", func() error {
			_, err := c.TagResource(ctx, &sns.TagResourceInput{ResourceArn: &arn, Tags: []types.Tag{{Key: str("aws:x"), Value: str("v")}}})
			return err
		}, "InvalidParameter", 400, "aws:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if code(err) != tc.code || status(err) != tc.status || !strings.Contains(message(err), tc.msg) {
				t.Fatalf("got %s %d %q, want %s %d containing %q", code(err), status(err), message(err), tc.code, tc.status, tc.msg)
			}
		})
	}
	// Nothing changed: the topic is as created, with no subscription.
	a := topicAttrs(t, c, arn)
	if a["SubscriptionsPending"] != "0" || !strings.Contains(a["Policy"], "__default_policy_ID") || a["SignatureVersion"] != "" {
		t.Fatalf("failed calls changed the topic: %v", a)
	}
	if l := must(c.ListTopics(ctx, &sns.ListTopicsInput{})); len(l.Topics) != 1 {
		t.Fatalf("failed CreateTopic calls left topics: %d", len(l.Topics))
	}

	// An IAM user without SNS permissions: AuthorizationError, 403.
	ic := iam.NewFromConfig(e.Config())
	must(ic.CreateUser(ctx, &iam.CreateUserInput{UserName: str("nobody")}))
	k := must(ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: str("nobody")}))
	uc := client(e, aws.Credentials{AccessKeyID: *k.AccessKey.AccessKeyId, SecretAccessKey: *k.AccessKey.SecretAccessKey})
	_, err := uc.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: str("x")})
	if code(err) != "AuthorizationError" || status(err) != 403 || !strings.Contains(message(err), "is not authorized to perform: sns:Publish on resource: "+arn) {
		t.Fatalf("unauthorized publish: %s %d %s", code(err), status(err), message(err))
	}
	// Unknown operations are the query protocol's InvalidAction.
	_, err = c.AddPermission(ctx, &sns.AddPermissionInput{TopicArn: &arn, Label: str("l"), AWSAccountId: []string{"111122223333"}, ActionName: []string{"Publish"}})
	if code(err) != "InvalidAction" || status(err) != 400 {
		t.Fatalf("AddPermission: %v", err)
	}
}
