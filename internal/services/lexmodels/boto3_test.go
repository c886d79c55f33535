package lexmodels_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"lextrail/internal/services/lexmodels"
	"lextrail/internal/testenv"
)

// boto3Script drives all 42 lex-models operations with botocore (which
// keeps the trailing slashes the Go SDK drops) and checks what botocore
// parses: the BotAliases key, ResourceInUseException's referenceType and
// exampleReference with an empty message, datetimes, maxResults=100 and an
// empty nextToken reaching the server. It prints the operations it called.
const boto3Script = `import boto3, botocore, datetime, io, json, sys, time, urllib.request
lex = boto3.client("lex-models", endpoint_url=sys.argv[1], region_name="us-east-1")
acct = sys.argv[2]
called = set()
def call(op, **kw):
    called.add(op)
    return getattr(lex, op)(**kw)
def fails(code, op, **kw):
    try:
        call(op, **kw)
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == code, (op, e.response)
        return e.response
    raise SystemExit("%s succeeded, want %s" % (op, code))
def wait_bot(version):
    for _ in range(500):
        b = call("get_bot", name="OrderFlowersBot", versionOrAlias=version)
        if b["status"] not in ("BUILDING", "READY_BASIC_TESTING"):
            return b
        time.sleep(0.01)
    raise SystemExit("bot still building")
prompt = {"maxAttempts": 2, "messages": [{"contentType": "PlainText", "content": "Which flowers?"}]}

st = call("put_slot_type", name="FlowerTypes", enumerationValues=[{"value": "roses"}, {"value": "tulips"}])
assert isinstance(st["createdDate"], datetime.datetime) and st["version"] == "$LATEST", st
call("create_slot_type_version", name="FlowerTypes")
call("get_slot_type", name="FlowerTypes", version="1")
call("get_slot_types")
assert [v["version"] for v in call("get_slot_type_versions", name="FlowerTypes")["slotTypes"]] == ["$LATEST", "1"]
call("put_intent", name="OrderFlowers", sampleUtterances=["I want {FlowerType}", "order flowers"],
     slots=[{"name": "FlowerType", "slotConstraint": "Required", "slotType": "FlowerTypes", "slotTypeVersion": "1",
             "priority": 1, "valueElicitationPrompt": prompt}],
     fulfillmentActivity={"type": "ReturnIntent"})
call("create_intent_version", name="OrderFlowers")
call("get_intent", name="OrderFlowers", version="$LATEST")
call("get_intents")
call("get_intent_versions", name="OrderFlowers")
call("put_bot", name="OrderFlowersBot", locale="en-US", childDirected=False,
     intents=[{"intentName": "OrderFlowers", "intentVersion": "1"}],
     clarificationPrompt=prompt, abortStatement={"messages": [{"contentType": "PlainText", "content": "Bye"}]})
assert wait_bot("$LATEST")["status"] == "READY"
assert call("create_bot_version", name="OrderFlowersBot")["version"] == "1"
assert wait_bot("1")["status"] == "READY"
call("get_bots")
call("get_bot_versions", name="OrderFlowersBot")
call("put_bot_alias", name="prod", botName="OrderFlowersBot", botVersion="1")
call("get_bot_alias", name="prod", botName="OrderFlowersBot")
assert len(call("get_bot_aliases", botName="OrderFlowersBot")["BotAliases"]) == 1
assert call("get_bot", name="OrderFlowersBot", versionOrAlias="prod")["version"] == "1"
arn = "arn:aws:lex:us-east-1:%s:bot:OrderFlowersBot" % acct
call("tag_resource", resourceArn=arn, tags=[{"key": "env", "value": "dev"}, {"key": "team", "value": "f"}])
assert call("list_tags_for_resource", resourceArn=arn)["tags"] == [{"key": "env", "value": "dev"}, {"key": "team", "value": "f"}]
call("untag_resource", resourceArn=arn, tagKeys=["env", "team"])
call("get_builtin_intent", signature="AMAZON.HelpIntent")
call("get_builtin_intents", locale="fr-FR")
call("get_builtin_slot_types", locale="it-IT")
call("get_utterances_view", botName="OrderFlowersBot", botVersions=["1", "2"], statusType="Detected")
call("delete_utterances", botName="OrderFlowersBot", userId="user-1")
assert call("get_bot_channel_associations", botName="OrderFlowersBot", botAlias="-")["botChannelAssociations"] == []
fails("NotFoundException", "get_bot_channel_association", name="slack", botName="OrderFlowersBot", botAlias="prod")
fails("NotFoundException", "delete_bot_channel_association", name="slack", botName="OrderFlowersBot", botAlias="prod")
assert call("get_migrations")["migrationSummaries"] == []
fails("NotFoundException", "get_migration", migrationId="ABCDEFGHIJ")
fails("BadRequestException", "start_migration", v1BotName="OrderFlowersBot", v1BotVersion="1", v2BotName="OrderFlowersV2",
      v2BotRole="arn:aws:iam::%s:role/LexV2" % acct, migrationStrategy="CREATE_NEW")
exp = call("get_export", name="OrderFlowersBot", version="1", resourceType="BOT", exportType="LEX")
assert exp["exportStatus"] == "READY", exp
payload = urllib.request.urlopen(exp["url"]).read()
fails("BadRequestException", "get_bots", maxResults=100)
assert len(lex.get_bots(nextToken="")["bots"]) == 1

r = fails("ResourceInUseException", "delete_bot", name="OrderFlowersBot")
assert r["Error"]["Message"] == "" and r["referenceType"] == "BotAlias" and r["exampleReference"] == {"name": "prod"}, r
r = fails("ResourceInUseException", "delete_slot_type", name="FlowerTypes")
assert r["referenceType"] == "Intent" and r["exampleReference"]["name"] == "OrderFlowers", r
call("delete_bot_alias", name="prod", botName="OrderFlowersBot")
call("delete_bot_version", name="OrderFlowersBot", version="1")
call("delete_bot", name="OrderFlowersBot")
call("delete_intent_version", name="OrderFlowers", version="1")
call("delete_intent", name="OrderFlowers")
call("delete_slot_type_version", name="FlowerTypes", version="1")
call("delete_slot_type", name="FlowerTypes")
fails("NotFoundException", "get_bot", name="OrderFlowersBot", versionOrAlias="$LATEST")
imp = call("start_import", payload=payload, resourceType="BOT", mergeStrategy="FAIL_ON_CONFLICT")
assert imp["importStatus"] == "IN_PROGRESS", imp
for _ in range(500):
    g = call("get_import", importId=imp["importId"])
    if g["importStatus"] != "IN_PROGRESS":
        break
    time.sleep(0.01)
assert g["importStatus"] == "COMPLETE", g
assert wait_bot("$LATEST")["intents"] == [{"intentName": "OrderFlowers", "intentVersion": "1"}]
print(json.dumps(sorted(called)))
`

// TestBoto3AllOperations runs boto3Script where boto3 is installed and
// checks, from the requests the server saw, that botocore's forms of the
// routes were served: trailing slashes on the list routes and StartImport,
// %24LATEST in labels, the singular /version/ of DeleteSlotTypeVersion,
// repeated tagKeys and bot_versions.
func TestBoto3AllOperations(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode: skipping the boto3 lane")
	}
	py := testenv.LookTool(t, "python3", "LEXTRAIL_REQUIRE_BOTO3")
	if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
		if testenv.Required("LEXTRAIL_REQUIRE_BOTO3") {
			t.Fatal("boto3 required (LEXTRAIL_REQUIRE_BOTO3=1) but not importable")
		}
		t.Skip("boto3 is not installed: skipping the boto3 lane")
	}
	e := testenv.New(t)
	var mu sync.Mutex
	var seen []string
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.EscapedPath()+"?"+r.URL.RawQuery)
		mu.Unlock()
		e.Server.Handler().ServeHTTP(w, r)
	}))
	defer rec.Close()
	cmd := exec.Command(py, "-c", boto3Script, rec.URL, e.AccountID)
	cmd.Env = e.CLIEnv(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	var called []string
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &called); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var missing []string
	for _, o := range lexmodels.New(lexmodels.Config{}).Catalog().Ops {
		snake := ""
		for i, r := range o.Name {
			if r >= 'A' && r <= 'Z' {
				if i > 0 {
					snake += "_"
				}
				r += 'a' - 'A'
			}
			snake += string(r)
		}
		if !slices.Contains(called, snake) {
			missing = append(missing, o.Name)
		}
	}
	if len(missing) > 0 || len(called) != 42 {
		t.Fatalf("boto3 called %d operations; missing %v", len(called), missing)
	}
	has := func(prefix string) bool {
		for _, s := range seen {
			if strings.HasPrefix(s, prefix) {
				return true
			}
		}
		return false
	}
	for _, want := range []string{
		"GET /bots/?", "GET /intents/?", "GET /slottypes/?", "GET /bots/OrderFlowersBot/aliases/?", "GET /bots/OrderFlowersBot/versions/?",
		"GET /bots/OrderFlowersBot/aliases/-/channels/?", "GET /builtins/intents/?locale=fr-FR", "GET /builtins/slottypes/?locale=it-IT",
		"POST /imports/?", "GET /exports/?", "GET /bots/OrderFlowersBot/versions/%24LATEST?", "PUT /bots/OrderFlowersBot/versions/$LATEST?",
		"DELETE /slottypes/FlowerTypes/version/1?", "DELETE /tags/arn%3Aaws%3Alex%3Aus-east-1%3A" + e.AccountID + "%3Abot%3AOrderFlowersBot?tagKeys=env&tagKeys=team",
		"GET /bots/OrderFlowersBot/utterances?view=aggregation&bot_versions=1&bot_versions=2&status_type=Detected",
		"GET /bots/?nextToken=", "GET /bots/?maxResults=100",
	} {
		if !has(want) {
			t.Errorf("botocore never sent %q (saw %d requests)", want, len(seen))
		}
	}
	if t.Failed() {
		t.Logf("requests:\n%s", strings.Join(seen, "\n"))
	}
}
