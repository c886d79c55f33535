package convlogs

import (
	"encoding/json"
	"errors"
	"strings"

	"lextrail/internal/services/lexmodels"
)

// Log types and destinations (spec §3.1).
const (
	TypeText       = "TEXT"
	TypeAudio      = "AUDIO"
	DestCloudWatch = "CLOUDWATCH_LOGS"
	DestS3         = "S3"
	latestAlias    = "$LATEST"
	prefixRoot     = "aws/lex/"
)

// settings are an alias's conversation-log settings as a session carries
// them (the PutBotAlias conversationLogs JSON lexmodels stored).
type settings struct {
	Role  string
	Text  *logGroupRef
	Audio *bucketRef
}

// logGroupRef is a TEXT destination.
type logGroupRef struct {
	// ARN is the log group's ARN without a trailing ":*".
	ARN                   string
	Region, Account, Name string
}

// bucketRef is an AUDIO destination.
type bucketRef struct {
	Bucket string
	// KMSKey is the kmsKeyArn ("" for the bucket's default encryption).
	KMSKey string
}

var errBadSettings = errors.New("convlogs: conversation-log settings are not valid")

// parseSettings reads stored settings (validated by PutBotAlias).
func parseSettings(raw json.RawMessage) (*settings, error) {
	var req lexmodels.ConversationLogsRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, errors.Join(errBadSettings, err)
	}
	st := &settings{Role: req.IamRoleArn}
	for _, ls := range req.LogSettings {
		switch {
		case ls.LogType == TypeText && ls.Destination == DestCloudWatch:
			g, ok := parseLogGroupARN(ls.ResourceArn)
			if !ok {
				return nil, errBadSettings
			}
			st.Text = &g
		case ls.LogType == TypeAudio && ls.Destination == DestS3:
			b, ok := parseBucketARN(ls.ResourceArn)
			if !ok {
				return nil, errBadSettings
			}
			st.Audio = &bucketRef{Bucket: b}
			if ls.KmsKeyArn != nil {
				st.Audio.KMSKey = *ls.KmsKeyArn
			}
		default:
			return nil, errBadSettings
		}
	}
	if st.Role == "" || st.Text == nil && st.Audio == nil {
		return nil, errBadSettings
	}
	return st, nil
}

// parseLogGroupARN splits arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME
// (a trailing ":*" allowed).
func parseLogGroupARN(arn string) (logGroupRef, bool) {
	p := strings.SplitN(strings.TrimSuffix(arn, ":*"), ":", 7)
	if len(p) != 7 || p[0] != "arn" || p[2] != "logs" || p[5] != "log-group" || p[3] == "" || p[4] == "" || p[6] == "" {
		return logGroupRef{}, false
	}
	return logGroupRef{ARN: strings.Join(p, ":"), Region: p[3], Account: p[4], Name: p[6]}, true
}

// parseBucketARN returns the bucket of arn:PARTITION:s3:::BUCKET.
func parseBucketARN(arn string) (string, bool) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[2] != "s3" || p[3] != "" || p[4] != "" || p[5] == "" || strings.Contains(p[5], "/") {
		return "", false
	}
	return p[5], true
}

// ResourcePrefix is the resourcePrefix of an alias's logs:
// aws/lex/{bot}/{alias}/{version}/ (spec §3.1).
func ResourcePrefix(bot, alias, version string) string {
	return prefixRoot + bot + "/" + alias + "/" + version + "/"
}

// aliasARN is the bot alias's ARN (the aws:SourceArn of the role session).
func aliasARN(region, account, bot, alias string) string {
	return "arn:aws:lex:" + region + ":" + account + ":bot:" + bot + ":" + alias
}
