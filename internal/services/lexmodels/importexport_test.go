package lexmodels_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	"github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"

	"lextrail/internal/services/lexmodels"
)

// handWritten is a LEX bot export in the documented shape (spec §2.13),
// written by hand, with every version 1 so that an empty account
// reproduces it exactly.
const handWritten = `{
  "metadata": { "schemaVersion": "1.0", "importType": "LEX", "importFormat": "JSON" },
  "resource": {
    "name": "OrderFlowers", "version": "1",
    "intents": [ {
        "name": "OrderFlowers", "version": "1",
        "fulfillmentActivity": { "type": "ReturnIntent" },
        "sampleUtterances": [ "I want to order {FlowerType}", "Can I order some flowers" ],
        "slots": [ {
            "name": "FlowerType", "slotConstraint": "Required",
            "slotType": "FlowerTypes", "slotTypeVersion": "1",
            "obfuscationSetting": "NONE", "priority": 1, "sampleUtterances": [],
            "valueElicitationPrompt": { "messages": [ { "contentType": "PlainText", "content": "Which flowers?" } ], "maxAttempts": 2 }
        }, {
            "name": "PickupDate", "slotConstraint": "Required", "slotType": "AMAZON.DATE",
            "priority": 2, "sampleUtterances": [ "on {PickupDate}" ],
            "valueElicitationPrompt": { "messages": [ { "contentType": "PlainText", "content": "Which day?", "groupNumber": 1 } ], "maxAttempts": 2 }
        } ],
        "confirmationPrompt": { "messages": [ { "contentType": "PlainText", "content": "Order {FlowerType} for {PickupDate}?" } ], "maxAttempts": 3 },
        "rejectionStatement": { "messages": [ { "contentType": "PlainText", "content": "Okay, I will not place your order." } ] }
    } ],
    "slotTypes": [ { "name": "FlowerTypes", "version": "1", "description": "Types of flowers",
        "enumerationValues": [ { "value": "roses", "synonyms": [] }, { "value": "tulips", "synonyms": [ "tulip" ] } ],
        "valueSelectionStrategy": "ORIGINAL_VALUE" } ],
    "voiceId": "Salli", "childDirected": false, "locale": "en-US",
    "idleSessionTTLInSeconds": 300, "description": "Bot to order flowers",
    "clarificationPrompt": { "messages": [ { "contentType": "PlainText", "content": "I didn't understand you, what would you like to do?" } ], "maxAttempts": 2 },
    "abortStatement": { "messages": [ { "contentType": "PlainText", "content": "Sorry, I'm not able to assist at this time." } ] },
    "detectSentiment": false, "enableModelImprovements": false
  }
}`

func zipJSON(t testing.TB, name, doc string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(doc))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jsonEqual(t testing.TB, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		gi, _ := json.MarshalIndent(g, "", " ")
		wi, _ := json.MarshalIndent(w, "", " ")
		t.Fatalf("documents differ\n got: %s\nwant: %s", gi, wi)
	}
}

func (f *fixture) importZip(payload []byte, rt types.ResourceType, merge types.MergeStrategy) *lm.GetImportOutput {
	f.t.Helper()
	imp := must(f.c.StartImport(f.ctx, &lm.StartImportInput{Payload: payload, ResourceType: rt, MergeStrategy: merge,
		Tags: []types.Tag{{Key: aws.String("origin"), Value: aws.String("import")}}})).ok(f.t)
	return f.waitImport(aws.ToString(imp.ImportId))
}

func (f *fixture) export(name, version string, rt types.ResourceType) []byte {
	f.t.Helper()
	exp := must(f.c.GetExport(f.ctx, &lm.GetExportInput{Name: aws.String(name), Version: aws.String(version), ResourceType: rt, ExportType: types.ExportTypeLex})).ok(f.t)
	_, doc := unzipOne(f.t, f.download(aws.ToString(exp.Url)))
	return doc
}

// TestImportExportRoundTrip: a hand-written LEX export imports into an
// empty account and exports identically; then the conflict strategies.
func TestImportExportRoundTrip(t *testing.T) { lexmodels.EachDriver(t, testImportExportRoundTrip) }

func testImportExportRoundTrip(t *testing.T, drv lexmodels.TestDriver) {
	f := newFixture(t, drv)
	payload := zipJSON(t, "OrderFlowers_Export.json", handWritten)
	gi := f.importZip(payload, types.ResourceTypeBot, types.MergeStrategyFailOnConflict)
	if gi.ImportStatus != types.ImportStatusComplete || aws.ToString(gi.Name) != "OrderFlowers" || gi.CreatedDate == nil {
		t.Fatalf("import: %+v", gi)
	}
	if b := f.waitBot("OrderFlowers", "$LATEST"); b.Status != types.StatusReady {
		t.Fatalf("imported bot %s %q", b.Status, aws.ToString(b.FailureReason))
	}
	tags := must(f.c.ListTagsForResource(f.ctx, &lm.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:lex:us-east-1:" + f.env.AccountID + ":bot:OrderFlowers")})).ok(t)
	if len(tags.Tags) != 1 {
		t.Fatalf("import tags on the bot: %+v", tags.Tags)
	}
	if v := aws.ToString(must(f.c.CreateBotVersion(f.ctx, &lm.CreateBotVersionInput{Name: aws.String("OrderFlowers")})).ok(t).Version); v != "1" {
		t.Fatalf("bot version %s", v)
	}
	jsonEqual(t, f.export("OrderFlowers", "1", types.ResourceTypeBot), []byte(handWritten))

	// The intent and slot type exports carry the same definitions.
	var whole struct {
		Metadata json.RawMessage `json:"metadata"`
		Resource struct {
			Intents   []map[string]any `json:"intents"`
			SlotTypes []map[string]any `json:"slotTypes"`
		} `json:"resource"`
	}
	json.Unmarshal([]byte(handWritten), &whole)
	intent := whole.Resource.Intents[0]
	intent["slotTypes"] = whole.Resource.SlotTypes
	wantIntent, _ := json.Marshal(map[string]any{"metadata": whole.Metadata, "resource": intent})
	jsonEqual(t, f.export("OrderFlowers", "1", types.ResourceTypeIntent), wantIntent)
	wantType, _ := json.Marshal(map[string]any{"metadata": whole.Metadata, "resource": whole.Resource.SlotTypes[0]})
	jsonEqual(t, f.export("FlowerTypes", "1", types.ResourceTypeSlotType), wantType)

	// X3: FAIL_ON_CONFLICT names the existing resources.
	gi = f.importZip(payload, types.ResourceTypeBot, types.MergeStrategyFailOnConflict)
	if gi.ImportStatus != types.ImportStatusFailed || len(gi.FailureReason) != 3 || !strings.Contains(strings.Join(gi.FailureReason, " "), "Bot OrderFlowers already exists") {
		t.Fatalf("conflict import: %s %v", gi.ImportStatus, gi.FailureReason)
	}
	// X4: OVERWRITE_LATEST replaces $LATEST.
	changed := strings.Replace(handWritten, `"Bot to order flowers"`, `"Bot to order more flowers"`, 1)
	gi = f.importZip(zipJSON(t, "x.json", changed), types.ResourceTypeBot, types.MergeStrategyOverwriteLatest)
	if gi.ImportStatus != types.ImportStatusComplete {
		t.Fatalf("overwrite import: %s %v", gi.ImportStatus, gi.FailureReason)
	}
	b := f.waitBot("OrderFlowers", "$LATEST")
	if aws.ToString(b.Description) != "Bot to order more flowers" || aws.ToString(b.Intents[0].IntentVersion) != "1" {
		t.Fatalf("overwritten bot %+v", b)
	}
	// X5: a BOT file imported as an INTENT.
	_, err := f.c.StartImport(f.ctx, &lm.StartImportInput{Payload: payload, ResourceType: types.ResourceTypeIntent, MergeStrategy: types.MergeStrategyFailOnConflict})
	wantCode(t, err, "BadRequestException")

	// A slot type export imports into another account-region as SLOT_TYPE,
	// and an invalid definition fails the import without leaving anything.
	f2 := newFixture(t, drv)
	gi = f2.importZip(zipJSON(t, "t.json", string(wantType)), types.ResourceTypeSlotType, types.MergeStrategyFailOnConflict)
	if gi.ImportStatus != types.ImportStatusComplete {
		t.Fatalf("slot type import %s %v", gi.ImportStatus, gi.FailureReason)
	}
	bad := strings.Replace(handWritten, `"maxAttempts": 3`, `"maxAttempts": 9`, 1)
	gi = f2.importZip(zipJSON(t, "b.json", bad), types.ResourceTypeBot, types.MergeStrategyOverwriteLatest)
	if gi.ImportStatus != types.ImportStatusFailed || len(gi.FailureReason) != 1 || !strings.Contains(gi.FailureReason[0], "maxAttempts") {
		t.Fatalf("invalid import %s %v", gi.ImportStatus, gi.FailureReason)
	}
	if _, err := f2.c.GetIntent(f2.ctx, &lm.GetIntentInput{Name: aws.String("OrderFlowers"), Version: aws.String("$LATEST")}); code(err) != "NotFoundException" {
		t.Fatalf("a failed import left the intent behind: %v", err)
	}
	if vs := must(f2.c.GetSlotTypeVersions(f2.ctx, &lm.GetSlotTypeVersionsInput{Name: aws.String("FlowerTypes")})).ok(t); len(vs.SlotTypes) != 1 {
		t.Fatalf("a failed import published slot type versions: %d", len(vs.SlotTypes))
	}
}
