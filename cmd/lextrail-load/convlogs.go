package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"
)

// -convlogs: the PostText alias logs every turn's text document into a
// log group, as the Lex service with a role (created here: trusting
// lex.amazonaws.com, allowed to write the group's streams).

const (
	convLogsGroup = "lextrail-load-convlogs"
	convLogsRole  = "LextrailLoadConvLogs"
)

func setupConvLogs(ctx context.Context, o Options) (*lmtypes.ConversationLogsRequest, error) {
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(o.Endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(o.AccessKey, o.SecretKey, "")}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, err
	}
	acct := aws.ToString(id.Account)
	_, err = cloudwatchlogs.NewFromConfig(cfg).CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(convLogsGroup)})
	var exists *cwtypes.ResourceAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return nil, err
	}
	ic := iam.NewFromConfig(cfg)
	_, err = ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(convLogsRole),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lex.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	var taken *iamtypes.EntityAlreadyExistsException
	if err != nil && !errors.As(err, &taken) {
		return nil, err
	}
	group := "arn:aws:logs:us-east-1:" + acct + ":log-group:" + convLogsGroup
	if _, err := ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(convLogsRole), PolicyName: aws.String("conversation-logs"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"` + group + `:*"}]}`)}); err != nil {
		return nil, err
	}
	return &lmtypes.ConversationLogsRequest{IamRoleArn: aws.String("arn:aws:iam::" + acct + ":role/" + convLogsRole),
		LogSettings: []lmtypes.LogSettingsRequest{{LogType: lmtypes.LogTypeText, Destination: lmtypes.DestinationCloudwatchLogs, ResourceArn: aws.String(group)}}}, nil
}

// convLogsDelivery waits (up to wait) until every queued conversation log
// has been delivered, reading lextrail's /metrics, and says how it went.
func convLogsDelivery(endpoint string, wait time.Duration) string {
	read := func(name string) (float64, error) {
		resp, err := http.Get(endpoint + "/metrics")
		if err != nil {
			return 0, err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\{type="text"\} (\S+)$`).FindSubmatch(b)
		if m == nil {
			return 0, nil
		}
		return strconv.ParseFloat(string(m[1]), 64)
	}
	start := time.Now()
	for {
		enq, err1 := read("lextrail_convlogs_enqueued_total")
		del, err2 := read("lextrail_convlogs_delivered_total")
		if err := errors.Join(err1, err2); err != nil {
			return "convlogs: " + err.Error()
		}
		if del >= enq || time.Since(start) > wait {
			return fmt.Sprintf("convlogs: %.0f text documents queued, %.0f delivered to log group %s, %v after the run", enq, del, convLogsGroup,
				time.Since(start).Round(time.Millisecond))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
