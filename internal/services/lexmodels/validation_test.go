package lexmodels_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	"github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"

	"lextrail/internal/services/lexmodels"
)

// TestValidation sends what the SDK lets through (it checks only required
// members) and expects the server's 400 with the exact code and a message
// naming the problem (spec §1.7, §2.2).
func TestValidation(t *testing.T) { lexmodels.EachDriver(t, testValidation) }

func testValidation(t *testing.T, drv lexmodels.TestDriver) {
	f := newFixture(t, drv)
	c, ctx := f.c, f.ctx
	f.orderFlowers("OrderFlowersBot")
	okIntent := func(mod func(*lm.PutIntentInput)) error {
		in := &lm.PutIntentInput{Name: aws.String("Probe"), SampleUtterances: []string{"probe me"},
			FulfillmentActivity: &types.FulfillmentActivity{Type: types.FulfillmentActivityTypeReturnIntent}}
		mod(in)
		_, err := c.PutIntent(ctx, in)
		return err
	}
	okBot := func(mod func(*lm.PutBotInput)) error {
		in := &lm.PutBotInput{Name: aws.String("ProbeBot"), Locale: types.LocaleEnUs, ChildDirected: aws.Bool(false), ProcessBehavior: types.ProcessBehaviorSave}
		mod(in)
		_, err := c.PutBot(ctx, in)
		return err
	}
	okType := func(mod func(*lm.PutSlotTypeInput)) error {
		in := &lm.PutSlotTypeInput{Name: aws.String("ProbeType"), EnumerationValues: []types.EnumerationValue{{Value: aws.String("v")}}}
		mod(in)
		_, err := c.PutSlotType(ctx, in)
		return err
	}
	long := strings.Repeat("x", 201)
	cases := []struct {
		name, code, msg string
		call            func() error
	}{
		{"bot name too short (B1)", "BadRequestException", "Member must have length greater than or equal to 2", func() error { return okBot(func(in *lm.PutBotInput) { in.Name = aws.String("A") }) }},
		{"bot name with hyphen", "BadRequestException", "regular expression pattern", func() error { return okBot(func(in *lm.PutBotInput) { in.Name = aws.String("Bad-Name") }) }},
		{"bot name with digit", "BadRequestException", "regular expression pattern", func() error { return okBot(func(in *lm.PutBotInput) { in.Name = aws.String("Bot2") }) }},
		{"bot name with double underscore", "BadRequestException", "regular expression pattern", func() error { return okBot(func(in *lm.PutBotInput) { in.Name = aws.String("Bad__Name") }) }},
		{"locale enum (B3)", "BadRequestException", "enum value set", func() error { return okBot(func(in *lm.PutBotInput) { in.Locale = "xx-XX" }) }},
		{"idle TTL below 60", "BadRequestException", "idleSessionTTLInSeconds", func() error { return okBot(func(in *lm.PutBotInput) { in.IdleSessionTTLInSeconds = aws.Int32(59) }) }},
		{"idle TTL above a day", "BadRequestException", "idleSessionTTLInSeconds", func() error {
			return okBot(func(in *lm.PutBotInput) { in.IdleSessionTTLInSeconds = aws.Int32(86401) })
		}},
		{"description too long", "BadRequestException", "Member must have length less than or equal to 200", func() error { return okBot(func(in *lm.PutBotInput) { in.Description = aws.String(long) }) }},
		{"processBehavior enum", "BadRequestException", "processBehavior", func() error { return okBot(func(in *lm.PutBotInput) { in.ProcessBehavior = "LATER" }) }},
		{"voice for another language", "BadRequestException", "not a valid voice", func() error { return okBot(func(in *lm.PutBotInput) { in.VoiceId = aws.String("Hans") }) }},
		{"unknown intent in bot", "BadRequestException", "does not exist", func() error {
			return okBot(func(in *lm.PutBotInput) {
				in.Intents = []types.Intent{{IntentName: aws.String("Nope"), IntentVersion: aws.String("1")}}
			})
		}},
		{"threshold out of range", "BadRequestException", "nluIntentConfidenceThreshold", func() error {
			return okBot(func(in *lm.PutBotInput) {
				in.EnableModelImprovements = aws.Bool(true)
				in.NluIntentConfidenceThreshold = aws.Float64(1.5)
			})
		}},
		{"threshold without model improvements", "BadRequestException", "enableModelImprovements", func() error {
			return okBot(func(in *lm.PutBotInput) { in.NluIntentConfidenceThreshold = aws.Float64(0.5) })
		}},
		{"prompt maxAttempts", "BadRequestException", "maxAttempts", func() error {
			return okBot(func(in *lm.PutBotInput) {
				in.ClarificationPrompt = prompt("x")
				in.ClarificationPrompt.MaxAttempts = aws.Int32(6)
			})
		}},
		{"message contentType", "BadRequestException", "contentType", func() error {
			return okBot(func(in *lm.PutBotInput) {
				in.AbortStatement = statement("x")
				in.AbortStatement.Messages[0].ContentType = "Html"
			})
		}},
		{"message group number", "BadRequestException", "groupNumber", func() error {
			return okBot(func(in *lm.PutBotInput) {
				in.AbortStatement = statement("x")
				in.AbortStatement.Messages[0].GroupNumber = aws.Int32(6)
			})
		}},
		{"tag key reserved", "BadRequestException", "reserved", func() error {
			return okBot(func(in *lm.PutBotInput) { in.Tags = []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}} })
		}},
		{"slot type reserved name (S9)", "BadRequestException", "reserved", func() error { return okType(func(in *lm.PutSlotTypeInput) { in.Name = aws.String("DATE") }) }},
		{"slot type pattern (S10)", "BadRequestException", "regular expression pattern", func() error { return okType(func(in *lm.PutSlotTypeInput) { in.Name = aws.String("Bad-Name") }) }},
		{"slot type value too long", "BadRequestException", "140", func() error {
			return okType(func(in *lm.PutSlotTypeInput) { in.EnumerationValues[0].Value = aws.String(strings.Repeat("v", 141)) })
		}},
		{"slot type duplicate synonym", "BadRequestException", "unique", func() error {
			return okType(func(in *lm.PutSlotTypeInput) { in.EnumerationValues[0].Synonyms = []string{"v"} })
		}},
		{"slot type strategy enum", "BadRequestException", "valueSelectionStrategy", func() error {
			return okType(func(in *lm.PutSlotTypeInput) { in.ValueSelectionStrategy = "BEST" })
		}},
		{"regex without parent", "BadRequestException", "parentSlotTypeSignature", func() error {
			return okType(func(in *lm.PutSlotTypeInput) {
				in.SlotTypeConfigurations = []types.SlotTypeConfiguration{{RegexConfiguration: &types.SlotTypeRegexConfiguration{Pattern: aws.String("[A-Z]{3}")}}}
			})
		}},
		{"regex with star", "BadRequestException", "not supported", func() error {
			return okType(func(in *lm.PutSlotTypeInput) {
				in.ParentSlotTypeSignature = aws.String("AMAZON.AlphaNumeric")
				in.SlotTypeConfigurations = []types.SlotTypeConfiguration{{RegexConfiguration: &types.SlotTypeRegexConfiguration{Pattern: aws.String("[A-Z]*")}}}
			})
		}},
		{"wrong parent slot type", "BadRequestException", "AMAZON.AlphaNumeric", func() error {
			return okType(func(in *lm.PutSlotTypeInput) { in.ParentSlotTypeSignature = aws.String("AMAZON.NUMBER") })
		}},
		{"intent reserved name (S9)", "BadRequestException", "reserved", func() error { return okIntent(func(in *lm.PutIntentInput) { in.Name = aws.String("HelpIntent") }) }},
		{"confirmation without rejection (S14)", "BadRequestException", "confirmationPrompt and rejectionStatement", func() error {
			return okIntent(func(in *lm.PutIntentInput) { in.ConfirmationPrompt = prompt("sure?") })
		}},
		{"follow-up and conclusion (S15)", "BadRequestException", "mutually exclusive", func() error {
			return okIntent(func(in *lm.PutIntentInput) {
				in.FollowUpPrompt = &types.FollowUpPrompt{Prompt: prompt("more?"), RejectionStatement: statement("ok")}
				in.ConclusionStatement = statement("done")
			})
		}},
		{"conclusion with ReturnIntent (S16)", "BadRequestException", "conclusionStatement", func() error {
			return okIntent(func(in *lm.PutIntentInput) { in.ConclusionStatement = statement("done") })
		}},
		{"CodeHook without codeHook", "BadRequestException", "codeHook", func() error {
			return okIntent(func(in *lm.PutIntentInput) { in.FulfillmentActivity.Type = types.FulfillmentActivityTypeCodeHook })
		}},
		{"bad lambda ARN", "BadRequestException", "uri", func() error {
			return okIntent(func(in *lm.PutIntentInput) {
				in.DialogCodeHook = &types.CodeHook{Uri: aws.String("arn:aws:s3:::not-a-lambda-function"), MessageVersion: aws.String("1.0")}
			})
		}},
		{"built-in parent with utterances", "BadRequestException", "no sampleUtterances", func() error {
			return okIntent(func(in *lm.PutIntentInput) { in.ParentIntentSignature = aws.String("AMAZON.HelpIntent") })
		}},
		{"unknown built-in parent", "BadRequestException", "not a built-in intent", func() error {
			return okIntent(func(in *lm.PutIntentInput) {
				in.SampleUtterances = nil
				in.ParentIntentSignature = aws.String("AMAZON.DanceIntent")
			})
		}},
		{"required slot without prompt", "BadRequestException", "valueElicitationPrompt", func() error {
			return okIntent(func(in *lm.PutIntentInput) {
				in.Slots = []types.Slot{{Name: aws.String("When"), SlotConstraint: types.SlotConstraintRequired, SlotType: aws.String("AMAZON.DATE")}}
			})
		}},
		{"custom slot type without version", "BadRequestException", "slotTypeVersion", func() error {
			return okIntent(func(in *lm.PutIntentInput) {
				in.Slots = []types.Slot{{Name: aws.String("Kind"), SlotConstraint: types.SlotConstraintOptional, SlotType: aws.String("FlowerTypes")}}
			})
		}},
		{"missing slot type version", "BadRequestException", "does not exist", func() error {
			return okIntent(func(in *lm.PutIntentInput) {
				in.Slots = []types.Slot{{Name: aws.String("Kind"), SlotConstraint: types.SlotConstraintOptional, SlotType: aws.String("FlowerTypes"), SlotTypeVersion: aws.String("9")}}
			})
		}},
		{"slot priority", "BadRequestException", "priority", func() error {
			return okIntent(func(in *lm.PutIntentInput) {
				in.Slots = []types.Slot{{Name: aws.String("When"), SlotConstraint: types.SlotConstraintOptional, SlotType: aws.String("AMAZON.DATE"), Priority: aws.Int32(101)}}
			})
		}},
		{"slot utterance without its slot", "BadRequestException", "exactly once", func() error {
			return okIntent(func(in *lm.PutIntentInput) {
				in.Slots = []types.Slot{{Name: aws.String("When"), SlotConstraint: types.SlotConstraintOptional, SlotType: aws.String("AMAZON.DATE"), SampleUtterances: []string{"tomorrow"}}}
			})
		}},
		{"utterance too long", "BadRequestException", "sampleUtterances", func() error {
			return okIntent(func(in *lm.PutIntentInput) { in.SampleUtterances = []string{long} })
		}},
		{"output context TTL", "BadRequestException", "timeToLiveInSeconds", func() error {
			return okIntent(func(in *lm.PutIntentInput) {
				in.OutputContexts = []types.OutputContext{{Name: aws.String("ctx"), TimeToLiveInSeconds: aws.Int32(1), TurnsToLive: aws.Int32(1)}}
			})
		}},
		{"alias to missing version (B10)", "BadRequestException", "does not exist", func() error {
			_, err := c.PutBotAlias(ctx, &lm.PutBotAliasInput{BotName: aws.String("OrderFlowersBot"), Name: aws.String("prod"), BotVersion: aws.String("9")})
			return err
		}},
		{"alias name pattern", "BadRequestException", "regular expression pattern", func() error {
			_, err := c.PutBotAlias(ctx, &lm.PutBotAliasInput{BotName: aws.String("OrderFlowersBot"), Name: aws.String("prod-1"), BotVersion: aws.String("$LATEST")})
			return err
		}},
		{"export $LATEST (X2)", "BadRequestException", "regular expression pattern", func() error {
			_, err := c.GetExport(ctx, &lm.GetExportInput{Name: aws.String("OrderFlowersBot"), Version: aws.String("$LATEST"), ResourceType: types.ResourceTypeBot, ExportType: types.ExportTypeLex})
			return err
		}},
		{"export missing version", "NotFoundException", "does not exist", func() error {
			_, err := c.GetExport(ctx, &lm.GetExportInput{Name: aws.String("OrderFlowersBot"), Version: aws.String("7"), ResourceType: types.ResourceTypeBot, ExportType: types.ExportTypeLex})
			return err
		}},
		{"utterances view versions", "BadRequestException", "botVersions", func() error {
			_, err := c.GetUtterancesView(ctx, &lm.GetUtterancesViewInput{BotName: aws.String("OrderFlowersBot"), BotVersions: []string{"1", "2", "3", "4", "5", "6"}, StatusType: types.StatusTypeMissed})
			return err
		}},
		{"utterances status type", "BadRequestException", "statusType", func() error {
			_, err := c.GetUtterancesView(ctx, &lm.GetUtterancesViewInput{BotName: aws.String("OrderFlowersBot"), BotVersions: []string{"1"}, StatusType: "Maybe"})
			return err
		}},
		{"tag an intent", "BadRequestException", "Only bots", func() error {
			_, err := c.TagResource(ctx, &lm.TagResourceInput{ResourceArn: aws.String("arn:aws:lex:us-east-1:" + f.env.AccountID + ":intent:OrderFlowers:1"), Tags: []types.Tag{}})
			return err
		}},
		{"tag a missing bot", "NotFoundException", "does not exist", func() error {
			_, err := c.ListTagsForResource(ctx, &lm.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:lex:us-east-1:" + f.env.AccountID + ":bot:Nope")})
			return err
		}},
		{"import garbage", "BadRequestException", "zip", func() error {
			_, err := c.StartImport(ctx, &lm.StartImportInput{Payload: []byte("not a zip"), ResourceType: types.ResourceTypeBot, MergeStrategy: types.MergeStrategyFailOnConflict})
			return err
		}},
		{"migration without V2", "BadRequestException", "does not include Amazon Lex V2", func() error {
			_, err := c.StartMigration(ctx, &lm.StartMigrationInput{V1BotName: aws.String("OrderFlowersBot"), V1BotVersion: aws.String("$LATEST"),
				V2BotName: aws.String("V2Bot"), V2BotRole: aws.String("arn:aws:iam::123456789012:role/LexV2"), MigrationStrategy: types.MigrationStrategyCreateNew})
			return err
		}},
		{"migration of unknown bot", "NotFoundException", "does not exist", func() error {
			_, err := c.StartMigration(ctx, &lm.StartMigrationInput{V1BotName: aws.String("NoBot"), V1BotVersion: aws.String("1"),
				V2BotName: aws.String("V2Bot"), V2BotRole: aws.String("arn:aws:iam::123456789012:role/LexV2"), MigrationStrategy: types.MigrationStrategyCreateNew})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			wantCode(t, err, tc.code)
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("message %q lacks %q", err.Error(), tc.msg)
			}
		})
	}
}
