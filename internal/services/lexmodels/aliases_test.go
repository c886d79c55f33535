package lexmodels_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	"github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"lextrail/internal/services/lexmodels"
)

// TestAliasConversationLogs: PutBotAlias stores conversationLogs and every
// alias read returns them with the resourcePrefix aws/lex/{bot}/{alias}/
// {version}/ (spec §3.1), kmsKeyArn only where given; an update replaces
// them, and an update without them removes them (full replacement).
func TestAliasConversationLogs(t *testing.T) { lexmodels.EachDriver(t, testAliasConversationLogs) }

func testAliasConversationLogs(t *testing.T, drv lexmodels.TestDriver) {
	f := newFixture(t, drv)
	c, ctx, acct := f.c, f.ctx, f.env.AccountID
	f.orderFlowers("OrderFlowersBot")
	must(c.CreateBotVersion(ctx, &lm.CreateBotVersionInput{Name: aws.String("OrderFlowersBot")})).ok(t)
	// PutBotAlias checks that the role, log group, bucket and key exist
	// (internal/convlogs tests every rule)
	cfg := f.env.Config()
	must(iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("LexLogs"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lex.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})).ok(t)
	must(cloudwatchlogs.NewFromConfig(cfg).CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("lex")})).ok(t)
	must(s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lex-audio")})).ok(t)
	key := must(kms.NewFromConfig(cfg).CreateKey(ctx, &kms.CreateKeyInput{})).ok(t)
	logs := &types.ConversationLogsRequest{IamRoleArn: aws.String("arn:aws:iam::" + acct + ":role/LexLogs"), LogSettings: []types.LogSettingsRequest{
		{LogType: types.LogTypeText, Destination: types.DestinationCloudwatchLogs, ResourceArn: aws.String("arn:aws:logs:us-east-1:" + acct + ":log-group:lex")},
		{LogType: types.LogTypeAudio, Destination: types.DestinationS3, ResourceArn: aws.String("arn:aws:s3:::lex-audio"), KmsKeyArn: key.KeyMetadata.Arn},
	}}
	check := func(what string, got *types.ConversationLogsResponse, version string) {
		t.Helper()
		if got == nil || aws.ToString(got.IamRoleArn) != *logs.IamRoleArn || len(got.LogSettings) != 2 {
			t.Fatalf("%s: conversationLogs %+v", what, got)
		}
		prefix := "aws/lex/OrderFlowersBot/prod/" + version + "/"
		for i, ls := range got.LogSettings {
			w := logs.LogSettings[i]
			if ls.LogType != w.LogType || ls.Destination != w.Destination || aws.ToString(ls.ResourceArn) != *w.ResourceArn ||
				aws.ToString(ls.ResourcePrefix) != prefix || aws.ToString(ls.KmsKeyArn) != aws.ToString(w.KmsKeyArn) {
				t.Errorf("%s: log setting %d %+v, want %+v with prefix %s", what, i, ls, w, prefix)
			}
		}
	}
	put := must(c.PutBotAlias(ctx, &lm.PutBotAliasInput{BotName: aws.String("OrderFlowersBot"), Name: aws.String("prod"), BotVersion: aws.String("1"), ConversationLogs: logs})).ok(t)
	check("PutBotAlias", put.ConversationLogs, "1")
	check("GetBotAlias", must(c.GetBotAlias(ctx, &lm.GetBotAliasInput{BotName: aws.String("OrderFlowersBot"), Name: aws.String("prod")})).ok(t).ConversationLogs, "1")
	list := must(c.GetBotAliases(ctx, &lm.GetBotAliasesInput{BotName: aws.String("OrderFlowersBot")})).ok(t)
	check("GetBotAliases", list.BotAliases[0].ConversationLogs, "1")

	// Pointing the alias at $LATEST moves the prefix; dropping the logs
	// on an update removes them.
	put = must(c.PutBotAlias(ctx, &lm.PutBotAliasInput{BotName: aws.String("OrderFlowersBot"), Name: aws.String("prod"), BotVersion: aws.String("$LATEST"),
		Checksum: put.Checksum, ConversationLogs: logs})).ok(t)
	check("PutBotAlias $LATEST", put.ConversationLogs, "$LATEST")
	put = must(c.PutBotAlias(ctx, &lm.PutBotAliasInput{BotName: aws.String("OrderFlowersBot"), Name: aws.String("prod"), BotVersion: aws.String("1"), Checksum: put.Checksum})).ok(t)
	if put.ConversationLogs != nil {
		t.Errorf("update without conversationLogs kept them: %+v", put.ConversationLogs)
	}
	if got := must(c.GetBotAlias(ctx, &lm.GetBotAliasInput{BotName: aws.String("OrderFlowersBot"), Name: aws.String("prod")})).ok(t); got.ConversationLogs != nil {
		t.Errorf("GetBotAlias still has conversationLogs: %+v", got.ConversationLogs)
	}
}
