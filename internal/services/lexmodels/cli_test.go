package lexmodels_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lextrail/internal/testenv"
)

// TestAWSCLI runs the OrderFlowers flow with the stock AWS CLI: slot type
// → intent → bot → build → version → alias → export → delete chain →
// import. Skipped (with the reason printed) when aws is not installed,
// unless LEXTRAIL_REQUIRE_AWSCLI=1.
func TestAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode: skipping the AWS CLI lane")
	}
	f := newFixture(t)
	awsBin := testenv.LookTool(t, "aws", "LEXTRAIL_REQUIRE_AWSCLI")
	env := f.env.CLIEnv(t)
	dir := t.TempDir()
	run := func(args ...string) map[string]any {
		t.Helper()
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
	fail := func(wantCode string, args ...string) {
		t.Helper()
		out, code := runCLI(t, awsBin, env, args...)
		if code == 0 || !bytes.Contains(out, []byte(wantCode)) {
			t.Fatalf("aws %s: exit %d, want %s: %s", strings.Join(args, " "), code, wantCode, out)
		}
	}
	lex := func(args ...string) []string {
		return append([]string{"lex-models", "--endpoint-url", f.env.URL, "--output", "json"}, args...)
	}

	st := run(lex("put-slot-type", "--name", "FlowerTypes", "--enumeration-values", "value=roses", "value=tulips", "value=lilies")...)
	if st["version"] != "$LATEST" {
		t.Fatalf("put-slot-type %v", st)
	}
	if _, isNum := st["createdDate"].(float64); !isNum {
		t.Fatalf("CLI v1 prints wire timestamps; createdDate %T", st["createdDate"])
	}
	fail("PreconditionFailedException", lex("put-slot-type", "--name", "FlowerTypes", "--enumeration-values", "value=roses")...)
	fail("BadRequestException", lex("put-slot-type", "--name", "Bad-Name", "--enumeration-values", "value=roses")...)
	run(lex("create-slot-type-version", "--name", "FlowerTypes")...)
	slots := `[{"name":"FlowerType","slotConstraint":"Required","slotType":"FlowerTypes","slotTypeVersion":"1","priority":1,"valueElicitationPrompt":{"maxAttempts":2,"messages":[{"contentType":"PlainText","content":"Which flowers?"}]}}]`
	run(lex("put-intent", "--name", "OrderFlowers", "--sample-utterances", "I want {FlowerType}", "order flowers", "--slots", slots, "--fulfillment-activity", "type=ReturnIntent")...)
	run(lex("create-intent-version", "--name", "OrderFlowers")...)
	bot := run(lex("put-bot", "--name", "OrderFlowersBot", "--locale", "en-US", "--no-child-directed", "--intents", "intentName=OrderFlowers,intentVersion=1",
		"--clarification-prompt", `{"maxAttempts":2,"messages":[{"contentType":"PlainText","content":"Sorry?"}]}`,
		"--abort-statement", `{"messages":[{"contentType":"PlainText","content":"Bye"}]}`)...)
	if bot["status"] != "BUILDING" {
		t.Fatalf("put-bot %v", bot)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		g := run(lex("get-bot", "--name", "OrderFlowersBot", "--version-or-alias", "$LATEST")...)
		if g["status"] == "READY" {
			break
		}
		if g["status"] == "FAILED" || time.Now().After(deadline) {
			t.Fatalf("get-bot %v", g)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if v := run(lex("create-bot-version", "--name", "OrderFlowersBot")...); v["version"] != "1" {
		t.Fatalf("create-bot-version %v", v)
	}
	run(lex("put-bot-alias", "--bot-name", "OrderFlowersBot", "--name", "prod", "--bot-version", "1")...)
	if a := run(lex("get-bot-aliases", "--bot-name", "OrderFlowersBot")...); len(a["BotAliases"].([]any)) != 1 {
		t.Fatalf("get-bot-aliases %v", a)
	}
	if g := run(lex("get-bot", "--name", "OrderFlowersBot", "--version-or-alias", "prod")...); g["version"] != "1" {
		t.Fatalf("get-bot by alias %v", g)
	}
	// B15: auto-pagination follows nextToken.
	for _, n := range []string{"AlphaBot", "BetaBot"} {
		run(lex("put-bot", "--name", n, "--locale", "en-US", "--no-child-directed", "--process-behavior", "SAVE")...)
	}
	if all := run(lex("get-bots", "--page-size", "1")...); len(all["bots"].([]any)) != 3 {
		t.Fatalf("get-bots --page-size 1: %v", all)
	}
	run(lex("tag-resource", "--resource-arn", "arn:aws:lex:us-east-1:"+f.env.AccountID+":bot:OrderFlowersBot", "--tags", "key=env,value=dev")...)
	run(lex("untag-resource", "--resource-arn", "arn:aws:lex:us-east-1:"+f.env.AccountID+":bot:OrderFlowersBot", "--tag-keys", "env", "team")...)
	run(lex("get-utterances-view", "--bot-name", "OrderFlowersBot", "--bot-versions", "1", "2", "--status-type", "Detected")...)
	fail("BadRequestException", lex("get-export", "--name", "OrderFlowersBot", "--resource-version", "$LATEST", "--resource-type", "BOT", "--export-type", "LEX")...)
	exp := run(lex("get-export", "--name", "OrderFlowersBot", "--resource-version", "1", "--resource-type", "BOT", "--export-type", "LEX")...)
	// Downloaded from the URL as given: lextrail's own listener serves it.
	resp, err := http.Get(exp["url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	zipBytes, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("export download: %d %s", resp.StatusCode, zipBytes)
	}
	zipFile := filepath.Join(dir, "export.zip")
	if err := os.WriteFile(zipFile, zipBytes, 0o600); err != nil {
		t.Fatal(err)
	}

	// Delete chain: ResourceInUse first, then in order.
	fail("ResourceInUseException", lex("delete-bot", "--name", "OrderFlowersBot")...)
	fail("ResourceInUseException", lex("delete-slot-type", "--name", "FlowerTypes")...)
	run(lex("delete-bot-alias", "--bot-name", "OrderFlowersBot", "--name", "prod")...)
	run(lex("delete-bot", "--name", "OrderFlowersBot")...)
	run(lex("delete-intent", "--name", "OrderFlowers")...)
	run(lex("delete-slot-type-version", "--name", "FlowerTypes", "--slot-type-version", "1")...)
	run(lex("delete-slot-type", "--name", "FlowerTypes")...)

	imp := run(lex("start-import", "--payload", "fileb://"+zipFile, "--resource-type", "BOT", "--merge-strategy", "FAIL_ON_CONFLICT")...)
	if imp["importStatus"] != "IN_PROGRESS" {
		t.Fatalf("start-import %v", imp)
	}
	for {
		g := run(lex("get-import", "--import-id", imp["importId"].(string))...)
		if g["importStatus"] == "COMPLETE" {
			break
		}
		if g["importStatus"] == "FAILED" || time.Now().After(deadline.Add(10*time.Second)) {
			t.Fatalf("get-import %v", g)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if g := run(lex("get-bot", "--name", "OrderFlowersBot", "--version-or-alias", "$LATEST")...); g["name"] != "OrderFlowersBot" {
		t.Fatalf("imported bot %v", g)
	}
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
