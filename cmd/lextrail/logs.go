package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"lextrail/internal/accounts"
	"lextrail/internal/logs/filter"
	"lextrail/internal/server"
)

// logsCmd is "lextrail logs": the console-free operator path to log
// groups.
//
//	lextrail logs tail GROUP [--filter PATTERN] [--since 10m] [--follow=false] ...
func logsCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "tail" {
		fmt.Fprintln(stderr, "usage: lextrail logs tail GROUP [--filter PATTERN] [--since DURATION] [--follow=false] [--format detailed|short|json]")
		return errUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return logsTail(ctx, args[1:], stdout, stderr)
}

// tailOptions are `lextrail logs tail`'s settings.
type tailOptions struct {
	group, pattern, prefix, format string
	since                          time.Duration
	follow                         bool
	poll                           time.Duration
	client                         *cwl.Client
}

func logsTail(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("logs tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	var o tailOptions
	fs.StringVar(&o.pattern, "filter", "", "CloudWatch Logs filter pattern: terms, \"phrases\", -exclusions, ?alternatives or { $.json = ... }")
	fs.StringVar(&o.prefix, "stream-prefix", "", "only streams whose names start with this")
	fs.DurationVar(&o.since, "since", 10*time.Minute, "start this long ago")
	fs.BoolVar(&o.follow, "follow", true, "keep printing new events until interrupted")
	fs.DurationVar(&o.poll, "poll", time.Second, "how often to look for new events when following")
	fs.StringVar(&o.format, "format", "detailed", "detailed (time, stream, message), short (time, message) or json (one event object a line)")
	endpoint := fs.String("endpoint-url", envOr("LEXTRAIL_ENDPOINT_URL", envOr("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")), "lextrail's URL (env LEXTRAIL_ENDPOINT_URL, AWS_ENDPOINT_URL)")
	region := fs.String("region", envOr("AWS_REGION", envOr("AWS_DEFAULT_REGION", "us-east-1")), "region (env AWS_REGION, AWS_DEFAULT_REGION)")
	// Flags may come before or after GROUP.
	if err := fs.Parse(args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) > 0 {
		o.group = rest[0]
		if err := fs.Parse(rest[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("logs tail: unexpected argument %q", fs.Arg(0))
		}
	}
	if o.group == "" {
		fmt.Fprintln(stderr, "usage: lextrail logs tail GROUP [flags]")
		return errUsage
	}
	switch o.format {
	case "detailed", "short", "json":
	default:
		return fmt.Errorf("--format must be detailed, short or json, not %q", o.format)
	}
	if o.pattern != "" {
		// Say what is wrong before asking the server.
		if _, err := filter.Parse(o.pattern); err != nil {
			return fmt.Errorf("--filter: %v", err)
		}
	}
	creds, err := tailCredentials(ctx, c)
	if err != nil {
		return err
	}
	o.client = cwl.NewFromConfig(aws.Config{
		Region:       *region,
		Credentials:  credentials.StaticCredentialsProvider{Value: creds},
		BaseEndpoint: aws.String(*endpoint),
	})
	return tail(ctx, o, stdout)
}

// tailCredentials are the environment's AWS credentials, else the root
// credentials of the data dir's (or database's) default account.
func tailCredentials(ctx context.Context, c common) (aws.Credentials, error) {
	if id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: os.Getenv("AWS_SESSION_TOKEN")}, nil
	}
	cfg := c.config()
	if _, err := os.Stat(cfg.DataDir); err != nil && cfg.DatabaseURL == "" {
		return aws.Credentials{}, errors.New("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (see \"lextrail admin credentials\") or give --data-dir")
	}
	db, sealer, err := server.OpenState(ctx, cfg)
	if err != nil {
		return aws.Credentials{}, err
	}
	defer db.Close()
	acct := cfg.Bootstrap.AccountID
	if acct == "" {
		acct = accounts.DefaultAccountID
	}
	list, err := accounts.New(db, sealer, accounts.Config{}).RootCredentials(ctx, acct)
	if err != nil {
		return aws.Credentials{}, err
	}
	if len(list) == 0 {
		return aws.Credentials{}, fmt.Errorf("account %s has no active root key; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", acct)
	}
	return aws.Credentials{AccessKeyID: list[0].AccessKeyID, SecretAccessKey: list[0].SecretAccessKey}, nil
}

// tail prints the group's events from o.since ago, oldest first, then (when
// following) polls for new ones. An event is printed once: a poll starts at
// the newest timestamp printed and skips the event IDs already printed at
// that timestamp.
func tail(ctx context.Context, o tailOptions, out io.Writer) error {
	start := time.Now().Add(-o.since).UnixMilli()
	seenAt := map[string]bool{} // event IDs printed at timestamp start
	for {
		in := &cwl.FilterLogEventsInput{LogGroupName: aws.String(o.group), StartTime: aws.Int64(start)}
		if o.pattern != "" {
			in.FilterPattern = aws.String(o.pattern)
		}
		if o.prefix != "" {
			in.LogStreamNamePrefix = aws.String(o.prefix)
		}
		for {
			page, err := o.client.FilterLogEvents(ctx, in)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			for _, e := range page.Events {
				ts, id := aws.ToInt64(e.Timestamp), aws.ToString(e.EventId)
				if ts == start && seenAt[id] {
					continue
				}
				if ts > start {
					start, seenAt = ts, map[string]bool{}
				}
				seenAt[id] = true
				if err := printEvent(out, o.format, e.LogStreamName, ts, aws.ToString(e.Message), e.IngestionTime, id); err != nil {
					return err
				}
			}
			if page.NextToken == nil {
				break
			}
			in.NextToken = page.NextToken
		}
		if !o.follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(o.poll):
		}
	}
}

func printEvent(w io.Writer, format string, stream *string, ts int64, msg string, ingest *int64, id string) error {
	t := time.UnixMilli(ts).UTC()
	var err error
	switch format {
	case "json":
		b, _ := json.Marshal(map[string]any{"timestamp": ts, "logStreamName": aws.ToString(stream), "message": msg, "ingestionTime": aws.ToInt64(ingest), "eventId": id})
		_, err = fmt.Fprintf(w, "%s\n", b)
	case "short":
		_, err = fmt.Fprintf(w, "%s %s\n", t.Format("2006-01-02T15:04:05.000Z"), strings.TrimRight(msg, "\n"))
	default:
		_, err = fmt.Fprintf(w, "%s %s %s\n", t.Format("2006-01-02T15:04:05.000Z"), aws.ToString(stream), strings.TrimRight(msg, "\n"))
	}
	return err
}
