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
	lm "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
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
		time.Sleep(10 * time.Millisecond)
	}
}

// RunAB alternates rounds of PostText turns on alias "load" (no logs) and
// "loadlog" (text conversation logs) on one server, each slice
// -duration/(2·rounds) long with fresh users, every turn counted.
// Delivery runs during the logged slices, as in production; what is still
// queued when one ends is delivered before the next slice starts, and that
// CPU is counted to the logged slice (its idle wait is not). Interleaving
// cancels most of the drift of a shared machine.
func RunAB(o Options, rounds int) (string, error) {
	o.ConvLogs = false // the unlogged alias stays unlogged; the logged one is set up below
	starts, err := setupPostText(o)
	if err != nil {
		return "", err
	}
	ctx := context.Background()
	logs, err := setupConvLogs(ctx, o)
	if err != nil {
		return "", fmt.Errorf("conversation logs: %w", err)
	}
	c := lmClient(o)
	var checksum *string
	if a, err := c.GetBotAlias(ctx, &lm.GetBotAliasInput{BotName: aws.String(loadBot), Name: aws.String("loadlog")}); err == nil {
		checksum = a.Checksum
	}
	if _, err := c.PutBotAlias(ctx, &lm.PutBotAliasInput{BotName: aws.String(loadBot), Name: aws.String("loadlog"), BotVersion: aws.String("1"),
		Checksum: checksum, ConversationLogs: logs}); err != nil {
		return "", fmt.Errorf("PutBotAlias loadlog: %w", err)
	}
	slice := o.Duration / time.Duration(2*rounds)
	var off, on Result
	var last string
	add := func(dst *Result, r Result, extra time.Duration, extraCPU time.Duration) {
		dst.Requests += r.Requests
		dst.Errors += r.Errors
		dst.Elapsed += r.Elapsed + extra
		dst.CPU += r.CPU + extraCPU
		if dst.FirstError == "" {
			dst.FirstError = r.FirstError
		}
	}
	for i := 0; i < rounds; i++ {
		so := o
		so.Duration, so.Warmup, so.Starts = slice, 0, starts
		so.Alias, so.UserPrefix = loadAlias, fmt.Sprintf("off%d", i)
		r, err := Run(so)
		if err != nil {
			return "", err
		}
		add(&off, r, 0, 0)
		so.Alias, so.UserPrefix = "loadlog", fmt.Sprintf("on%d", i)
		if r, err = Run(so); err != nil {
			return "", err
		}
		cpu0 := processCPU()
		msg := convLogsDelivery(o.Endpoint, time.Minute)
		add(&on, r, 0, processCPU()-cpu0)
		if i == rounds-1 {
			last = msg
		}
	}
	return fmt.Sprintf("PostText A/B, %d rounds of %v + %v, %d connections\n"+
		"without conversation logs: %d turns, %.0f turns/s, CPU %v per turn, errors %d\n"+
		"with text logs:            %d turns, %.0f turns/s, CPU %v per turn (delivery included), errors %d\n"+
		"throughput with logs: %.1f%% of without; CPU per turn +%.1f%%\n%s\n",
		rounds, slice, slice, o.Connections,
		off.Requests, perSecond(off), cpuPer(off).Round(time.Microsecond), off.Errors,
		on.Requests, perSecond(on), cpuPer(on).Round(time.Microsecond), on.Errors,
		100*perSecond(on)/perSecond(off), 100*(float64(cpuPer(on))/float64(cpuPer(off))-1), last), nil
}

func lmClient(o Options) *lm.Client {
	return lm.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(o.Endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: o.AccessKey, SecretAccessKey: o.SecretKey}}})
}
