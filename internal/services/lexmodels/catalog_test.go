package lexmodels_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"lextrail/internal/catalog"
	"lextrail/internal/identity"
	"lextrail/internal/protocol"
	"lextrail/internal/services/lexmodels"
)

// TestCatalogDeclarations checks the audit-relevant declarations (spec §6,
// DESIGN "The operation catalog").
func TestCatalogDeclarations(t *testing.T) {
	svc := lexmodels.New(lexmodels.Config{}).Catalog()
	if svc.Name != "lex-models" || svc.SigningName != "lex" || svc.EventSource != "lex.amazonaws.com" || svc.Protocol != catalog.RestJSON || svc.AccessDeniedCode != "AccessDeniedException" {
		t.Fatalf("service %+v", svc)
	}
	if len(svc.Ops) != 42 {
		t.Fatalf("%d operations", len(svc.Ops))
	}
	recorded := map[string]bool{"CreateBotVersion": true, "CreateIntentVersion": true, "CreateSlotTypeVersion": true,
		"PutBot": true, "PutBotAlias": true, "PutIntent": true, "PutSlotType": true}
	status := map[string]int{"CreateBotVersion": 201, "CreateIntentVersion": 201, "CreateSlotTypeVersion": 201, "StartImport": 201, "StartMigration": 202,
		"TagResource": 204, "UntagResource": 204}
	for _, o := range svc.Ops {
		if !o.Audited {
			t.Errorf("%s not audited", o.Name)
		}
		if o.RecordResponse != recorded[o.Name] {
			t.Errorf("%s RecordResponse %v", o.Name, o.RecordResponse)
		}
		if o.ReadOnly != (strings.HasPrefix(o.Name, "Get") || strings.HasPrefix(o.Name, "List")) {
			t.Errorf("%s ReadOnly %v", o.Name, o.ReadOnly)
		}
		if o.Action != "lex:"+o.Name {
			t.Errorf("%s action %s", o.Name, o.Action)
		}
		want := status[o.Name]
		if want == 0 {
			want = 200
			if strings.HasPrefix(o.Name, "Delete") {
				want = 204
			}
		}
		if o.Status != want {
			t.Errorf("%s status %d, want %d", o.Name, o.Status, want)
		}
	}
	call := &catalog.Call{Region: "us-east-1", Principal: &identity.Principal{AccountID: "123456789012"}}
	for _, tc := range []struct {
		op   string
		in   any
		want catalog.Resource
	}{
		{"PutBot", &lexmodels.PutBotInput{Name: "CloudTrailBot"}, catalog.Resource{ARN: "arn:aws:lex:us-east-1:123456789012:bot:CloudTrailBot", AccountID: "123456789012", Type: "AWS::Lex::Bot"}},
		{"PutIntent", &lexmodels.PutIntentInput{Name: "OrderFlowers"}, catalog.Resource{ARN: "arn:aws:lex:us-east-1:123456789012:intent:OrderFlowers", AccountID: "123456789012", Type: "AWS::Lex::Intent"}},
		{"DeleteSlotTypeVersion", &lexmodels.DeleteVersionInput{Name: "FlowerTypes", Version: "1"}, catalog.Resource{ARN: "arn:aws:lex:us-east-1:123456789012:slottype:FlowerTypes", AccountID: "123456789012", Type: "AWS::Lex::SlotType"}},
		{"PutBotAlias", &lexmodels.PutBotAliasInput{BotName: "OrderFlowersBot", Name: "prod"}, catalog.Resource{ARN: "arn:aws:lex:us-east-1:123456789012:bot:OrderFlowersBot:prod", AccountID: "123456789012", Type: "AWS::Lex::BotAlias"}},
	} {
		got := svc.Op(tc.op).Resources(call, tc.in)
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s resources %+v", tc.op, got)
		}
	}
}

// TestPutBotEventShape compares what lextrail hands the auditor for PutBot
// (input as requestParameters, output as responseElements) with the
// seed's CloudTrailBot example, key by key (values aside).
func TestPutBotEventShape(t *testing.T) {
	var in lexmodels.PutBotInput
	seedRequest := `{"name":"CloudTrailBot","intents":[{"intentVersion":"11","intentName":"TestCloudTrail"}],"voiceId":"Salli","childDirected":false,
		"locale":"en-US","idleSessionTTLInSeconds":500,"processBehavior":"BUILD","description":"CloudTrail test bot",
		"clarificationPrompt":{"messages":[{"contentType":"PlainText","content":"I didn't understand you, what would you like to do?"}],"maxAttempts":2},
		"abortStatement":{"messages":[{"contentType":"PlainText","content":"Sorry. I'm not able to assist at this time."}]}}`
	if err := json.Unmarshal([]byte(seedRequest), &in); err != nil {
		t.Fatal(err)
	}
	gotReq, _ := json.Marshal(&in)
	sameKeys(t, "requestParameters", gotReq, []byte(seedRequest))

	ttl := 500
	now := protocol.NewTime(time.Unix(1714557600, 0))
	out := lexmodels.BotOutput{Name: "CloudTrailBot", Description: "CloudTrail test bot", Intents: in.Intents,
		ClarificationPrompt: in.ClarificationPrompt, AbortStatement: in.AbortStatement, Status: "BUILDING",
		LastUpdatedDate: &now, CreatedDate: &now, IdleSessionTTLInSeconds: ttl, VoiceID: "Salli", Checksum: "checksum",
		Version: "$LATEST", Locale: "en-US", CreateVersion: new(bool),
		ChildDirected: new(false), DetectSentiment: new(false), EnableModelImprovements: new(false)}
	gotResp, _ := json.Marshal(&out)
	seedResponse := `{"voiceId":"Salli","locale":"en-US","childDirected":false,"abortStatement":{"messages":[{"contentType":"PlainText","content":"x"}]},
		"status":"BUILDING","createdDate":"timestamp","lastUpdatedDate":"timestamp","idleSessionTTLInSeconds":500,
		"intents":[{"intentVersion":"11","intentName":"TestCloudTrail"}],
		"clarificationPrompt":{"messages":[{"contentType":"PlainText","content":"x"}],"maxAttempts":2},
		"version":"$LATEST","description":"CloudTrail test bot","checksum":"checksum","name":"CloudTrailBot",
		"createVersion":false,"detectSentiment":false,"enableModelImprovements":false}`
	// The seed predates createVersion, detectSentiment and
	// enableModelImprovements; the current API always returns them.
	sameKeys(t, "responseElements", gotResp, []byte(seedResponse))
}

func keys(v any, prefix string, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			*out = append(*out, prefix+k)
			keys(e, prefix+k+".", out)
		}
	case []any:
		for _, e := range x {
			keys(e, prefix+"[].", out)
		}
	}
}

func sameKeys(t *testing.T, what string, got, want []byte) {
	t.Helper()
	var g, w any
	json.Unmarshal(got, &g)
	json.Unmarshal(want, &w)
	var gk, wk []string
	keys(g, "", &gk)
	keys(w, "", &wk)
	sort.Strings(gk)
	sort.Strings(wk)
	gk, wk = dedupe(gk), dedupe(wk)
	if strings.Join(gk, ",") != strings.Join(wk, ",") {
		t.Fatalf("%s keys differ\n got %v\nwant %v", what, gk, wk)
	}
}

func dedupe(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}
