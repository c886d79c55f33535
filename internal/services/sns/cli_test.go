package sns_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"lextrail/internal/testenv"
)

// TestAWSCLI drives SNS with the real AWS CLI where it is installed:
// topic, attributes, an http subscription confirmed with
// confirm-subscription, publish with subject and attributes received by
// the signature-checking subscriber, lists, unsubscribe, delete, and an
// error as the CLI shows it.
func TestAWSCLI(t *testing.T) {
	bin := testenv.LookTool(t, "aws", "LEXTRAIL_REQUIRE_AWSCLI")
	e := env(t, "")
	wake := e.Server.SNS.Wake
	aws := func(args ...string) (map[string]any, string, error) {
		t.Helper()
		cmd := exec.Command(bin, append(append([]string{"sns"}, args...), "--endpoint-url", e.URL, "--output", "json")...)
		cmd.Env = e.CLIEnv(t)
		out, err := cmd.CombinedOutput()
		m := map[string]any{}
		if err == nil && len(strings.TrimSpace(string(out))) > 0 {
			if jerr := json.Unmarshal(out, &m); jerr != nil {
				t.Fatalf("aws sns %s: %v: %s", strings.Join(args, " "), jerr, out)
			}
		}
		return m, string(out), err
	}
	run := func(args ...string) map[string]any {
		t.Helper()
		m, out, err := aws(args...)
		if err != nil {
			t.Fatalf("aws sns %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return m
	}
	arn := run("create-topic", "--name", "cli-topic", "--tags", "Key=team,Value=cli")["TopicArn"].(string)
	run("set-topic-attributes", "--topic-arn", arn, "--attribute-name", "DisplayName", "--attribute-value", "CLI topic")
	attrs := run("get-topic-attributes", "--topic-arn", arn)["Attributes"].(map[string]any)
	if attrs["DisplayName"] != "CLI topic" || attrs["Owner"] != e.AccountID || !strings.Contains(attrs["Policy"].(string), "__default_policy_ID") {
		t.Fatalf("get-topic-attributes: %v", attrs)
	}
	sub := newSubscriber(t)
	if got := run("subscribe", "--topic-arn", arn, "--protocol", "http", "--notification-endpoint", sub.URL())["SubscriptionArn"]; got != "pending confirmation" {
		t.Fatalf("subscribe: %v", got)
	}
	tok := sub.Confirmation(wake).Token
	subARN := run("confirm-subscription", "--topic-arn", arn, "--token", tok)["SubscriptionArn"].(string)
	id := run("publish", "--topic-arn", arn, "--message", "hello from the CLI", "--subject", "CLI",
		"--message-attributes", `{"kind":{"DataType":"String","StringValue":"test"}}`)["MessageId"].(string)
	got := sub.WaitGot(1, wake)
	if got[0].MessageId != id || got[0].Message != "hello from the CLI" || *got[0].Subject != "CLI" || got[0].MessageAttributes["kind"].Value != "test" {
		t.Fatalf("received %+v", got[0])
	}
	subs := run("list-subscriptions-by-topic", "--topic-arn", arn)["Subscriptions"].([]any)
	if len(subs) != 1 || subs[0].(map[string]any)["SubscriptionArn"] != subARN {
		t.Fatalf("list-subscriptions-by-topic: %v", subs)
	}
	run("unsubscribe", "--subscription-arn", subARN)
	if subs := run("list-subscriptions")["Subscriptions"].([]any); len(subs) != 0 {
		t.Fatalf("list-subscriptions after unsubscribe: %v", subs)
	}
	if tags := run("list-tags-for-resource", "--resource-arn", arn)["Tags"].([]any); len(tags) != 1 {
		t.Fatalf("list-tags-for-resource: %v", tags)
	}
	if topics := run("list-topics")["Topics"].([]any); len(topics) != 1 || topics[0].(map[string]any)["TopicArn"] != arn {
		t.Fatalf("list-topics: %v", topics)
	}
	run("delete-topic", "--topic-arn", arn)
	_, out, err := aws("publish", "--topic-arn", arn, "--message", "x")
	if err == nil || !strings.Contains(out, "NotFound") || !strings.Contains(out, "Topic does not exist") {
		t.Fatalf("publish to a deleted topic: %v\n%s", err, out)
	}
	_, out, err = aws("subscribe", "--topic-arn", "arn:aws:sns:us-east-1:"+e.AccountID+":x", "--protocol", "email", "--notification-endpoint", "a@example.com")
	if err == nil || !strings.Contains(out, "InvalidParameter") || !strings.Contains(out, "http and https") {
		t.Fatalf("email subscription: %v\n%s", err, out)
	}
}
