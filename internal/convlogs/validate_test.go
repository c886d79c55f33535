package convlogs_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// wantBadRequest checks a 400 BadRequestException whose message contains
// every part of want.
func wantBadRequest(t *testing.T, name string, err error, want ...string) {
	t.Helper()
	var ae smithy.APIError
	var re *awshttp.ResponseError
	if !errors.As(err, &ae) || !errors.As(err, &re) {
		t.Errorf("%s: error %v, want 400 BadRequestException", name, err)
		return
	}
	if ae.ErrorCode() != "BadRequestException" || re.HTTPStatusCode() != 400 {
		t.Errorf("%s: %s %d (%s), want 400 BadRequestException", name, ae.ErrorCode(), re.HTTPStatusCode(), ae.ErrorMessage())
		return
	}
	for _, w := range want {
		if !strings.Contains(ae.ErrorMessage(), w) {
			t.Errorf("%s: message %q does not say %q", name, ae.ErrorMessage(), w)
		}
	}
}

// TestValidationRules: every rule of spec §3.2 refused with a 400
// BadRequestException that says which rule failed, nothing stored; the
// iam:PassRole rule for an IAM user with and without the permission.
func TestValidationRules(t *testing.T) { eachDriver(t, testValidationRules) }

func testValidationRules(t *testing.T, db string) {
	cl := newCluster(t, db)
	n := cl.node()
	c := n.clients(t)
	key := c.dests("lex-text", "lex-audio")
	c.deploy(flowersBot("OrderFlowers"))
	kid := flowersBot("KidsFlowers")
	kid["childDirected"] = true
	c.deploy(kid)
	if _, err := c.s3.CreateBucket(c.ctx, &s3.CreateBucketInput{Bucket: aws.String("eu-audio"),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.iam.CreateRole(c.ctx, &iam.CreateRoleInput{RoleName: aws.String("Ec2Role"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	// a role trusting Lex only for another alias (aws:SourceArn)
	if _, err := c.iam.CreateRole(c.ctx, &iam.CreateRoleInput{RoleName: aws.String("OtherAlias"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lex.amazonaws.com"},"Action":"sts:AssumeRole",
			"Condition":{"StringEquals":{"aws:SourceAccount":"` + acct + `"},"ArnLike":{"aws:SourceArn":"arn:aws:lex:us-east-1:` + acct + `:bot:OrderFlowers:test"}}}]}`)}); err != nil {
		t.Fatal(err)
	}
	role := roleARN("LexConvLogs")
	text := func(arn string) lmtypes.LogSettingsRequest {
		return lmtypes.LogSettingsRequest{LogType: lmtypes.LogTypeText, Destination: lmtypes.DestinationCloudwatchLogs, ResourceArn: aws.String(arn)}
	}
	audio := func(arn string, key *string) lmtypes.LogSettingsRequest {
		return lmtypes.LogSettingsRequest{LogType: lmtypes.LogTypeAudio, Destination: lmtypes.DestinationS3, ResourceArn: aws.String(arn), KmsKeyArn: key}
	}
	req := func(role string, ls ...lmtypes.LogSettingsRequest) *lmtypes.ConversationLogsRequest {
		if ls == nil {
			ls = []lmtypes.LogSettingsRequest{}
		}
		return &lmtypes.ConversationLogsRequest{IamRoleArn: aws.String(role), LogSettings: ls}
	}
	grp, bkt := groupARN("lex-text"), "arn:aws:s3:::lex-audio"
	missingKey := "arn:aws:kms:us-east-1:" + acct + ":key/11111111-2222-3333-4444-555555555555"
	for _, tc := range []struct {
		name string
		bot  string
		logs *lmtypes.ConversationLogsRequest
		want []string
	}{
		{"TEXT to S3", "", req(role, lmtypes.LogSettingsRequest{LogType: lmtypes.LogTypeText, Destination: lmtypes.DestinationS3, ResourceArn: aws.String(bkt)}),
			[]string{"destination of a TEXT log setting must be CLOUDWATCH_LOGS, not S3"}},
		{"AUDIO to CloudWatch Logs", "", req(role, lmtypes.LogSettingsRequest{LogType: lmtypes.LogTypeAudio, Destination: lmtypes.DestinationCloudwatchLogs, ResourceArn: aws.String(grp)}),
			[]string{"destination of an AUDIO log setting must be S3, not CLOUDWATCH_LOGS"}},
		{"two TEXT entries", "", req(role, text(grp), text(grp)), []string{"more than one TEXT log setting"}},
		{"two AUDIO entries", "", req(role, audio(bkt, nil), audio(bkt, nil)), []string{"more than one AUDIO log setting"}},
		{"empty logSettings", "", req(role), []string{"logSettings is empty"}},
		{"kmsKeyArn on TEXT", "", req(role, lmtypes.LogSettingsRequest{LogType: lmtypes.LogTypeText, Destination: lmtypes.DestinationCloudwatchLogs,
			ResourceArn: aws.String(grp), KmsKeyArn: aws.String(key)}), []string{"kmsKeyArn applies only to S3"}},
		{"iamRoleArn too short", "", req("not-an-arn", text(grp)), []string{"'not-an-arn' at 'conversationLogs.iamRoleArn'", "length greater than or equal to 20"}},
		{"iamRoleArn pattern", "", req("arn:aws:iam::123456789012:user/bob", text(grp)), []string{"at 'conversationLogs.iamRoleArn'", "regular expression pattern"}},
		{"logType enum", "", req(role, lmtypes.LogSettingsRequest{LogType: "VIDEO", Destination: lmtypes.DestinationS3, ResourceArn: aws.String(bkt)}),
			[]string{"'VIDEO' at 'conversationLogs.logSettings.1.member.logType'", "enum value set: [AUDIO, TEXT]"}},
		{"destination enum", "", req(role, lmtypes.LogSettingsRequest{LogType: lmtypes.LogTypeText, Destination: "KINESIS", ResourceArn: aws.String(grp)}),
			[]string{"at 'conversationLogs.logSettings.1.member.destination'"}},
		{"resourceArn pattern", "", req(role, text("arn:aws:logs:us-east-1:123:log-group:x")), []string{"at 'conversationLogs.logSettings.1.member.resourceArn'", "regular expression"}},
		{"kmsKeyArn pattern", "", req(role, audio(bkt, aws.String("arn:aws:kms:us-east-1:123456789012:secret/x"))), []string{"member.kmsKeyArn", "regular expression"}},
		{"CloudWatch Logs with a bucket ARN", "", req(role, text(bkt)), []string{"must be a log group ARN"}},
		{"S3 with a log group ARN", "", req(role, audio(grp, nil)), []string{"must be a bucket ARN"}},
		{"log group in another region", "", req(role, text("arn:aws:logs:eu-west-1:"+acct+":log-group:lex-text")), []string{"is in region eu-west-1", "bot's region us-east-1"}},
		{"log group in another account", "", req(role, text("arn:aws:logs:us-east-1:210987654321:log-group:lex-text")), []string{"belongs to account 210987654321"}},
		{"log group missing", "", req(role, text(groupARN("nope"))), []string{"log group nope does not exist"}},
		{"bucket missing", "", req(role, audio("arn:aws:s3:::nope-bucket", nil)), []string{"S3 bucket nope-bucket does not exist"}},
		{"bucket in another region", "", req(role, audio("arn:aws:s3:::eu-audio", nil)), []string{"bucket eu-audio is in region eu-west-1"}},
		{"KMS key missing", "", req(role, audio(bkt, aws.String(missingKey))), []string{"KMS key " + missingKey + " does not exist"}},
		{"KMS key in another region", "", req(role, audio(bkt, aws.String(strings.Replace(key, "us-east-1", "eu-west-1", 1)))), []string{"is in region eu-west-1"}},
		{"role missing", "", req(roleARN("Nobody"), text(grp)), []string{"IAM role " + roleARN("Nobody") + " does not exist"}},
		{"role in another account", "", req("arn:aws:iam::210987654321:role/LexConvLogs", text(grp)), []string{"belongs to account 210987654321"}},
		{"role not trusting Lex", "", req(roleARN("Ec2Role"), text(grp)), []string{"cannot be assumed by lex.amazonaws.com", "trust policy"}},
		{"role trusting Lex for another alias", "", req(roleARN("OtherAlias"), text(grp)), []string{"cannot be assumed by lex.amazonaws.com", "bot:OrderFlowers:prod"}},
		{"child-directed bot", "KidsFlowers", req(role, text(grp)), []string{"bot KidsFlowers version 1", "child-directed"}},
	} {
		bot := tc.bot
		if bot == "" {
			bot = "OrderFlowers"
		}
		_, err := c.putAlias(bot, "prod", "1", tc.logs)
		wantBadRequest(t, tc.name, err, tc.want...)
	}
	// nothing was stored
	for _, bot := range []string{"OrderFlowers", "KidsFlowers"} {
		if _, err := c.lm.GetBotAlias(c.ctx, &lm.GetBotAliasInput{BotName: aws.String(bot), Name: aws.String("prod")}); err == nil {
			t.Errorf("a refused PutBotAlias created %s/prod", bot)
		}
	}
	// the same alias with a good configuration, and with the role trusting
	// this very alias
	c.mustAlias("OrderFlowers", "prod", "1", logsConfig(role, "lex-text", "lex-audio", key))
	c.mustAlias("OrderFlowers", "test", "1", logsConfig(roleARN("OtherAlias"), "lex-text", "", ""))
	// a child-directed bot takes an alias without logs
	c.mustAlias("KidsFlowers", "prod", "1", nil)

	// iam:PassRole: an IAM user allowed lex:* but not to pass the role
	if _, err := c.iam.CreateUser(c.ctx, &iam.CreateUserInput{UserName: aws.String("dev")}); err != nil {
		t.Fatal(err)
	}
	k, err := c.iam.CreateAccessKey(c.ctx, &iam.CreateAccessKeyInput{UserName: aws.String("dev")})
	if err != nil {
		t.Fatal(err)
	}
	userPolicy := func(passRole string) {
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lex:*","Resource":"*"}` + passRole + `]}`
		if _, err := c.iam.PutUserPolicy(c.ctx, &iam.PutUserPolicyInput{UserName: aws.String("dev"), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	dev := n.clients(t, aws.Credentials{AccessKeyID: aws.ToString(k.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(k.AccessKey.SecretAccessKey)})
	userPolicy("")
	_, err = dev.putAlias("OrderFlowers", "dev", "1", logsConfig(role, "lex-text", "", ""))
	wantBadRequest(t, "PassRole without permission", err, "User: arn:aws:iam::"+acct+":user/dev is not authorized to perform: iam:PassRole on resource: "+role,
		"iam:PassedToService lex.amazonaws.com")
	userPolicy(`,{"Effect":"Allow","Action":"iam:PassRole","Resource":"` + role + `","Condition":{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}}`)
	_, err = dev.putAlias("OrderFlowers", "dev", "1", logsConfig(role, "lex-text", "", ""))
	wantBadRequest(t, "PassRole for another service only", err, "not authorized to perform: iam:PassRole")
	// without conversation logs the user needs no PassRole
	if _, err := dev.putAlias("OrderFlowers", "dev", "1", nil); err != nil {
		t.Fatalf("PutBotAlias without logs: %v", err)
	}
	userPolicy(`,{"Effect":"Allow","Action":"iam:PassRole","Resource":"` + role + `","Condition":{"StringEquals":{"iam:PassedToService":"lex.amazonaws.com"}}}`)
	out, err := dev.putAlias("OrderFlowers", "dev", "1", logsConfig(role, "lex-text", "", ""))
	if err != nil || len(out.ConversationLogs.LogSettings) != 1 {
		t.Fatalf("PutBotAlias with PassRole to Lex: %v %v", out, err)
	}
}
