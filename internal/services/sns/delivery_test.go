package sns_test

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// TestSubscribeConfirmPublish is the HTTP subscriber's whole story: the
// signed SubscriptionConfirmation, confirming by visiting SubscribeURL,
// then every published message exactly once in order of publication, with
// subject and attributes, signed with SignatureVersion 1 and 2; and
// unsubscribing with UnsubscribeURL.
func TestSubscribeConfirmPublish(t *testing.T) {
	eachDriver(t, func(t *testing.T, dbURL string) {
		e := env(t, dbURL)
		c := client(e)
		wake := e.Server.SNS.Wake
		arn := createTopic(t, c, "orders")
		sub := newSubscriber(t)

		out := must(c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("http"), Endpoint: aws.String(sub.URL())}))
		if *out.SubscriptionArn != "pending confirmation" {
			t.Fatalf("Subscribe answered %q, want pending confirmation", *out.SubscriptionArn)
		}
		conf := sub.Confirmation(wake)
		if conf.TopicArn != arn || conf.Token == "" || !strings.Contains(conf.Message, "You have chosen to subscribe to the topic "+arn) {
			t.Fatalf("confirmation %+v", conf)
		}
		u, err := url.Parse(conf.SubscribeURL)
		if err != nil || u.Query().Get("Action") != "ConfirmSubscription" || u.Query().Get("Token") != conf.Token || u.Query().Get("TopicArn") != arn {
			t.Fatalf("SubscribeURL %q", conf.SubscribeURL)
		}
		// Pending: listed as PendingConfirmation, counted as pending, no
		// message delivered before the confirmation.
		lst := must(c.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: &arn}))
		if len(lst.Subscriptions) != 1 || *lst.Subscriptions[0].SubscriptionArn != "PendingConfirmation" || *lst.Subscriptions[0].Endpoint != sub.URL() {
			t.Fatalf("pending list %+v", lst.Subscriptions)
		}
		if a := topicAttrs(t, c, arn); a["SubscriptionsPending"] != "1" || a["SubscriptionsConfirmed"] != "0" {
			t.Fatalf("counts %v", a)
		}
		must(c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: aws.String("before confirmation")}))

		code, body := get(t, conf.SubscribeURL)
		if code != 200 || !strings.Contains(body, "<ConfirmSubscriptionResponse") || !strings.Contains(body, "<SubscriptionArn>"+arn+":") {
			t.Fatalf("GET SubscribeURL: %d %s", code, body)
		}
		subARN := body[strings.Index(body, "<SubscriptionArn>")+len("<SubscriptionArn>") : strings.Index(body, "</SubscriptionArn>")]
		// Visiting it again answers the same subscription.
		if _, again := get(t, conf.SubscribeURL); !strings.Contains(again, subARN) {
			t.Fatalf("second visit: %s", again)
		}
		if a := topicAttrs(t, c, arn); a["SubscriptionsPending"] != "0" || a["SubscriptionsConfirmed"] != "1" {
			t.Fatalf("counts after confirmation %v", a)
		}
		sa := must(c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: &subARN})).Attributes
		if sa["PendingConfirmation"] != "false" || sa["ConfirmationWasAuthenticated"] != "false" || sa["Protocol"] != "http" || sa["Owner"] != e.AccountID {
			t.Fatalf("subscription attributes %v", sa)
		}

		// 30 messages, the second half signed with SHA256withRSA.
		var ids []string
		for i := 0; i < 30; i++ {
			if i == 15 {
				// Versions apply to deliveries made after the change.
				sub.WaitGot(15, wake)
				must(c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &arn, AttributeName: aws.String("SignatureVersion"), AttributeValue: aws.String("2")}))
			}
			in := &sns.PublishInput{TopicArn: &arn, Message: aws.String(fmt.Sprintf("message %d: ünïcode \"quoted\" <tag> & line\nbreak", i))}
			if i%3 == 0 {
				in.Subject = aws.String("Subject " + strconv.Itoa(i))
				in.MessageAttributes = map[string]types.MessageAttributeValue{
					"color": {DataType: aws.String("String"), StringValue: aws.String("blue")},
					"n":     {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(i))},
					"bin":   {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2, 255}},
				}
			}
			ids = append(ids, *must(c.Publish(ctx, in)).MessageId)
		}
		got := sub.WaitGot(30, wake)
		if len(got) != 30 {
			t.Fatalf("received %d messages, want exactly 30", len(got))
		}
		for i, m := range got {
			if m.MessageId != ids[i] || m.TopicArn != arn || !strings.HasPrefix(m.Message, fmt.Sprintf("message %d:", i)) {
				t.Fatalf("message %d out of order or wrong: %+v", i, m)
			}
			wantV := "1"
			if i >= 15 {
				wantV = "2"
			}
			if m.SignatureVersion != wantV {
				t.Errorf("message %d signed with version %s, want %s", i, m.SignatureVersion, wantV)
			}
			if m.Header.Get("x-amz-sns-subscription-arn") != subARN {
				t.Errorf("subscription header %q", m.Header.Get("x-amz-sns-subscription-arn"))
			}
			if i%3 == 0 {
				if m.Subject == nil || *m.Subject != "Subject "+strconv.Itoa(i) {
					t.Errorf("message %d subject %v", i, m.Subject)
				}
				a := m.MessageAttributes
				if a["color"].Type != "String" || a["color"].Value != "blue" || a["n"].Value != strconv.Itoa(i) || a["bin"].Type != "Binary" || a["bin"].Value != "AAEC/w==" {
					t.Errorf("message %d attributes %+v", i, a)
				}
			} else if m.Subject != nil || m.MessageAttributes != nil {
				t.Errorf("message %d has subject %v / attributes %v it was not published with", i, m.Subject, m.MessageAttributes)
			}
		}
		// The UnsubscribeURL ends the subscription.
		code, body = get(t, got[0].UnsubscribeURL)
		if code != 200 || !strings.Contains(body, "<UnsubscribeResponse") {
			t.Fatalf("GET UnsubscribeURL: %d %s", code, body)
		}
		if lst := must(c.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: &arn})); len(lst.Subscriptions) != 0 {
			t.Fatalf("still subscribed: %+v", lst.Subscriptions)
		}
		// A second subscriber proves later messages flow while the first
		// one gets nothing more.
		other := newSubscriber(t)
		confirmed(t, c, arn, other, wake, nil)
		must(c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: aws.String("after unsubscribe")}))
		if m := other.WaitGot(1, wake); m[0].Message != "after unsubscribe" {
			t.Fatalf("other got %+v", m)
		}
		if n := len(sub.Got()); n != 30 {
			t.Fatalf("unsubscribed endpoint received %d messages, want 30", n)
		}
	})
}

// confirmed subscribes sub to the topic and confirms it with the SDK's
// ConfirmSubscription; it returns the subscription ARN.
func confirmed(t testing.TB, c *sns.Client, arn string, sub *subscriber, wake func(), attrs map[string]string) string {
	t.Helper()
	must(c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("http"), Endpoint: aws.String(sub.URL()), Attributes: attrs}))
	conf := sub.Confirmation(wake)
	out, err := c.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: &arn, Token: &conf.Token})
	if err != nil {
		t.Fatalf("ConfirmSubscription: %v", err)
	}
	return *out.SubscriptionArn
}

func topicAttrs(t testing.TB, c *sns.Client, arn string) map[string]string {
	t.Helper()
	out, err := c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &arn})
	if err != nil {
		t.Fatalf("GetTopicAttributes: %v", err)
	}
	return out.Attributes
}
