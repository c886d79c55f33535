package sns

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestStringToSign matches the string to sign SNS documents for a
// Notification and a SubscriptionConfirmation.
func TestStringToSign(t *testing.T) {
	subject := "My subject"
	n := &wireMessage{Type: typeNotification, Message: "My Test Message", MessageID: "4d4dc071-ddbf-465d-bba8-08f81c89da64",
		Subject: &subject, Timestamp: "2019-01-31T04:37:04.321Z", TopicArn: "arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P",
		UnsubscribeURL: "ignored", SigningCertURL: "ignored"}
	want := "Message\nMy Test Message\nMessageId\n4d4dc071-ddbf-465d-bba8-08f81c89da64\nSubject\nMy subject\nTimestamp\n2019-01-31T04:37:04.321Z\n" +
		"TopicArn\narn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P\nType\nNotification\n"
	if got := stringToSign(n); got != want {
		t.Errorf("notification:\n%q\nwant\n%q", got, want)
	}
	n.Subject = nil
	if got := stringToSign(n); strings.Contains(got, "Subject") {
		t.Errorf("notification without subject signs a Subject: %q", got)
	}
	c := &wireMessage{Type: typeConfirmation, Message: "My Test Message", MessageID: "3d891288-136d-417f-bc05-901c108273ee",
		SubscribeURL: "https://sns.us-east-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P&Token=233...",
		Timestamp:    "2019-01-31T19:25:13.719Z", Token: "233...", TopicArn: "arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P"}
	want = "Message\nMy Test Message\nMessageId\n3d891288-136d-417f-bc05-901c108273ee\nSubscribeURL\n" + c.SubscribeURL +
		"\nTimestamp\n2019-01-31T19:25:13.719Z\nToken\n233...\nTopicArn\narn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P\nType\nSubscriptionConfirmation\n"
	if got := stringToSign(c); got != want {
		t.Errorf("confirmation:\n%q\nwant\n%q", got, want)
	}
}

// TestWireFormat: the JSON members appear in SNS's order, Subject and
// UnsubscribeURL only when present, text unescaped.
func TestWireFormat(t *testing.T) {
	s := "S"
	m := &wireMessage{Type: typeNotification, MessageID: "id", TopicArn: "arn", Subject: &s, Message: "<a & b>", Timestamp: "ts",
		SignatureVersion: "1", Signature: "sig", SigningCertURL: "cert", UnsubscribeURL: "unsub"}
	got := string(m.encode())
	last := -1
	for _, k := range []string{`"Type"`, `"MessageId"`, `"TopicArn"`, `"Subject"`, `"Message"`, `"Timestamp"`, `"SignatureVersion"`, `"Signature"`, `"SigningCertURL"`, `"UnsubscribeURL"`} {
		i := strings.Index(got, k+":")
		if i < 0 || i < last {
			t.Fatalf("member %s missing or out of order in %s", k, got)
		}
		last = i
	}
	if !strings.Contains(got, `"<a & b>"`) || strings.Contains(got, "Token") || strings.Contains(got, "SubscribeURL\"") {
		t.Errorf("encoding %s", got)
	}
}

// TestRetrySchedule: the four phases of a retry policy, linear and
// exponential backoff.
func TestRetrySchedule(t *testing.T) {
	secs := func(r RetryPolicy) []float64 {
		var out []float64
		for k := 1; k <= r.NumRetries; k++ {
			out = append(out, r.Delay(k).Seconds())
		}
		return out
	}
	cases := []struct {
		name string
		p    RetryPolicy
		want []float64
	}{
		{"AWS default", RetryPolicy{MinDelayTarget: 20, MaxDelayTarget: 20, NumRetries: 3, BackoffFunction: "linear"}, []float64{20, 20, 20}},
		{"linear", RetryPolicy{MinDelayTarget: 10, MaxDelayTarget: 40, NumRetries: 4, BackoffFunction: "linear"}, []float64{10, 20, 30, 40}},
		{"exponential", RetryPolicy{MinDelayTarget: 1, MaxDelayTarget: 8, NumRetries: 4, BackoffFunction: "exponential"}, []float64{1, 2, 4, 8}},
		{"phases", RetryPolicy{MinDelayTarget: 2, MaxDelayTarget: 16, NumRetries: 9, NumNoDelayRetries: 2, NumMinDelayRetries: 1,
			NumMaxDelayRetries: 2, BackoffFunction: "exponential"}, []float64{0, 0, 2, 2, 4, 8, 16, 16, 16}},
		{"lextrail default", DefaultRetryPolicy, []float64{1, 1.576, 2.484, 3.915, 6.170, 9.724, 15.326, 24.155, 38.070, 60}},
	}
	for _, tc := range cases {
		got := secs(tc.p)
		if len(got) != len(tc.want) {
			t.Fatalf("%s: %v", tc.name, got)
		}
		for i := range got {
			if d := got[i] - tc.want[i]; d > 0.002 || d < -0.002 {
				t.Errorf("%s: retry %d after %.3fs, want %.3fs (%v)", tc.name, i+1, got[i], tc.want[i], got)
			}
		}
	}
	if err := checkRetryPolicy(&DefaultRetryPolicy); err != nil {
		t.Fatalf("default policy invalid: %v", err)
	}
}

func TestParseDeliveryPolicy(t *testing.T) {
	cases := []struct {
		doc, err string
	}{
		{``, ""},
		{`{}`, ""},
		{`{"http":{}}`, ""},
		{`{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":10,"numRetries":6,"backoffFunction":"exponential"},"defaultThrottlePolicy":{"maxReceivesPerSecond":5},"disableSubscriptionOverrides":true}}`, ""},
		{`{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":0,"maxDelayTarget":10,"numRetries":1}}}`, "minDelayTarget"},
		{`{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":10,"maxDelayTarget":5,"numRetries":1}}}`, "maxDelayTarget"},
		{`{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":5,"numRetries":101}}}`, "numRetries"},
		{`{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":5,"numRetries":2,"numNoDelayRetries":3}}}`, "add up"},
		{`{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":3600,"maxDelayTarget":3600,"numRetries":2}}}`, "total retry time"},
		{`{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":5,"numRetries":2,"backoffFunction":"geometric"}}}`, "not supported by lextrail"},
		{`{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":"1"}}}`, "must be a JSON number"},
		{`{"http":{"defaultThrottlePolicy":{"maxReceivesPerSecond":0}}}`, "maxReceivesPerSecond"},
		{`{"http":{"defaultRequestPolicy":{"headerContentType":"nonsense"}}}`, "media type"},
		{`{"http":{"retry":1}}`, "unknown field"},
		{`{"http":`, "not valid JSON"},
		{`{} {}`, "unexpected data"},
	}
	for _, tc := range cases {
		_, err := parseDeliveryPolicy(tc.doc)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.doc, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: got %v, want an error containing %q", tc.doc, err, tc.err)
		}
	}
}

// FuzzDeliveryPolicy: parsing never panics, and an accepted policy's
// EffectiveDeliveryPolicy parses back to the same effective policy.
func FuzzDeliveryPolicy(f *testing.F) {
	f.Add(`{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":10,"numRetries":6,"backoffFunction":"exponential"}}}`)
	f.Add(`{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":3600,"numRetries":100,"numMaxDelayRetries":99}}}`)
	f.Add(`{"http":{"defaultThrottlePolicy":{"maxReceivesPerSecond":1},"defaultRequestPolicy":{"headerContentType":"application/json"}}}`)
	f.Add(`{"http":null}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, doc string) {
		e, err := parseDeliveryPolicy(doc)
		if err != nil {
			return
		}
		e2, err := parseDeliveryPolicy(e.effectiveJSON())
		if err != nil || e2 != e {
			t.Fatalf("effective policy %s does not round-trip: %v %+v %+v", e.effectiveJSON(), err, e, e2)
		}
		var total time.Duration
		for k := 1; k <= e.Retry.NumRetries; k++ {
			d := e.Retry.Delay(k)
			if d < 0 || d > maxDelaySeconds*time.Second {
				t.Fatalf("retry %d delay %s", k, d)
			}
			total += d
		}
		if total > maxTotalRetryTime {
			t.Fatalf("accepted a policy retrying for %s", total)
		}
	})
}

// FuzzMessage: message validation never panics; an accepted structured
// message yields a string for every protocol.
func FuzzMessage(f *testing.F) {
	f.Add("hello", "subject", "", "n", "Number", "1.5")
	f.Add(`{"default":"d","http":"h"}`, "", "json", "a.b", "String.custom", "v")
	f.Add(`{"default":1}`, "", "json", "AWS.x", "Binary", "")
	f.Add("x", "\x00", "xml", "..", "Number", "1e400")
	f.Fuzz(func(t *testing.T, message, subject, structure, name, typ, value string) {
		var sp *string
		if subject != "" {
			sp = &subject
		}
		attrs := map[string]MessageAttributeValue{}
		if name != "" {
			attrs[name] = MessageAttributeValue{DataType: typ, StringValue: &value, BinaryValue: []byte(value)}
		}
		o, err := checkMessage(message, sp, &structure, attrs)
		if err != nil {
			return
		}
		for _, p := range []string{"http", "https"} {
			_ = forProtocol(o.Message, o.Structure, p)
		}
		if b, err := json.Marshal(o.Attrs); err != nil || len(b) == 0 {
			t.Fatalf("attributes do not encode: %v", err)
		}
	})
}

// FuzzARN: the ARN parsers never panic and agree with TopicARN.
func FuzzARN(f *testing.F) {
	f.Add("arn:aws:sns:us-east-1:123456789012:topic")
	f.Add("arn:aws:sns:us-east-1:123456789012:topic:0b9a4a6e-3c1f-4f0e-9b7a-1d2e3f4a5b6c")
	f.Add("arn:aws:sns:::")
	f.Fuzz(func(t *testing.T, s string) {
		if r, a, n, ok := parseTopicARN(s); ok && TopicARN(r, a, n) != s {
			t.Fatalf("%q parsed as %s %s %s", s, r, a, n)
		}
		if topic, ok := parseSubscriptionARN(s); ok {
			if _, _, _, tok := parseTopicARN(topic); !tok || !strings.HasPrefix(s, topic+":") {
				t.Fatalf("subscription %q with topic %q", s, topic)
			}
		}
	})
}
