package sns_test

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"lextrail/internal/audit"
	"lextrail/internal/server"
	"lextrail/internal/store"
	"lextrail/internal/testenv"
)

// TestSubscriptionOptions: raw message delivery, per-protocol messages
// (MessageStructure json), AuthenticateOnUnsubscribe, subscribing again,
// and paging over subscriptions.
func TestSubscriptionOptions(t *testing.T) {
	e := env(t, "")
	c := client(e)
	wake := e.Server.SNS.Wake
	arn := createTopic(t, c, "options")

	raw := newSubscriber(t)
	raw.raw = true
	rawARN := confirmed(t, c, arn, raw, wake, map[string]string{"RawMessageDelivery": "true"})
	js := newSubscriber(t)
	jsARN := confirmed(t, c, arn, js, wake, nil)

	must(c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, MessageStructure: aws.String("json"),
		Message: aws.String(`{"default":"for everyone","http":"for http endpoints","email":"for email"}`)}))
	must(c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: aws.String(`plain {"json":"text"}`)}))
	if g := raw.WaitGot(2, wake); string(g[0].Raw) != "for http endpoints" || string(g[1].Raw) != `plain {"json":"text"}` {
		t.Fatalf("raw subscriber got %q, %q", g[0].Raw, g[1].Raw)
	}
	if g := js.WaitGot(2, wake); g[0].Message != "for http endpoints" || g[1].Message != `plain {"json":"text"}` {
		t.Fatalf("json subscriber got %+v", g)
	}
	// Raw delivery can be switched off.
	must(c.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: &rawARN, AttributeName: aws.String("RawMessageDelivery"), AttributeValue: aws.String("false")}))
	if a := must(c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: &rawARN})).Attributes; a["RawMessageDelivery"] != "false" {
		t.Fatalf("RawMessageDelivery %v", a)
	}
	raw.mu.Lock()
	raw.raw = false // signed JSON from now on
	raw.mu.Unlock()
	if _, err := c.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: &rawARN, AttributeName: aws.String("FilterPolicy"), AttributeValue: aws.String("{}")}); code(err) != "InvalidParameter" {
		t.Fatalf("FilterPolicy: %v", err)
	}

	// Subscribing a confirmed endpoint again answers its ARN; with other
	// attributes it is refused.
	again := must(c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("http"), Endpoint: aws.String(js.URL())}))
	if *again.SubscriptionArn != jsARN {
		t.Fatalf("resubscribe answered %q, want %q", *again.SubscriptionArn, jsARN)
	}
	if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("http"), Endpoint: aws.String(js.URL()),
		Attributes: map[string]string{"RawMessageDelivery": "true"}}); code(err) != "InvalidParameter" {
		t.Fatalf("resubscribe with other attributes: %v", err)
	}

	// A pending endpoint subscribed again gets the confirmation again;
	// ReturnSubscriptionArn gives the pending subscription's ARN.
	p := newSubscriber(t)
	first := must(c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("http"), Endpoint: aws.String(p.URL()), ReturnSubscriptionArn: true}))
	c1 := p.Confirmation(wake)
	second := must(c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("http"), Endpoint: aws.String(p.URL()), ReturnSubscriptionArn: true}))
	c2 := p.Confirmation(wake)
	if *first.SubscriptionArn != *second.SubscriptionArn || !strings.HasPrefix(*first.SubscriptionArn, arn+":") || c1.MessageId == c2.MessageId || c1.Token != c2.Token {
		t.Fatalf("resubscribing a pending endpoint: %s %s, %s/%s", *first.SubscriptionArn, *second.SubscriptionArn, c1.MessageId, c2.MessageId)
	}
	if a := must(c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: first.SubscriptionArn})).Attributes; a["PendingConfirmation"] != "true" {
		t.Fatalf("pending subscription attributes %v", a)
	}

	// AuthenticateOnUnsubscribe: the UnsubscribeURL no longer works, the
	// signed call does.
	au := newSubscriber(t)
	must(c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("http"), Endpoint: aws.String(au.URL())}))
	tok := au.Confirmation(wake).Token
	auARN := *must(c.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: &arn, Token: &tok, AuthenticateOnUnsubscribe: aws.String("true")})).SubscriptionArn
	if a := must(c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: &auARN})).Attributes; a["ConfirmationWasAuthenticated"] != "true" {
		t.Fatalf("ConfirmationWasAuthenticated %v", a)
	}
	must(c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: aws.String("to au")}))
	m := au.WaitGot(1, wake)
	if code, body := get(t, m[0].UnsubscribeURL); code != 403 || !strings.Contains(body, "<Code>AuthorizationError</Code>") {
		t.Fatalf("unauthenticated unsubscribe of a protected subscription: %d %s", code, body)
	}
	must(c.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: &auARN}))
	if _, err := c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: &auARN}); code(err) != "NotFound" {
		t.Fatalf("after Unsubscribe: %v", err)
	}

	// The public endpoint's other answers.
	for _, tc := range []struct {
		path string
		code int
		want string
	}{
		{"/_lextrail/sns/SimpleNotificationService-0000.pem", 404, "NotFound"},
		{"/_lextrail/sns/?Action=ConfirmSubscription&TopicArn=" + arn + "&Token=bad", 400, "InvalidParameter"},
		{"/_lextrail/sns/?Action=ConfirmSubscription&TopicArn=nope&Token=bad", 400, "InvalidParameter"},
		{"/_lextrail/sns/?Action=Unsubscribe&SubscriptionArn=" + arn + ":0b9a4a6e-3c1f-4f0e-9b7a-1d2e3f4a5b6c", 404, "NotFound"},
		{"/_lextrail/sns/?Action=Publish", 400, "InvalidAction"},
		{"/_lextrail/sns/", 400, "MissingAction"},
	} {
		code, body := get(t, e.URL+tc.path)
		if code != tc.code || !strings.Contains(body, "<Code>"+tc.want+"</Code>") {
			t.Errorf("GET %s: %d %s", tc.path, code, body)
		}
	}
	resp, err := http.Post(e.URL+"/_lextrail/sns/?Action=Unsubscribe", "text/plain", nil)
	if err != nil || resp.StatusCode != 405 {
		t.Errorf("POST to the public endpoint: %v %v", err, resp)
	}
	// HEAD (link checkers) must not confirm.
	p2 := newSubscriber(t)
	must(c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("http"), Endpoint: aws.String(p2.URL())}))
	if resp, err := http.Head(p2.Confirmation(wake).SubscribeURL); err != nil || resp.StatusCode != 405 {
		t.Errorf("HEAD SubscribeURL: %v %v", err, resp)
	}
	if a := topicAttrs(t, c, arn); a["SubscriptionsPending"] != "2" {
		t.Errorf("after HEAD of SubscribeURL: %v pending, want 2", a["SubscriptionsPending"])
	}

	// Paging over subscriptions: 120 pending ones plus the 4 above.
	for i := 0; i < 120; i++ {
		must(c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("http"), Endpoint: aws.String(fmt.Sprintf("http://127.0.0.1:1/s%d", i))}))
	}
	count := func(p interface {
		HasMorePages() bool
	}, next func() (int, error)) (n, pages int) {
		for p.HasMorePages() {
			k, err := next()
			if err != nil {
				t.Fatal(err)
			}
			if k > 100 {
				t.Fatalf("page of %d", k)
			}
			n += k
			pages++
		}
		return
	}
	bt := sns.NewListSubscriptionsByTopicPaginator(c, &sns.ListSubscriptionsByTopicInput{TopicArn: &arn})
	n, pages := count(bt, func() (int, error) {
		o, err := bt.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		return len(o.Subscriptions), nil
	})
	if n != 124 || pages != 2 {
		t.Fatalf("ListSubscriptionsByTopic: %d in %d pages, want 124 in 2", n, pages)
	}
	all := sns.NewListSubscriptionsPaginator(c, &sns.ListSubscriptionsInput{})
	n, pages = count(all, func() (int, error) {
		o, err := all.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		return len(o.Subscriptions), nil
	})
	if n != 124 || pages != 2 {
		t.Fatalf("ListSubscriptions: %d in %d pages, want 124 in 2", n, pages)
	}
	// Deleting the topic deletes its subscriptions.
	must(c.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: &arn}))
	if l := must(c.ListSubscriptions(ctx, &sns.ListSubscriptionsInput{})); len(l.Subscriptions) != 0 {
		t.Fatalf("%d subscriptions left after DeleteTopic", len(l.Subscriptions))
	}
}

// TestHTTPS delivers to an https endpoint (lextrail's client trusting the
// test server's certificate through server.Config.SNSHTTPClient).
func TestHTTPS(t *testing.T) {
	sub := &subscriber{t: t, status: 200, confirm: make(chan snsMessage, 4), certs: map[string]*x509.Certificate{}, arrivals: make(chan struct{}, 1)}
	sub.srv = httptest.NewTLSServer(http.HandlerFunc(sub.serve))
	t.Cleanup(sub.srv.Close)
	e := testenv.New(t, testenv.Options{Configure: func(cfg *server.Config) { cfg.SNSHTTPClient = sub.srv.Client() }})
	c := client(e)
	wake := e.Server.SNS.Wake
	arn := createTopic(t, c, "secure")
	if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("https"), Endpoint: aws.String("http://insecure.example.com/")}); code(err) != "InvalidParameter" {
		t.Fatalf("https subscription to an http URL: %v", err)
	}
	must(c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("https"), Endpoint: aws.String(sub.URL())}))
	tok := sub.Confirmation(wake).Token
	must(c.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: &arn, Token: &tok}))
	must(c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: aws.String("over TLS")}))
	if g := sub.WaitGot(1, wake); g[0].Message != "over TLS" {
		t.Fatalf("got %+v", g)
	}
}

// TestPublishDataEvent: Publish is a data event (not in event history),
// recorded with the message hidden and the topic as resource.
func TestPublishDataEvent(t *testing.T) {
	e := env(t, "")
	c := client(e)
	arn := createTopic(t, c, "audited")
	id := *must(c.Publish(ctx, &sns.PublishInput{TopicArn: &arn, Message: aws.String("secret text"), Subject: aws.String("secret subject")})).MessageId
	var rec string
	err := e.Server.DB.Read(ctx, func(tx *store.Tx) error {
		var seq int64
		if err := tx.QueryRow(ctx, `SELECT seq FROM events WHERE event_name = 'Publish'`).Scan(&seq); err != nil {
			return err
		}
		return audit.StoredRecords(ctx, tx, func(s int64, r []byte) error {
			if s == seq {
				rec = string(r)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatalf("no Publish event: %v", err)
	}
	var r struct {
		EventCategory     string
		ManagementEvent   bool
		ReadOnly          bool
		RequestParameters map[string]any
		ResponseElements  map[string]any
		Resources         []map[string]string
	}
	if err := json.Unmarshal([]byte(rec), &r); err != nil {
		t.Fatal(err)
	}
	if r.EventCategory != "Data" || r.ManagementEvent || r.ReadOnly || r.RequestParameters["topicArn"] != arn ||
		r.RequestParameters["message"] != "HIDDEN_DUE_TO_SECURITY_REASONS" || r.RequestParameters["subject"] != "HIDDEN_DUE_TO_SECURITY_REASONS" ||
		r.ResponseElements["messageId"] != id || len(r.Resources) != 1 || r.Resources[0]["type"] != "AWS::SNS::Topic" || r.Resources[0]["ARN"] != arn {
		t.Fatalf("Publish record %s", rec)
	}
	if strings.Contains(rec, "secret") {
		t.Fatalf("the message reached the record: %s", rec)
	}
	ev := must(cloudtrail.NewFromConfig(e.Config()).LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
		{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("Publish")}}}))
	if len(ev.Events) != 0 {
		t.Fatalf("Publish is in event history: %d events", len(ev.Events))
	}
}

// TestConfirmationExpiry: a confirmation token is valid for two days;
// then it is refused and the pending subscription is deleted.
func TestConfirmationExpiry(t *testing.T) {
	e := env(t, "")
	c := client(e)
	wake := e.Server.SNS.Wake
	arn := createTopic(t, c, "expiring")
	sub := newSubscriber(t)
	must(c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &arn, Protocol: aws.String("http"), Endpoint: aws.String(sub.URL())}))
	conf := sub.Confirmation(wake)
	start := e.Clock.Now()
	e.Clock.Set(start.Add(48*time.Hour + time.Second))
	// The SDK signs with the real time; the public URL needs no signature.
	if code, body := get(t, conf.SubscribeURL); code != 400 || !strings.Contains(body, "expired") {
		t.Fatalf("expired token: %d %s", code, body)
	}
	if err := e.Server.SNS.Worker().Purge(ctx); err != nil {
		t.Fatal(err)
	}
	e.Clock.Set(start)
	if l := must(c.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: &arn})); len(l.Subscriptions) != 0 {
		t.Fatalf("expired pending subscription kept: %+v", l.Subscriptions)
	}
}
