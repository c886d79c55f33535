package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"

	"lextrail/internal/testenv"
)

// TestChat talks to an imported bot through "lextrail chat".
func TestChat(t *testing.T) {
	env := testenv.New(t)
	type obj = map[string]any
	prompt := func(s string) obj {
		return obj{"maxAttempts": 2, "messages": []obj{{"contentType": "PlainText", "content": s}}}
	}
	doc, _ := json.Marshal(obj{"metadata": obj{"schemaVersion": "1.0", "importType": "LEX", "importFormat": "JSON"},
		"resource": obj{"name": "ChatBot", "version": "1", "locale": "en-US", "childDirected": false,
			"clarificationPrompt": prompt("Sorry, what?"), "abortStatement": obj{"messages": []obj{{"contentType": "PlainText", "content": "Bye."}}},
			"intents": []obj{{"name": "OrderFlowers", "version": "1", "sampleUtterances": []string{"I want flowers", "order {FlowerType}"},
				"fulfillmentActivity": obj{"type": "ReturnIntent"},
				"slots": []obj{{"name": "FlowerType", "slotConstraint": "Required", "slotType": "FlowerTypes", "slotTypeVersion": "1", "priority": 1,
					"sampleUtterances": []string{}, "valueElicitationPrompt": prompt("Which flowers?")}}}},
			"slotTypes": []obj{{"name": "FlowerTypes", "version": "1", "enumerationValues": []obj{{"value": "roses", "synonyms": []string{}}}}}}})
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("ChatBot_Export.json")
	w.Write(doc)
	zw.Close()
	ctx := context.Background()
	c := lm.NewFromConfig(env.Config())
	imp, err := c.StartImport(ctx, &lm.StartImportInput{Payload: buf.Bytes(), ResourceType: lmtypes.ResourceTypeBot, MergeStrategy: lmtypes.MergeStrategyFailOnConflict})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		g, err := c.GetImport(ctx, &lm.GetImportInput{ImportId: imp.ImportId})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := c.GetBot(ctx, &lm.GetBotInput{Name: aws.String("ChatBot"), VersionOrAlias: aws.String("$LATEST")})
		if g.ImportStatus == lmtypes.ImportStatusComplete && b != nil && b.Status == lmtypes.StatusReady {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bot not ready: %v", g.ImportStatus)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stdin = strings.NewReader("I want flowers\n/attr channel=cli\nroses\n/session\n/reset\n/quit\n")
	defer func() { stdin = nil }()
	t.Setenv("AWS_ACCESS_KEY_ID", env.Root.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", env.Root.SecretAccessKey)
	out, errs, code := runCmd(t, "chat", "--endpoint", env.URL, "--user", "tester", "ChatBot", "$LATEST")
	if code != 0 {
		t.Fatalf("chat: %d %s %s", code, out, errs)
	}
	for _, want := range []string{
		"bot> Which flowers?", "[ElicitSlot FlowerType · OrderFlowers {FlowerType: -}]",
		"bot> (no message)", "[ReadyForFulfillment · OrderFlowers {FlowerType: roses}]",
		`"channel": "cli"`, "(session deleted)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("chat output lacks %q:\n%s", want, out)
		}
	}
	if _, _, code := runCmd(t, "chat", "--endpoint", env.URL, "OnlyOneArg"); code != 2 {
		t.Errorf("one argument: exit %d", code)
	}
}
