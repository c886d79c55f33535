package sns_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	snssvc "lextrail/internal/services/sns"
	"lextrail/internal/store"
)

func setPolicy(t testing.TB, c *sns.Client, arn, doc string) {
	t.Helper()
	if _, err := c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &arn, AttributeName: aws.String("Policy"), AttributeValue: &doc}); err != nil {
		t.Fatalf("SetTopicAttributes Policy: %v", err)
	}
}

func iamUser(t testing.TB, c *iam.Client, name, policy string) aws.Credentials {
	t.Helper()
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: &name}))
	if policy != "" {
		must(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: &name, PolicyName: aws.String("p"), PolicyDocument: &policy}))
	}
	k := must(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: &name}))
	return aws.Credentials{AccessKeyID: *k.AccessKey.AccessKeyId, SecretAccessKey: *k.AccessKey.SecretAccessKey}
}

// TestTopicPolicy: the topic policy is evaluated for other accounts, IAM
// users of the owner's account and service principals.
func TestTopicPolicy(t *testing.T) {
	eachDriver(t, func(t *testing.T, dbURL string) {
		e := env(t, dbURL)
		c := client(e)
		arn := createTopic(t, c, "shared")
		publish := func(c *sns.Client) error {
			_, err := c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: aws.String("hi")})
			return err
		}

		// Another account: denied by the default policy, allowed for
		// exactly what a statement grants it.
		const other = "222233334444"
		oc, err := e.Server.Accounts.CreateAccount(ctx, other)
		if err != nil {
			t.Fatal(err)
		}
		b := client(e, aws.Credentials{AccessKeyID: oc.AccessKeyID, SecretAccessKey: oc.SecretAccessKey})
		if err := publish(b); code(err) != "AuthorizationError" || status(err) != 403 || !strings.Contains(message(err), "arn:aws:iam::"+other+":root") {
			t.Fatalf("other account, default policy: %s %s", code(err), message(err))
		}
		setPolicy(t, c, arn, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+other+`:root"},"Action":"SNS:Publish","Resource":"`+arn+`"}]}`)
		if err := publish(b); err != nil {
			t.Fatalf("other account, granted Publish: %v", err)
		}
		if _, err := b.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &arn}); code(err) != "AuthorizationError" {
			t.Fatalf("other account, GetTopicAttributes not granted: %v", err)
		}
		if _, err := b.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("http"), Endpoint: aws.String("http://example.com/")}); code(err) != "AuthorizationError" {
			t.Fatalf("other account, Subscribe not granted: %v", err)
		}

		// IAM users of the owner's account: the identity side decides,
		// unless the topic policy denies explicitly or names them.
		ic := iam.NewFromConfig(e.Config())
		none := client(e, iamUser(t, ic, "none", ""))
		pub := client(e, iamUser(t, ic, "publisher", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":"*"}]}`))
		named := client(e, iamUser(t, ic, "named", ""))
		denied := client(e, iamUser(t, ic, "denied", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sns:*","Resource":"*"}]}`))
		if err := publish(none); code(err) != "AuthorizationError" {
			t.Fatalf("user without policies: %v", err)
		}
		if err := publish(pub); err != nil {
			t.Fatalf("user allowed by its identity policy: %v", err)
		}
		acct := e.AccountID
		setPolicy(t, c, arn, `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct+`:user/named"},"Action":"sns:Publish","Resource":"`+arn+`"},
			{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::`+acct+`:user/denied"},"Action":"sns:*","Resource":"`+arn+`"}]}`)
		if err := publish(named); err != nil {
			t.Fatalf("user named by the topic policy: %v", err)
		}
		if err := publish(denied); code(err) != "AuthorizationError" || !strings.Contains(message(err), "explicit deny") {
			t.Fatalf("user denied by the topic policy: %s %s", code(err), message(err))
		}
		if err := publish(b); code(err) != "AuthorizationError" {
			t.Fatalf("other account after its grant was replaced: %v", err)
		}

		// Service principals: only the topic policy lets them in, with its
		// conditions on aws:SourceArn / aws:SourceAccount.
		s := e.Server.SNS
		good := snssvc.ServiceCaller{Service: "cloudtrail.amazonaws.com", SourceARN: "arn:aws:cloudtrail:us-east-1:" + acct + ":trail/good"}
		bad := good
		bad.SourceARN = "arn:aws:cloudtrail:us-east-1:" + acct + ":trail/other"
		foreign := snssvc.ServiceCaller{Service: "cloudtrail.amazonaws.com", SourceARN: "arn:aws:cloudtrail:us-east-1:999988887777:trail/good"}
		wrongService := good
		wrongService.Service = "s3.amazonaws.com"
		if err := s.CheckPublishAccess(ctx, arn, good); code(err) != "AuthorizationError" {
			t.Fatalf("cloudtrail without a statement: %v", err)
		}
		setPolicy(t, c, arn, `{"Version":"2012-10-17","Statement":[{"Sid":"AWSCloudTrailSNSPolicy","Effect":"Allow",
			"Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"SNS:Publish","Resource":"`+arn+`",
			"Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:`+acct+`:trail/good"},"StringEquals":{"aws:SourceAccount":"`+acct+`"}}}]}`)
		for _, tc := range []struct {
			name string
			from snssvc.ServiceCaller
			want string
		}{
			{"matching SourceArn", good, ""},
			{"wrong SourceArn", bad, "AuthorizationError"},
			{"other account's trail", foreign, "AuthorizationError"},
			{"another service", wrongService, "AuthorizationError"},
			{"no SourceArn", snssvc.ServiceCaller{Service: "cloudtrail.amazonaws.com"}, "AuthorizationError"},
		} {
			if err := s.CheckPublishAccess(ctx, arn, tc.from); code(err) != tc.want && !(tc.want == "" && err == nil) {
				t.Errorf("%s: %v", tc.name, err)
			}
		}
		if err := s.CheckPublishAccess(ctx, "arn:aws:sns:us-east-1:"+acct+":missing", good); code(err) != "NotFound" {
			t.Fatalf("missing topic: %v", err)
		}
		if err := s.CheckPublishAccess(ctx, "not-an-arn", good); code(err) != "InvalidParameter" {
			t.Fatalf("malformed ARN: %v", err)
		}
		if _, err := s.PublishAs(ctx, nil, arn, bad, snssvc.ServiceMessage{Message: "x"}); code(err) != "AuthorizationError" {
			t.Fatalf("PublishAs with the wrong SourceArn: %v", err)
		}
		if _, err := s.PublishAs(ctx, nil, arn, good, snssvc.ServiceMessage{Message: "x"}); err != nil {
			t.Fatalf("PublishAs: %v", err)
		}
		// Denied now that the policy names only cloudtrail.
		if err := publish(named); code(err) != "AuthorizationError" {
			t.Fatalf("named user after the policy changed: %v", err)
		}
	})
}

// TestPublishAs delivers a service's message to subscribers, in the
// caller's transaction: a rolled-back transaction publishes nothing.
func TestPublishAs(t *testing.T) {
	e := env(t, "")
	c := client(e)
	wake := e.Server.SNS.Wake
	arn := createTopic(t, c, "trail-notices")
	setPolicy(t, c, arn, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"SNS:Publish","Resource":"`+arn+`"}]}`)
	sub := newSubscriber(t)
	confirmed(t, c, arn, sub, wake, nil)
	s := e.Server.SNS
	from := snssvc.ServiceCaller{Service: "cloudtrail.amazonaws.com", SourceARN: "arn:aws:cloudtrail:us-east-1:" + e.AccountID + ":trail/t"}
	rollback := context.Canceled
	err := e.Server.DB.Write(ctx, func(tx *store.Tx) error {
		if _, err := s.PublishAs(ctx, tx, arn, from, snssvc.ServiceMessage{Message: "rolled back"}); err != nil {
			t.Fatal(err)
		}
		return rollback
	})
	if err != rollback {
		t.Fatal(err)
	}
	var id string
	err = e.Server.DB.Write(ctx, func(tx *store.Tx) error {
		var err error
		id, err = s.PublishAs(ctx, tx, arn, from, snssvc.ServiceMessage{Subject: "CloudTrail", Message: `{"s3Bucket":"b","s3ObjectKey":["k"]}`})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	must(c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: aws.String("after")}))
	got := sub.WaitGot(2, wake)
	if len(got) != 2 || got[0].MessageId != id || got[0].Message != `{"s3Bucket":"b","s3ObjectKey":["k"]}` || *got[0].Subject != "CloudTrail" || got[1].Message != "after" {
		t.Fatalf("received %+v", got)
	}
	if _, err := s.PublishAs(ctx, nil, arn, from, snssvc.ServiceMessage{Message: ""}); code(err) != "InvalidParameter" {
		t.Fatalf("empty message: %v", err)
	}
}
