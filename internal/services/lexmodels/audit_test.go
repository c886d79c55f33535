package lexmodels_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	"github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"

	"lextrail/internal/services/lexmodels"
)

// seedPutBotRecord is the CloudTrailBot record of the seed
// (shared/seeds/000_…, "Example: Amazon Lex Log File Entries"), verbatim
// apart from indentation.
const seedPutBotRecord = `{
 "eventVersion": "1.05",
 "userIdentity": {"type": "AssumedRole | FederatedUser | IAMUser | Root | SAMLUser | WebIdentityUser",
  "principalId": "principal ID", "arn": "ARN", "accountId": "account ID", "accessKeyId": "access key ID", "userName": "user name"},
 "eventTime": "timestamp",
 "eventSource": "lex.amazonaws.com",
 "eventName": "PutBot",
 "awsRegion": "region",
 "sourceIPAddress": "source IP address",
 "userAgent": "user agent",
 "requestParameters": {
  "name": "CloudTrailBot",
  "intents": [{"intentVersion": "11", "intentName": "TestCloudTrail"}],
  "voiceId": "Salli", "childDirected": false, "locale": "en-US", "idleSessionTTLInSeconds": 500,
  "processBehavior": "BUILD", "description": "CloudTrail test bot",
  "clarificationPrompt": {"messages": [{"contentType": "PlainText", "content": "I didn't understand you, what would you like to do?"}], "maxAttempts": 2},
  "abortStatement": {"messages": [{"contentType": "PlainText", "content": "Sorry. I'm not able to assist at this time."}]}
 },
 "responseElements": {
  "voiceId": "Salli", "locale": "en-US", "childDirected": false,
  "abortStatement": {"messages": [{"contentType": "PlainText", "content": "Sorry. I'm not able to assist at this time."}]},
  "status": "BUILDING", "createdDate": "timestamp", "lastUpdatedDate": "timestamp", "idleSessionTTLInSeconds": 500,
  "intents": [{"intentVersion": "11", "intentName": "TestCloudTrail"}],
  "clarificationPrompt": {"messages": [{"contentType": "PlainText", "content": "I didn't understand you. What would you like to do?"}], "maxAttempts": 2},
  "version": "$LATEST", "description": "CloudTrail test bot", "checksum": "checksum", "name": "CloudTrailBot"
 },
 "requestID": "request ID",
 "eventID": "event ID",
 "eventType": "AwsApiCall",
 "recipientAccountId": "account ID"
}`

// shape maps every key path of a JSON document ("a.b[].c") to its JSON
// type (object, array, string, number, bool, null).
func shape(t testing.TB, doc []byte) map[string]string {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("%v: %s", err, doc)
	}
	out := map[string]string{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			out[path] = "object"
			for k, e := range x {
				p := k
				if path != "" {
					p = path + "." + k
				}
				walk(p, e)
			}
		case []any:
			out[path] = "array"
			for _, e := range x {
				walk(path+"[]", e)
			}
		case string:
			out[path] = "string"
		case float64:
			out[path] = "number"
		case bool:
			out[path] = "bool"
		case nil:
			out[path] = "null"
		}
	}
	walk("", v)
	delete(out, "")
	return out
}

// diffShapes lists the differences between two shapes.
func diffShapes(got, want map[string]string) []string {
	var d []string
	for k, w := range want {
		if g, ok := got[k]; !ok {
			d = append(d, "missing "+k+" ("+w+")")
		} else if g != w {
			d = append(d, fmt.Sprintf("%s is %s, want %s", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			d = append(d, "unexpected "+k+" ("+g+")")
		}
	}
	sort.Strings(d)
	return d
}

// auditTrail reads the events lextrail stored.
type auditTrail struct {
	t  testing.TB
	f  *fixture
	ct *cloudtrail.Client
}

func (a *auditTrail) events(name string) []cttypes.Event {
	a.t.Helper()
	var all []cttypes.Event
	p := cloudtrail.NewLookupEventsPaginator(a.ct, &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(name)}}})
	for p.HasMorePages() {
		out, err := p.NextPage(a.f.ctx)
		if err != nil {
			a.t.Fatalf("LookupEvents %s: %v", name, err)
		}
		all = append(all, out.Events...)
	}
	return all
}

// last returns the newest stored record of an event name, parsed, and
// its raw JSON.
func (a *auditTrail) last(name string) (map[string]any, []byte) {
	a.t.Helper()
	evs := a.events(name)
	if len(evs) == 0 {
		a.t.Fatalf("no %s event", name)
	}
	raw := []byte(aws.ToString(evs[0].CloudTrailEvent))
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		a.t.Fatalf("%s CloudTrailEvent: %v", name, err)
	}
	if got := aws.ToString(evs[0].EventName); got != name {
		a.t.Errorf("LookupEvents EventName %q, want %q", got, name)
	}
	if got := aws.ToString(evs[0].EventSource); got != "lex.amazonaws.com" {
		a.t.Errorf("%s LookupEvents EventSource %q", name, got)
	}
	return m, raw
}

// TestAuditPutBotAgainstSeed drives the seed's CloudTrailBot PutBot
// through the Go SDK as an IAM user and compares the stored record
// (LookupEvents → CloudTrailEvent) with the seed's, key by key and type
// by type: every seed key is there with the seed's JSON type, and the
// only additions are the fields the current record format and lex-models
// API have and the 2017 seed predates.
func TestAuditPutBotAgainstSeed(t *testing.T) { lexmodels.EachDriver(t, testAuditPutBotAgainstSeed) }

func testAuditPutBotAgainstSeed(t *testing.T, drv lexmodels.TestDriver) {
	f := newFixture(t, drv)
	a := &auditTrail{t: t, f: f, ct: cloudtrail.NewFromConfig(f.env.Config())}
	must(f.c.PutIntent(f.ctx, &lm.PutIntentInput{Name: aws.String("TestCloudTrail"), SampleUtterances: []string{"test cloudtrail"},
		FulfillmentActivity: &types.FulfillmentActivity{Type: types.FulfillmentActivityTypeReturnIntent}})).ok(t)
	must(f.c.CreateIntentVersion(f.ctx, &lm.CreateIntentVersionInput{Name: aws.String("TestCloudTrail")})).ok(t)
	// The seed's caller is an IAM user (its userIdentity has userName):
	// "dev", allowed every Lex action.
	im := iam.NewFromConfig(f.env.Config())
	must(im.CreateUser(f.ctx, &iam.CreateUserInput{UserName: aws.String("dev")})).ok(t)
	must(im.PutUserPolicy(f.ctx, &iam.PutUserPolicyInput{UserName: aws.String("dev"), PolicyName: aws.String("lex"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lex:*","Resource":"*"}]}`)})).ok(t)
	key := must(im.CreateAccessKey(f.ctx, &iam.CreateAccessKeyInput{UserName: aws.String("dev")})).ok(t).AccessKey
	dev := lm.NewFromConfig(f.env.Config(aws.Credentials{AccessKeyID: *key.AccessKeyId, SecretAccessKey: *key.SecretAccessKey}))
	must(dev.PutBot(f.ctx, &lm.PutBotInput{
		Name:    aws.String("CloudTrailBot"),
		Intents: []types.Intent{{IntentVersion: aws.String("1"), IntentName: aws.String("TestCloudTrail")}},
		VoiceId: aws.String("Salli"), ChildDirected: aws.Bool(false), Locale: types.LocaleEnUs,
		IdleSessionTTLInSeconds: aws.Int32(500), ProcessBehavior: types.ProcessBehaviorBuild, Description: aws.String("CloudTrail test bot"),
		ClarificationPrompt: prompt("I didn't understand you, what would you like to do?"),
		AbortStatement:      statement("Sorry. I'm not able to assist at this time."),
	})).ok(t)

	rec, raw := a.last("PutBot")
	want := shape(t, []byte(seedPutBotRecord))
	// Members the current CloudTrail record format has and the 2017 seed
	// predates (spec cloudtrail.md).
	for k, v := range map[string]string{"readOnly": "bool", "managementEvent": "bool", "eventCategory": "string",
		"resources": "array", "resources[]": "object", "resources[].ARN": "string", "resources[].accountId": "string", "resources[].type": "string"} {
		want[k] = v
	}
	// Members the current lex-models API always returns and the seed
	// predates (as in TestPutBotEventShape).
	for _, k := range []string{"createVersion", "detectSentiment", "enableModelImprovements"} {
		want["responseElements."+k] = "bool"
	}
	// The seed's userAgent is the client's; the Go SDK sends one too.
	if d := diffShapes(shape(t, raw), want); len(d) > 0 {
		t.Errorf("PutBot record differs from the seed's shape:\n  %s\nrecord: %s", strings.Join(d, "\n  "), raw)
	}

	fixed := map[string]any{"eventSource": "lex.amazonaws.com", "eventName": "PutBot", "eventType": "AwsApiCall",
		"eventCategory": "Management", "managementEvent": true, "readOnly": false, "recipientAccountId": f.env.AccountID,
		"awsRegion": "us-east-1"}
	for k, v := range fixed {
		if rec[k] != v {
			t.Errorf("%s = %v, want %v", k, rec[k], v)
		}
	}
	if _, err := time.Parse(time.RFC3339, rec["eventTime"].(string)); err != nil {
		t.Errorf("eventTime: %v", err)
	}
	ui := rec["userIdentity"].(map[string]any)
	if ui["type"] != "IAMUser" || ui["accountId"] != f.env.AccountID || ui["accessKeyId"] != *key.AccessKeyId ||
		ui["arn"] != "arn:aws:iam::"+f.env.AccountID+":user/dev" || ui["userName"] != "dev" || !strings.HasPrefix(ui["principalId"].(string), "AIDA") {
		t.Errorf("userIdentity %v", ui)
	}
	wantRes := []any{map[string]any{"ARN": "arn:aws:lex:us-east-1:" + f.env.AccountID + ":bot:CloudTrailBot",
		"accountId": f.env.AccountID, "type": "AWS::Lex::Bot"}}
	if gotRes, _ := json.Marshal(rec["resources"]); string(gotRes) != string(mustJSON(t, wantRes)) {
		t.Errorf("resources %s", gotRes)
	}
	// Values that are the client's own come back as sent.
	req := rec["requestParameters"].(map[string]any)
	if req["name"] != "CloudTrailBot" || req["childDirected"] != false || req["idleSessionTTLInSeconds"] != float64(500) ||
		req["processBehavior"] != "BUILD" || req["locale"] != "en-US" {
		t.Errorf("requestParameters %v", req)
	}
	resp := rec["responseElements"].(map[string]any)
	if resp["name"] != "CloudTrailBot" || resp["version"] != "$LATEST" || resp["childDirected"] != false ||
		resp["status"] != "BUILDING" || resp["checksum"] == "" {
		t.Errorf("responseElements %v", resp)
	}
	for _, k := range []string{"createdDate", "lastUpdatedDate"} {
		if _, err := time.Parse(time.RFC3339, resp[k].(string)); err != nil {
			t.Errorf("responseElements.%s: %v", k, err)
		}
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAuditRecordsPerOperation drives one call of each kind (the seven
// that record responses, Gets, lists, Deletes, tags, a failure) and checks
// each stored record: responseElements non-null exactly for the seven
// Put/Create*Version operations, readOnly as declared, requestParameters
// named as the API names its members (URI and query members included),
// resources per spec §6 / DECISIONS 7, and errorCode/errorMessage on
// failures.
func TestAuditRecordsPerOperation(t *testing.T) {
	lexmodels.EachDriver(t, testAuditRecordsPerOperation)
}

func testAuditRecordsPerOperation(t *testing.T, drv lexmodels.TestDriver) {
	f := newFixture(t, drv)
	a := &auditTrail{t: t, f: f, ct: cloudtrail.NewFromConfig(f.env.Config())}
	c, ctx, acct := f.c, f.ctx, f.env.AccountID
	arn := func(rest string) string { return "arn:aws:lex:us-east-1:" + acct + ":" + rest }

	f.orderFlowers("OrderFlowersBot") // PutSlotType, CreateSlotTypeVersion, PutIntent, CreateIntentVersion, PutBot, GetBot
	must(c.CreateBotVersion(ctx, &lm.CreateBotVersionInput{Name: aws.String("OrderFlowersBot")})).ok(t)
	must(c.PutBotAlias(ctx, &lm.PutBotAliasInput{BotName: aws.String("OrderFlowersBot"), Name: aws.String("prod"), BotVersion: aws.String("1")})).ok(t)
	must(c.GetBot(ctx, &lm.GetBotInput{Name: aws.String("OrderFlowersBot"), VersionOrAlias: aws.String("prod")})).ok(t)
	must(c.GetBots(ctx, &lm.GetBotsInput{NameContains: aws.String("Order"), MaxResults: aws.Int32(5)})).ok(t)
	must(c.GetBotAliases(ctx, &lm.GetBotAliasesInput{BotName: aws.String("OrderFlowersBot")})).ok(t)
	must(c.GetIntent(ctx, &lm.GetIntentInput{Name: aws.String("OrderFlowers"), Version: aws.String("1")})).ok(t)
	must(c.GetSlotTypeVersions(ctx, &lm.GetSlotTypeVersionsInput{Name: aws.String("FlowerTypes")})).ok(t)
	must(c.GetUtterancesView(ctx, &lm.GetUtterancesViewInput{BotName: aws.String("OrderFlowersBot"), BotVersions: []string{"1"}, StatusType: types.StatusTypeDetected})).ok(t)
	must(c.GetExport(ctx, &lm.GetExportInput{Name: aws.String("OrderFlowers"), Version: aws.String("1"), ResourceType: types.ResourceTypeIntent, ExportType: types.ExportTypeLex})).ok(t)
	must(c.TagResource(ctx, &lm.TagResourceInput{ResourceArn: aws.String(arn("bot:OrderFlowersBot:prod")), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("flowers")}}})).ok(t)
	must(c.DeleteBotAlias(ctx, &lm.DeleteBotAliasInput{BotName: aws.String("OrderFlowersBot"), Name: aws.String("prod")})).ok(t)
	_, err := c.PutBot(ctx, &lm.PutBotInput{Name: aws.String("OrderFlowersBot"), Locale: types.LocaleEnUs, ChildDirected: aws.Bool(false),
		Checksum: aws.String("stale")})
	wantCode(t, err, "PreconditionFailedException")
	_, err = c.DeleteSlotTypeVersion(ctx, &lm.DeleteSlotTypeVersionInput{Name: aws.String("FlowerTypes"), Version: aws.String("7")})
	wantCode(t, err, "NotFoundException")

	type want struct {
		req      []string // requestParameters keys (nil: null)
		response bool     // responseElements non-null
		res      []string // resources ARN|type
		errCode  string
	}
	bot := func(n string) string { return arn("bot:"+n) + "|AWS::Lex::Bot" }
	recorded := []string{"CreateBotVersion", "CreateIntentVersion", "CreateSlotTypeVersion", "PutBot", "PutBotAlias", "PutIntent", "PutSlotType"}
	cases := []struct {
		op string
		want
	}{
		{"PutSlotType", want{[]string{"description", "enumerationValues", "name"}, true, []string{arn("slottype:FlowerTypes") + "|AWS::Lex::SlotType"}, ""}},
		{"CreateSlotTypeVersion", want{[]string{"name"}, true, []string{arn("slottype:FlowerTypes") + "|AWS::Lex::SlotType"}, ""}},
		{"PutIntent", want{[]string{"confirmationPrompt", "fulfillmentActivity", "name", "rejectionStatement", "sampleUtterances", "slots"}, true, []string{arn("intent:OrderFlowers") + "|AWS::Lex::Intent"}, ""}},
		{"CreateIntentVersion", want{[]string{"name"}, true, []string{arn("intent:OrderFlowers") + "|AWS::Lex::Intent"}, ""}},
		{"CreateBotVersion", want{[]string{"name"}, true, []string{bot("OrderFlowersBot")}, ""}},
		{"PutBotAlias", want{[]string{"botName", "botVersion", "name"}, true, []string{arn("bot:OrderFlowersBot:prod") + "|AWS::Lex::BotAlias"}, ""}},
		{"GetBot", want{[]string{"name", "versionOrAlias"}, false, []string{bot("OrderFlowersBot")}, ""}},
		{"GetBots", want{[]string{"maxResults", "nameContains"}, false, nil, ""}},
		{"GetBotAliases", want{[]string{"botName"}, false, []string{bot("OrderFlowersBot")}, ""}},
		{"GetIntent", want{[]string{"name", "version"}, false, []string{arn("intent:OrderFlowers") + "|AWS::Lex::Intent"}, ""}},
		{"GetSlotTypeVersions", want{[]string{"name"}, false, []string{arn("slottype:FlowerTypes") + "|AWS::Lex::SlotType"}, ""}},
		{"GetUtterancesView", want{[]string{"botName", "botVersions", "statusType"}, false, []string{bot("OrderFlowersBot")}, ""}},
		{"GetExport", want{[]string{"exportType", "name", "resourceType", "version"}, false, []string{arn("intent:OrderFlowers") + "|AWS::Lex::Intent"}, ""}},
		{"TagResource", want{[]string{"resourceArn", "tags"}, false, []string{arn("bot:OrderFlowersBot:prod") + "|AWS::Lex::BotAlias"}, ""}},
		{"DeleteBotAlias", want{[]string{"botName", "name"}, false, []string{arn("bot:OrderFlowersBot:prod") + "|AWS::Lex::BotAlias"}, ""}},
		// The newest PutBot is the failed one: no responseElements even
		// though PutBot records them on success.
		{"PutBot", want{[]string{"checksum", "childDirected", "locale", "name"}, false, []string{bot("OrderFlowersBot")}, "PreconditionFailedException"}},
		{"DeleteSlotTypeVersion", want{[]string{"name", "version"}, false, []string{arn("slottype:FlowerTypes") + "|AWS::Lex::SlotType"}, "NotFoundException"}},
	}
	for _, tc := range cases {
		rec, raw := a.last(tc.op)
		var req map[string]any
		if rq, ok := rec["requestParameters"].(map[string]any); ok {
			req = rq
		}
		var keys []string
		for k := range req {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if !slices.Equal(keys, tc.req) {
			t.Errorf("%s requestParameters keys %v, want %v\n%s", tc.op, keys, tc.req, raw)
		}
		resp, present := rec["responseElements"]
		if !present {
			t.Errorf("%s: responseElements member missing (want it, null or not)", tc.op)
		}
		if (resp != nil) != tc.response {
			t.Errorf("%s responseElements %v, want non-null %v", tc.op, resp, tc.response)
		}
		if tc.response {
			if m, ok := resp.(map[string]any); !ok || m["checksum"] == nil || m["name"] == nil || m["createdDate"] == nil {
				t.Errorf("%s responseElements %v", tc.op, resp)
			}
		}
		if ro := strings.HasPrefix(tc.op, "Get"); rec["readOnly"] != ro {
			t.Errorf("%s readOnly %v", tc.op, rec["readOnly"])
		}
		var res []string
		if rs, ok := rec["resources"].([]any); ok {
			for _, r := range rs {
				m := r.(map[string]any)
				if m["accountId"] != acct {
					t.Errorf("%s resource account %v", tc.op, m["accountId"])
				}
				res = append(res, fmt.Sprint(m["ARN"], "|", m["type"]))
			}
		}
		if !slices.Equal(res, tc.res) {
			t.Errorf("%s resources %v, want %v", tc.op, res, tc.res)
		}
		ec, _ := rec["errorCode"].(string)
		em, _ := rec["errorMessage"].(string)
		if ec != tc.errCode || (tc.errCode != "") != (em != "") {
			t.Errorf("%s errorCode %q errorMessage %q, want code %q", tc.op, ec, em, tc.errCode)
		}
		if rec["eventSource"] != "lex.amazonaws.com" || rec["eventType"] != "AwsApiCall" || rec["managementEvent"] != true ||
			rec["eventCategory"] != "Management" || rec["recipientAccountId"] != acct {
			t.Errorf("%s fixed fields: %s", tc.op, raw)
		}
	}
	// Every successful call of the seven carries responseElements, and no
	// other operation's record ever does.
	for _, op := range lexmodels.New(lexmodels.Config{}).Catalog().Ops {
		for _, ev := range a.events(op.Name) {
			var m map[string]any
			json.Unmarshal([]byte(aws.ToString(ev.CloudTrailEvent)), &m)
			failed := m["errorCode"] != nil
			if got, want := m["responseElements"] != nil, slices.Contains(recorded, op.Name) && !failed; got != want {
				t.Errorf("%s (failed %v): responseElements non-null %v, want %v", op.Name, failed, got, want)
			}
		}
	}
}
