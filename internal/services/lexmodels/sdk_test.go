package lexmodels_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	"github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"
	"github.com/aws/smithy-go"

	"lextrail/internal/nlu"
	"lextrail/internal/services/lexmodels"
	"lextrail/internal/store"
)

// TestEveryOperation drives all 42 operations through the Go SDK and
// checks each one's success status (or, for what lextrail truthfully
// lacks, its error).
func TestEveryOperation(t *testing.T) { lexmodels.EachDriver(t, testEveryOperation) }

func testEveryOperation(t *testing.T, drv lexmodels.TestDriver) {
	f := newFixture(t, drv)
	seen := map[string]bool{}
	ok := func(op string, status int, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		if got := f.status(); got != status {
			t.Fatalf("%s: HTTP %d, want %d", op, got, status)
		}
		seen[op] = true
	}
	fails := func(op, wantErr string, err error) {
		t.Helper()
		wantCode(t, err, wantErr)
		seen[op] = true
	}
	ctx, c := f.ctx, f.c
	var err error

	st := f.flowerTypes("FlowerTypes")
	ok("PutSlotType", 200, nil)
	if aws.ToString(st.Version) != "$LATEST" || st.CreatedDate == nil || !st.CreatedDate.Equal(*st.LastUpdatedDate) || aws.ToBool(st.CreateVersion) || st.ValueSelectionStrategy != types.SlotValueSelectionStrategyOriginalValue {
		t.Fatalf("PutSlotType output %+v", st)
	}
	if !bytes.Contains(f.lastBody(), []byte(`"createdDate":`)) || bytes.Contains(f.lastBody(), []byte(`"createdDate":"`)) {
		t.Fatalf("timestamps must be JSON numbers: %s", f.lastBody())
	}
	_, err = c.CreateSlotTypeVersion(ctx, &lm.CreateSlotTypeVersionInput{Name: aws.String("FlowerTypes")})
	ok("CreateSlotTypeVersion", 201, err)
	_, err = c.GetSlotType(ctx, &lm.GetSlotTypeInput{Name: aws.String("FlowerTypes"), Version: aws.String("1")})
	ok("GetSlotType", 200, err)
	_, err = c.GetSlotTypes(ctx, &lm.GetSlotTypesInput{})
	ok("GetSlotTypes", 200, err)
	_, err = c.GetSlotTypeVersions(ctx, &lm.GetSlotTypeVersionsInput{Name: aws.String("FlowerTypes")})
	ok("GetSlotTypeVersions", 200, err)

	_, err = f.orderIntent("OrderFlowers", "FlowerTypes", "1", nil)
	ok("PutIntent", 200, err)
	_, err = c.CreateIntentVersion(ctx, &lm.CreateIntentVersionInput{Name: aws.String("OrderFlowers")})
	ok("CreateIntentVersion", 201, err)
	_, err = c.GetIntent(ctx, &lm.GetIntentInput{Name: aws.String("OrderFlowers"), Version: aws.String("$LATEST")})
	ok("GetIntent", 200, err)
	_, err = c.GetIntents(ctx, &lm.GetIntentsInput{})
	ok("GetIntents", 200, err)
	_, err = c.GetIntentVersions(ctx, &lm.GetIntentVersionsInput{Name: aws.String("OrderFlowers")})
	ok("GetIntentVersions", 200, err)

	bot, err := f.putBot("OrderFlowersBot", []types.Intent{{IntentName: aws.String("OrderFlowers"), IntentVersion: aws.String("1")}}, nil, "")
	ok("PutBot", 200, err)
	if bot.Status != types.StatusBuilding || aws.ToInt32(bot.IdleSessionTTLInSeconds) != 300 || aws.ToBool(bot.DetectSentiment) {
		t.Fatalf("PutBot output %+v", bot)
	}
	f.waitBot("OrderFlowersBot", "$LATEST")
	_, err = c.GetBot(ctx, &lm.GetBotInput{Name: aws.String("OrderFlowersBot"), VersionOrAlias: aws.String("$LATEST")})
	ok("GetBot", 200, err)
	if !strings.Contains(f.rec.last.path, "%24LATEST") {
		t.Fatalf("the SDK sent %s; the test wants the encoded label", f.rec.last.path)
	}
	_, err = c.CreateBotVersion(ctx, &lm.CreateBotVersionInput{Name: aws.String("OrderFlowersBot")})
	ok("CreateBotVersion", 201, err)
	if b := f.waitBot("OrderFlowersBot", "1"); b.Status != types.StatusReady {
		t.Fatalf("version 1: %s %s", b.Status, aws.ToString(b.FailureReason))
	}
	_, err = c.GetBots(ctx, &lm.GetBotsInput{})
	ok("GetBots", 200, err)
	if f.rec.last.path != "/bots" { // botocore sends /bots/ (TestBoto3AllOperations)
		t.Fatalf("the Go SDK sent %s", f.rec.last.path)
	}
	_, err = c.GetBotVersions(ctx, &lm.GetBotVersionsInput{Name: aws.String("OrderFlowersBot")})
	ok("GetBotVersions", 200, err)

	_, err = c.PutBotAlias(ctx, &lm.PutBotAliasInput{BotName: aws.String("OrderFlowersBot"), Name: aws.String("prod"), BotVersion: aws.String("1"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("flowers")}}})
	ok("PutBotAlias", 200, err)
	_, err = c.GetBotAlias(ctx, &lm.GetBotAliasInput{BotName: aws.String("OrderFlowersBot"), Name: aws.String("prod")})
	ok("GetBotAlias", 200, err)
	aliases, err := c.GetBotAliases(ctx, &lm.GetBotAliasesInput{BotName: aws.String("OrderFlowersBot")})
	ok("GetBotAliases", 200, err)
	if len(aliases.BotAliases) != 1 || !bytes.Contains(f.lastBody(), []byte(`"BotAliases"`)) {
		t.Fatalf("GetBotAliases: %s", f.lastBody())
	}
	byAlias := must(c.GetBot(ctx, &lm.GetBotInput{Name: aws.String("OrderFlowersBot"), VersionOrAlias: aws.String("prod")})).ok(t)
	if aws.ToString(byAlias.Version) != "1" {
		t.Fatalf("GetBot by alias: version %s", aws.ToString(byAlias.Version))
	}

	arn := "arn:aws:lex:us-east-1:" + f.env.AccountID + ":bot:OrderFlowersBot"
	_, err = c.TagResource(ctx, &lm.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}})
	ok("TagResource", 204, err)
	tags, err := c.ListTagsForResource(ctx, &lm.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	ok("ListTagsForResource", 200, err)
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" {
		t.Fatalf("tags %+v", tags.Tags)
	}
	_, err = c.UntagResource(ctx, &lm.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"env"}})
	ok("UntagResource", 204, err)
	aliasTags := must(c.ListTagsForResource(ctx, &lm.ListTagsForResourceInput{ResourceArn: aws.String(arn + ":prod")})).ok(t)
	if len(aliasTags.Tags) != 1 || aws.ToString(aliasTags.Tags[0].Value) != "flowers" {
		t.Fatalf("alias tags %+v", aliasTags.Tags)
	}

	_, err = c.GetBuiltinIntent(ctx, &lm.GetBuiltinIntentInput{Signature: aws.String("AMAZON.HelpIntent")})
	ok("GetBuiltinIntent", 200, err)
	_, err = c.GetBuiltinIntents(ctx, &lm.GetBuiltinIntentsInput{Locale: types.LocaleEsUs})
	ok("GetBuiltinIntents", 200, err)
	_, err = c.GetBuiltinSlotTypes(ctx, &lm.GetBuiltinSlotTypesInput{Locale: types.LocaleDeDe})
	ok("GetBuiltinSlotTypes", 200, err)

	_, err = c.GetUtterancesView(ctx, &lm.GetUtterancesViewInput{BotName: aws.String("OrderFlowersBot"), BotVersions: []string{"1"}, StatusType: types.StatusTypeDetected})
	ok("GetUtterancesView", 200, err)
	_, err = c.DeleteUtterances(ctx, &lm.DeleteUtterancesInput{BotName: aws.String("OrderFlowersBot"), UserId: aws.String("user-1")})
	ok("DeleteUtterances", 204, err)

	_, err = c.GetBotChannelAssociations(ctx, &lm.GetBotChannelAssociationsInput{BotName: aws.String("OrderFlowersBot"), BotAlias: aws.String("-")})
	ok("GetBotChannelAssociations", 200, err)
	_, err = c.GetBotChannelAssociation(ctx, &lm.GetBotChannelAssociationInput{BotName: aws.String("OrderFlowersBot"), BotAlias: aws.String("prod"), Name: aws.String("slack")})
	fails("GetBotChannelAssociation", "NotFoundException", err)
	_, err = c.DeleteBotChannelAssociation(ctx, &lm.DeleteBotChannelAssociationInput{BotName: aws.String("OrderFlowersBot"), BotAlias: aws.String("prod"), Name: aws.String("slack")})
	fails("DeleteBotChannelAssociation", "NotFoundException", err)

	_, err = c.GetMigrations(ctx, &lm.GetMigrationsInput{})
	ok("GetMigrations", 200, err)
	_, err = c.GetMigration(ctx, &lm.GetMigrationInput{MigrationId: aws.String("ABCDEFGHIJ")})
	fails("GetMigration", "NotFoundException", err)
	_, err = c.StartMigration(ctx, &lm.StartMigrationInput{V1BotName: aws.String("OrderFlowersBot"), V1BotVersion: aws.String("1"),
		V2BotName: aws.String("OrderFlowersV2"), V2BotRole: aws.String("arn:aws:iam::123456789012:role/LexV2"), MigrationStrategy: types.MigrationStrategyCreateNew})
	fails("StartMigration", "BadRequestException", err)
	if ae := (smithy.APIError)(nil); !errors.As(err, &ae) || ae.ErrorMessage() != lexmodels.ErrNoLexV2 {
		t.Fatalf("StartMigration says %v, want why: %q", err, lexmodels.ErrNoLexV2)
	}
	_, err = c.StartMigration(ctx, &lm.StartMigrationInput{V1BotName: aws.String("NoSuchBot"), V1BotVersion: aws.String("1"),
		V2BotName: aws.String("OrderFlowersV2"), V2BotRole: aws.String("arn:aws:iam::123456789012:role/LexV2"), MigrationStrategy: types.MigrationStrategyCreateNew})
	wantCode(t, err, "NotFoundException")
	if out := must(c.GetMigrations(ctx, &lm.GetMigrationsInput{})).ok(t); len(out.MigrationSummaries) != 0 || out.NextToken != nil {
		t.Fatalf("GetMigrations after refused migrations: %+v", out)
	}
	if out := must(c.GetBotChannelAssociations(ctx, &lm.GetBotChannelAssociationsInput{BotName: aws.String("OrderFlowersBot"), BotAlias: aws.String("prod")})).ok(t); len(out.BotChannelAssociations) != 0 {
		t.Fatalf("channel associations: %+v", out.BotChannelAssociations)
	}

	exp, err := c.GetExport(ctx, &lm.GetExportInput{Name: aws.String("OrderFlowersBot"), Version: aws.String("1"), ResourceType: types.ResourceTypeBot, ExportType: types.ExportTypeLex})
	ok("GetExport", 200, err)
	zipBytes := f.download(aws.ToString(exp.Url))

	// Delete chain: alias, bot version, bot; intent; slot type.
	_, err = c.DeleteBot(ctx, &lm.DeleteBotInput{Name: aws.String("OrderFlowersBot")})
	wantCode(t, err, "ResourceInUseException")
	_, err = c.DeleteBotAlias(ctx, &lm.DeleteBotAliasInput{BotName: aws.String("OrderFlowersBot"), Name: aws.String("prod")})
	ok("DeleteBotAlias", 204, err)
	_, err = c.DeleteBotVersion(ctx, &lm.DeleteBotVersionInput{Name: aws.String("OrderFlowersBot"), Version: aws.String("1")})
	ok("DeleteBotVersion", 204, err)
	_, err = c.DeleteBot(ctx, &lm.DeleteBotInput{Name: aws.String("OrderFlowersBot")})
	ok("DeleteBot", 204, err)
	_, err = c.DeleteIntentVersion(ctx, &lm.DeleteIntentVersionInput{Name: aws.String("OrderFlowers"), Version: aws.String("1")})
	ok("DeleteIntentVersion", 204, err)
	_, err = c.DeleteIntent(ctx, &lm.DeleteIntentInput{Name: aws.String("OrderFlowers")})
	ok("DeleteIntent", 204, err)
	_, err = c.DeleteSlotTypeVersion(ctx, &lm.DeleteSlotTypeVersionInput{Name: aws.String("FlowerTypes"), Version: aws.String("1")})
	ok("DeleteSlotTypeVersion", 204, err)
	if !strings.Contains(f.rec.last.path, "/slottypes/FlowerTypes/version/1") {
		t.Fatalf("DeleteSlotTypeVersion path %s", f.rec.last.path)
	}
	_, err = c.DeleteSlotType(ctx, &lm.DeleteSlotTypeInput{Name: aws.String("FlowerTypes")})
	ok("DeleteSlotType", 204, err)

	imp, err := c.StartImport(ctx, &lm.StartImportInput{Payload: zipBytes, ResourceType: types.ResourceTypeBot, MergeStrategy: types.MergeStrategyFailOnConflict})
	ok("StartImport", 201, err)
	if f.rec.last.path != "/imports" {
		t.Fatalf("the Go SDK sent %s", f.rec.last.path)
	}
	if imp.ImportStatus != types.ImportStatusInProgress || aws.ToString(imp.Name) != "OrderFlowersBot" {
		t.Fatalf("StartImport %+v", imp)
	}
	gi := f.waitImport(aws.ToString(imp.ImportId))
	seen["GetImport"] = true
	if gi.ImportStatus != types.ImportStatusComplete {
		t.Fatalf("import %s: %v", gi.ImportStatus, gi.FailureReason)
	}
	if b := f.waitBot("OrderFlowersBot", "$LATEST"); b.Status != types.StatusReady || len(b.Intents) != 1 || aws.ToString(b.Intents[0].IntentVersion) != "1" {
		t.Fatalf("imported bot %+v", b)
	}

	if len(seen) != 42 {
		var missing []string
		for _, o := range lexmodels.New(lexmodels.Config{}).Catalog().Ops {
			if !seen[o.Name] {
				missing = append(missing, o.Name)
			}
		}
		t.Fatalf("%d operations exercised; missing %v", len(seen), missing)
	}
}

// download fetches an export URL from the export handler (mounted here on
// its own test server, as the server mounts it in front of the gateway).
func (f *fixture) download(raw string) []byte {
	f.t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		f.t.Fatal(err)
	}
	if !strings.HasPrefix(u.Path, lexmodels.ExportPathPrefix) {
		f.t.Fatalf("export URL %s", raw)
	}
	hs := httptest.NewServer(lexmodels.NewExportHandler(f.env.Server.DB, f.env.Clock.Now))
	defer hs.Close()
	resp, err := http.Get(hs.URL + u.RequestURI())
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		f.t.Fatalf("download: %d %s", resp.StatusCode, b)
	}
	return b
}

func (f *fixture) waitImport(id string) *lm.GetImportOutput {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := must(f.c.GetImport(f.ctx, &lm.GetImportInput{ImportId: aws.String(id)})).ok(f.t)
		if out.ImportStatus != types.ImportStatusInProgress {
			return out
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("import %s still in progress", id)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// unzipOne returns the single file of a zip.
func unzipOne(t testing.TB, b []byte) (string, []byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 {
		t.Fatalf("zip has %d files", len(zr.File))
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, _ := io.ReadAll(rc)
	return zr.File[0].Name, data
}

func TestExportURLIsSignedAndExpires(t *testing.T) {
	lexmodels.EachDriver(t, testExportURLIsSignedAndExpires)
}

func testExportURLIsSignedAndExpires(t *testing.T, drv lexmodels.TestDriver) {
	f := newFixture(t, drv)
	f.orderFlowers("OrderFlowersBot")
	must(f.c.CreateBotVersion(f.ctx, &lm.CreateBotVersionInput{Name: aws.String("OrderFlowersBot")})).ok(t)
	exp := must(f.c.GetExport(f.ctx, &lm.GetExportInput{Name: aws.String("OrderFlowersBot"), Version: aws.String("1"), ResourceType: types.ResourceTypeBot, ExportType: types.ExportTypeLex})).ok(t)
	if exp.ExportStatus != types.ExportStatusReady {
		t.Fatalf("status %s", exp.ExportStatus)
	}
	u, _ := url.Parse(aws.ToString(exp.Url))
	if u.Host != strings.TrimPrefix(f.env.URL, "http://") {
		t.Fatalf("URL host %s, want the listener %s", u.Host, f.env.URL)
	}
	hs := httptest.NewServer(lexmodels.NewExportHandler(f.env.Server.DB, f.env.Clock.Now))
	defer hs.Close()
	get := func(path string) int {
		resp, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tampered := strings.Replace(u.RequestURI(), "/1.zip", "/2.zip", 1)
	for _, tc := range []struct {
		name, path string
		want       int
	}{
		{"valid", u.RequestURI(), 200},
		{"tampered version", tampered, 403},
		{"no signature", u.Path, 403},
		{"unknown path", lexmodels.ExportPathPrefix + "x.zip", 404},
	} {
		if got := get(tc.path); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	// LEX document shape (spec X1).
	name, doc := unzipOne(t, f.download(aws.ToString(exp.Url)))
	var d struct {
		Metadata map[string]string `json:"metadata"`
		Resource struct {
			Intents []struct{ Version string } `json:"intents"`
		} `json:"resource"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	if name != "OrderFlowersBot_Export.json" || d.Metadata["importType"] != "LEX" || d.Metadata["schemaVersion"] != "1.0" ||
		d.Metadata["importFormat"] != "JSON" || len(d.Resource.Intents) != 1 || d.Resource.Intents[0].Version != "1" {
		t.Errorf("export %s: %s", name, doc)
	}

	f.env.Clock.Advance(11 * time.Minute)
	if got := get(u.RequestURI()); got != 403 {
		t.Errorf("expired URL: %d, want 403", got)
	}
}

func TestAlexaExport(t *testing.T) { lexmodels.EachDriver(t, testAlexaExport) }

func testAlexaExport(t *testing.T, drv lexmodels.TestDriver) {
	f := newFixture(t, drv)
	f.orderFlowers("OrderFlowersBot")
	must(f.c.CreateBotVersion(f.ctx, &lm.CreateBotVersionInput{Name: aws.String("OrderFlowersBot")})).ok(t)
	_, err := f.c.GetExport(f.ctx, &lm.GetExportInput{Name: aws.String("OrderFlowers"), Version: aws.String("1"), ResourceType: types.ResourceTypeIntent, ExportType: types.ExportTypeAlexaSkillsKit})
	wantCode(t, err, "BadRequestException")
	exp := must(f.c.GetExport(f.ctx, &lm.GetExportInput{Name: aws.String("OrderFlowersBot"), Version: aws.String("1"), ResourceType: types.ResourceTypeBot, ExportType: types.ExportTypeAlexaSkillsKit})).ok(t)
	name, doc := unzipOne(t, f.download(aws.ToString(exp.Url)))
	var m struct {
		InteractionModel struct {
			LanguageModel struct {
				InvocationName string `json:"invocationName"`
				Intents        []struct {
					Name    string   `json:"name"`
					Samples []string `json:"samples"`
					Slots   []struct{ Name, Type string }
				} `json:"intents"`
				Types []struct {
					Name   string `json:"name"`
					Values []struct {
						Name struct{ Value string } `json:"name"`
					} `json:"values"`
				} `json:"types"`
			} `json:"languageModel"`
		} `json:"interactionModel"`
	}
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	lmod := m.InteractionModel.LanguageModel
	if name != "OrderFlowersBot.json" || lmod.InvocationName != "order flowers bot" || len(lmod.Intents) != 1 ||
		lmod.Intents[0].Name != "OrderFlowers" || len(lmod.Intents[0].Samples) != 3 || len(lmod.Types) != 1 || len(lmod.Types[0].Values) != 3 {
		t.Fatalf("ASK model %s: %s", name, doc)
	}
}

// TestModelArtefact checks that a build stores the compiled model the
// runtime loads.
func TestModelArtefact(t *testing.T) { lexmodels.EachDriver(t, testModelArtefact) }

func testModelArtefact(t *testing.T, drv lexmodels.TestDriver) {
	f := newFixture(t, drv)
	f.orderFlowers("OrderFlowersBot")
	err := f.env.Server.DB.Read(f.ctx, func(tx *store.Tx) error {
		m, err := lexmodels.LoadModel(f.ctx, tx, f.env.AccountID, "us-east-1", "OrderFlowersBot", "$LATEST")
		if err != nil {
			return err
		}
		if m == nil || len(m.Intents) != 1 || len(m.SlotTypes) != 1 || m.SlotTypes[0].Values[1].Norm[1] != "tulip" || len(m.NLU) == 0 {
			t.Fatalf("model %+v", m)
		}
		// the compiled language model is stored with it
		lang, err := nlu.Load(m.NLU)
		if err != nil {
			t.Fatalf("nlu.Load: %v", err)
		}
		r := lang.Parse("i would like to order tulips", nlu.Options{})
		if len(r.Intents) == 0 || r.Intents[0].Name != "OrderFlowers" || r.Intents[0].Slots["FlowerType"].Resolved != "tulips" {
			t.Fatalf("stored language model parses %+v", r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
