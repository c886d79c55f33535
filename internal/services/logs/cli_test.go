package logs_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lextrail/internal/testenv"
)

// TestAWSCLI runs the stock AWS CLI against lextrail: create-log-group,
// create-log-stream, put-log-events, get-log-events, filter-log-events
// with a JSON filter pattern, describe-log-groups, start-query and
// get-query-results, and an error. Skipped (with the reason) when aws is
// not installed, unless LEXTRAIL_REQUIRE_AWSCLI=1.
func TestAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode: skipping the AWS CLI lane")
	}
	awsBin := testenv.LookTool(t, "aws", "LEXTRAIL_REQUIRE_AWSCLI")
	f := newFixture(t)
	env := f.env.CLIEnv(t)
	dir := t.TempDir()
	run := func(args ...string) map[string]any {
		t.Helper()
		args = append([]string{"logs", "--endpoint-url", f.env.URL, "--output", "json"}, args...)
		out, code := runCLI(t, awsBin, env, args...)
		if code != 0 {
			t.Fatalf("aws %s: exit %d: %s", strings.Join(args, " "), code, out)
		}
		var m map[string]any
		if len(bytes.TrimSpace(out)) > 0 {
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatalf("aws %s: %v: %s", strings.Join(args, " "), err, out)
			}
		}
		return m
	}
	fail := func(want string, args ...string) {
		t.Helper()
		args = append([]string{"logs", "--endpoint-url", f.env.URL, "--output", "json"}, args...)
		out, code := runCLI(t, awsBin, env, args...)
		if code == 0 || !bytes.Contains(out, []byte(want)) {
			t.Fatalf("aws %s: exit %d, want %s: %s", strings.Join(args, " "), code, want, out)
		}
	}
	const g = "lex-text-logs"
	run("create-log-group", "--log-group-name", g, "--tags", "team=bots")
	run("create-log-stream", "--log-group-name", g, "--log-stream-name", "aws/lex/OrderFlowers/prod/1/a")
	var evs []map[string]any
	for i, doc := range []string{
		`{"botName":"OrderFlowers","inputTranscript":"i want roses","missedUtterance":false}`,
		`{"botName":"OrderFlowers","inputTranscript":"what is the weather","missedUtterance":true}`,
		`plain ERROR line`,
	} {
		evs = append(evs, map[string]any{"timestamp": f.ms(time.Duration(i-3) * time.Minute), "message": doc})
	}
	b, _ := json.Marshal(evs)
	file := filepath.Join(dir, "events.json")
	os.WriteFile(file, b, 0o600)
	put := run("put-log-events", "--log-group-name", g, "--log-stream-name", "aws/lex/OrderFlowers/prod/1/a", "--log-events", "file://"+file)
	if tok, _ := put["nextSequenceToken"].(string); len(tok) != 56 {
		t.Fatalf("put-log-events %v", put)
	}
	get := run("get-log-events", "--log-group-name", g, "--log-stream-name", "aws/lex/OrderFlowers/prod/1/a", "--start-from-head")
	if events, _ := get["events"].([]any); len(events) != 3 {
		t.Fatalf("get-log-events %v", get)
	}
	fl := run("filter-log-events", "--log-group-name", g, "--filter-pattern", `{ $.botName = "OrderFlowers" && $.missedUtterance IS TRUE }`)
	events, _ := fl["events"].([]any)
	if len(events) != 1 || !strings.Contains(fmt.Sprint(events[0]), "what is the weather") {
		t.Fatalf("filter-log-events %v", fl)
	}
	fl = run("filter-log-events", "--log-group-name", g, "--filter-pattern", "ERROR")
	if events, _ = fl["events"].([]any); len(events) != 1 {
		t.Fatalf("filter-log-events ERROR %v", fl)
	}
	dg := run("describe-log-groups", "--log-group-name-prefix", "lex-")
	groups, _ := dg["logGroups"].([]any)
	if len(groups) != 1 || groups[0].(map[string]any)["arn"] != "arn:aws:logs:us-east-1:123456789012:log-group:lex-text-logs:*" {
		t.Fatalf("describe-log-groups %v", dg)
	}
	sq := run("start-query", "--log-group-name", g, "--start-time", fmt.Sprint(f.now.Add(-time.Hour).Unix()), "--end-time", fmt.Sprint(f.now.Unix()),
		"--query-string", "fields inputTranscript | filter missedUtterance = 1")
	id, _ := sq["queryId"].(string)
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := run("get-query-results", "--query-id", id)
		if r["status"] == "Complete" {
			if !strings.Contains(fmt.Sprint(r["results"]), "what is the weather") {
				t.Fatalf("get-query-results %v", r)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("query still %v", r["status"])
		}
		time.Sleep(50 * time.Millisecond)
	}
	fail("InvalidParameterException", "put-retention-policy", "--log-group-name", g, "--retention-in-days", "2")
	fail("MalformedQueryException", "start-query", "--log-group-name", g, "--start-time", "1", "--end-time", "2", "--query-string", "fields x | nope")
	run("delete-log-group", "--log-group-name", g)
	fail("ResourceNotFoundException", "delete-log-group", "--log-group-name", g)
}

func runCLI(t *testing.T, bin string, env []string, args ...string) ([]byte, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return out, ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("running aws: %v", err)
	}
	return out, 0
}
