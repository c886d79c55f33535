package convlogs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/services/iam"
	"lextrail/internal/services/kms"
	"lextrail/internal/services/lexmodels"
)

// Patterns of the lex-models model for ConversationLogsRequest (spec §3.1).
var (
	reRoleARN     = regexp.MustCompile(`^arn:[\w\-]+:iam::[\d]{12}:role/.+$`)
	reResourceARN = regexp.MustCompile(`^arn:[\w\-]+:(?:logs:[\w\-]+:[\d]{12}:log-group:[\.\-_/#A-Za-z0-9]{1,512}(?::\*)?|s3:::[a-z0-9][\.\-a-z0-9]{1,61}[a-z0-9])$`)
	reKMSKeyARN   = regexp.MustCompile(`^arn:[\w\-]+:kms:[\w\-]+:[\d]{12}:(?:key\/[\w\-]+|alias\/[a-zA-Z0-9:\/_\-]{1,256})$`)
)

const (
	patRoleARN     = `^arn:[\w\-]+:iam::[\d]{12}:role/.+$`
	patResourceARN = `^arn:[\w\-]+:(?:logs:[\w\-]+:[\d]{12}:log-group:[\.\-_/#A-Za-z0-9]{1,512}(?::\*)?|s3:::[a-z0-9][\.\-a-z0-9]{1,61}[a-z0-9])$`
	patKMSKeyARN   = `^arn:[\w\-]+:kms:[\w\-]+:[\d]{12}:(?:key\/[\w\-]+|alias\/[a-zA-Z0-9:\/_\-]{1,256})$`
)

func badRequest(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusBadRequest, "BadRequestException", format, args...)
}

// CheckShape applies the rules of spec §3.2 that need nothing but the
// request: both members present, the model's lengths, patterns and enums,
// TEXT ⇔ CLOUDWATCH_LOGS and AUDIO ⇔ S3 (with a resourceArn of that kind),
// at most one entry per log type, a non-empty logSettings, and kmsKeyArn
// only on S3 entries. It returns a 400 BadRequestException naming the rule.
func CheckShape(l *lexmodels.ConversationLogsRequest) error {
	var errs []string
	add := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	str := func(member, v string, lo, hi int, re *regexp.Regexp, pat string) {
		switch {
		case len(v) < lo:
			add("Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", clip(v), member, lo)
		case len(v) > hi:
			add("Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", clip(v), member, hi)
		case !re.MatchString(v):
			add("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", clip(v), member, pat)
		}
	}
	if l.IamRoleArn == "" {
		add("Value null at 'conversationLogs.iamRoleArn' failed to satisfy constraint: Member must not be null")
	} else {
		str("conversationLogs.iamRoleArn", l.IamRoleArn, 20, 2048, reRoleARN, patRoleARN)
	}
	if l.LogSettings == nil {
		add("Value null at 'conversationLogs.logSettings' failed to satisfy constraint: Member must not be null")
	}
	for i, ls := range l.LogSettings {
		m := fmt.Sprintf("conversationLogs.logSettings.%d.member.", i+1)
		if ls.LogType != TypeText && ls.LogType != TypeAudio {
			add("Value '%s' at '%slogType' failed to satisfy constraint: Member must satisfy enum value set: [AUDIO, TEXT]", clip(ls.LogType), m)
		}
		if ls.Destination != DestCloudWatch && ls.Destination != DestS3 {
			add("Value '%s' at '%sdestination' failed to satisfy constraint: Member must satisfy enum value set: [S3, CLOUDWATCH_LOGS]", clip(ls.Destination), m)
		}
		str(m+"resourceArn", ls.ResourceArn, 1, 2048, reResourceARN, patResourceARN)
		if ls.KmsKeyArn != nil {
			str(m+"kmsKeyArn", *ls.KmsKeyArn, 20, 2048, reKMSKeyARN, patKMSKeyARN)
		}
	}
	if len(errs) > 0 {
		n := len(errs)
		if n > 10 {
			errs = errs[:10]
		}
		noun := "errors"
		if n == 1 {
			noun = "error"
		}
		return badRequest("%d validation %s detected: %s", n, noun, strings.Join(errs, "; "))
	}
	if len(l.LogSettings) == 0 {
		return badRequest("conversationLogs.logSettings is empty: give a TEXT or AUDIO log setting, or omit conversationLogs to turn conversation logs off.")
	}
	seen := map[string]bool{}
	for _, ls := range l.LogSettings {
		if seen[ls.LogType] {
			return badRequest("conversationLogs.logSettings has more than one %s log setting; give at most one per log type.", ls.LogType)
		}
		seen[ls.LogType] = true
		switch {
		case ls.LogType == TypeText && ls.Destination != DestCloudWatch:
			return badRequest("The destination of a TEXT log setting must be CLOUDWATCH_LOGS, not %s.", ls.Destination)
		case ls.LogType == TypeAudio && ls.Destination != DestS3:
			return badRequest("The destination of an AUDIO log setting must be S3, not %s.", ls.Destination)
		}
		if ls.KmsKeyArn != nil && ls.Destination != DestS3 {
			return badRequest("kmsKeyArn applies only to S3 (AUDIO) log settings; remove it from the CLOUDWATCH_LOGS log setting.")
		}
		if _, ok := parseLogGroupARN(ls.ResourceArn); ls.Destination == DestCloudWatch && !ok {
			return badRequest("The resourceArn of a CLOUDWATCH_LOGS log setting must be a log group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME), not %s.", ls.ResourceArn)
		}
		if _, ok := parseBucketARN(ls.ResourceArn); ls.Destination == DestS3 && !ok {
			return badRequest("The resourceArn of an S3 log setting must be a bucket ARN (arn:aws:s3:::BUCKET), not %s.", ls.ResourceArn)
		}
	}
	return nil
}

func clip(s string) string {
	if len(s) > 256 {
		return s[:256]
	}
	return s
}

// ValidateConversationLogs implements lexmodels.LogsValidator: CheckShape,
// then the rules that read other services (spec §3.2): the bot is not
// child-directed; the role exists in the caller's account, its trust
// policy lets lex.amazonaws.com assume it (for this alias: aws:SourceArn
// and aws:SourceAccount are set as at delivery), and the caller may pass it
// to Lex (iam:PassRole with iam:PassedToService lex.amazonaws.com); the
// log group and the bucket exist in the bot's region and account, and the
// KMS key exists (in the bot's region). Each failure is a 400
// BadRequestException saying which rule failed. The role's permissions to
// write are not checked here: when they are missing, delivery fails
// visibly (Status, metrics, log) until they are given.
func (s *Service) ValidateConversationLogs(ctx context.Context, c *catalog.Call, a lexmodels.AliasLogs) error {
	l := a.Logs
	if err := CheckShape(l); err != nil {
		return err
	}
	if a.ChildDirected {
		return badRequest("Conversation logs cannot be enabled for bot %s version %s: the bot is child-directed (COPPA), and Amazon Lex keeps no conversation logs for it.", a.BotName, a.BotVersion)
	}
	d := s.deps
	if d.Roles == nil || d.Authorizer == nil || d.Logs == nil || d.Buckets == nil || d.Keys == nil {
		return awserr.Internal(errors.New("convlogs: dependencies not bound"))
	}
	acct, region := c.AccountID(), c.Region

	// The role.
	roleAcct, _, _ := iam.ParseRoleARN(l.IamRoleArn)
	if roleAcct != acct {
		return badRequest("The IAM role %s belongs to account %s; conversation logs need a role in the bot's account %s.", l.IamRoleArn, roleAcct, acct)
	}
	if _, err := d.Roles.RoleByARN(ctx, c.Tx, l.IamRoleArn); err != nil {
		var ae *awserr.Error
		if errors.As(err, &ae) && ae.Code == "NoSuchEntity" {
			return badRequest("The IAM role %s does not exist.", l.IamRoleArn)
		}
		return err
	}
	svc := &catalog.Call{Principal: lexPrincipal(acct), Region: region, Now: c.Now}
	res := []catalog.Resource{{ARN: l.IamRoleArn, AccountID: acct, Type: "AWS::IAM::Role"}}
	keys := map[string][]string{"aws:SourceAccount": {acct}, "aws:SourceArn": {aliasARN(region, acct, a.BotName, a.AliasName)},
		"sts:RoleSessionName": {s.cfg.SessionName}}
	if err := d.Authorizer.Check(ctx, svc, "sts:AssumeRole", res, keys); err != nil {
		if isDenied(err) {
			return badRequest("The IAM role %s cannot be assumed by %s: its trust policy does not allow %s to perform sts:AssumeRole for bot alias %s.",
				l.IamRoleArn, LexService, LexService, aliasARN(region, acct, a.BotName, a.AliasName))
		}
		return err
	}
	if err := d.Authorizer.PassRole(ctx, c, l.IamRoleArn, LexService); err != nil {
		if ae := (*awserr.Error)(nil); errors.As(err, &ae) && isDenied(err) {
			return badRequest("%s; conversation logs need iam:PassRole on the role with iam:PassedToService %s.", strings.TrimSuffix(ae.Message, "."), LexService)
		}
		return err
	}

	// The destinations.
	for _, ls := range l.LogSettings {
		switch ls.Destination {
		case DestCloudWatch:
			g, _ := parseLogGroupARN(ls.ResourceArn)
			if g.Region != region {
				return badRequest("The log group %s is in region %s; it must be in the bot's region %s.", ls.ResourceArn, g.Region, region)
			}
			if g.Account != acct {
				return badRequest("The log group %s belongs to account %s; it must be in the bot's account %s.", ls.ResourceArn, g.Account, acct)
			}
			ok, err := d.Logs.GroupExists(ctx, nil, acct, region, g.Name)
			if err != nil {
				return err
			}
			if !ok {
				return badRequest("The log group %s does not exist. Create it (logs CreateLogGroup) in region %s first.", g.Name, region)
			}
		case DestS3:
			bucket, _ := parseBucketARN(ls.ResourceArn)
			b, err := d.Buckets.Bucket(ctx, bucket)
			if err != nil {
				var ae *awserr.Error
				if errors.As(err, &ae) && ae.Code == "NoSuchBucket" {
					return badRequest("The S3 bucket %s does not exist.", bucket)
				}
				return err
			}
			if b.Region != region {
				return badRequest("The S3 bucket %s is in region %s; it must be in the bot's region %s.", bucket, b.Region, region)
			}
			if b.AccountID != acct {
				return badRequest("The S3 bucket %s belongs to another account; it must be in the bot's account %s.", bucket, acct)
			}
			if ls.KmsKeyArn != nil {
				karn := *ls.KmsKeyArn
				p := strings.SplitN(karn, ":", 6)
				if p[3] != region {
					return badRequest("The KMS key %s is in region %s; it must be in the bot's region %s.", karn, p[3], region)
				}
				if _, err := d.Keys.ResolveKey(ctx, p[4], region, karn); err != nil {
					if kms.IsNotFound(err) {
						return badRequest("The KMS key %s does not exist.", karn)
					}
					return err
				}
			}
		}
	}
	return nil
}

// isDenied reports whether err is an authorization refusal.
func isDenied(err error) bool {
	var ae *awserr.Error
	return errors.As(err, &ae) && ae.Status == http.StatusForbidden || errors.As(err, &ae) && strings.Contains(ae.Code, "AccessDenied")
}
