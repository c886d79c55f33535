package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"lextrail/internal/accounts"
	"lextrail/internal/audit"
	"lextrail/internal/objstore/localdir"
	"lextrail/internal/server"
	"lextrail/internal/store"
	"lextrail/internal/trail"
	"lextrail/internal/trail/digest"
	"lextrail/internal/trail/validate"
)

// trailCmd is "lextrail trail": operator commands on trails.
func trailCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "flush" {
		fmt.Fprintln(stderr, "usage: lextrail trail flush [flags] NAME|ARN")
		return errUsage
	}
	return flush(args[1:], stdout, stderr)
}

// findTrail resolves a trail name (in account and region) or ARN.
func findTrail(ctx context.Context, db *store.DB, account, region, id string) (*trail.Trail, error) {
	var t *trail.Trail
	err := db.Read(ctx, func(tx *store.Tx) error {
		var err error
		if trail.IsARN(id) {
			t, err = trail.ByARN(ctx, tx, id)
		} else {
			t, err = trail.ByName(ctx, tx, account, region, id)
		}
		return err
	})
	if errors.Is(err, trail.ErrNotFound) {
		return nil, fmt.Errorf("no trail %s in account %s, region %s", id, account, region)
	}
	return t, err
}

// flush is "lextrail trail flush NAME": deliver the trail's pending
// events now. By default it asks the running server (through the
// database) and waits for the delivery; --offline delivers from this
// process (no server may be using the data directory's object store).
func flush(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("trail flush", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	account := fs.String("account", envOr("LEXTRAIL_ACCOUNT_ID", accounts.DefaultAccountID), "the trail's account (env LEXTRAIL_ACCOUNT_ID)")
	region := fs.String("region", envOr("AWS_DEFAULT_REGION", "us-east-1"), "the trail's home region (env AWS_DEFAULT_REGION)")
	wait := fs.Duration("wait", time.Minute, "how long to wait for the server to deliver")
	offline := fs.Bool("offline", false, "deliver from this process instead of asking the running server")
	if err := parseInterleaved(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: lextrail trail flush [flags] NAME|ARN")
		return errUsage
	}
	ctx := context.Background()
	cfg := c.config()
	if *offline {
		cfg.CredentialsOut = io.Discard
		cfg.Logger = quietLogger(stderr)
		cfg.TrailHooks.Manual = true
		srv, err := server.New(ctx, cfg)
		if err != nil {
			return err
		}
		defer srv.Close()
		t, err := findTrail(ctx, srv.DB, *account, *region, fs.Arg(0))
		if err != nil {
			return err
		}
		start := time.Now()
		if err := srv.Trails.Flush(ctx, t.ID); err != nil {
			return err
		}
		return printDelivered(ctx, srv.DB, t, start, stdout)
	}
	db, _, err := server.OpenState(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	t, err := findTrail(ctx, db, *account, *region, fs.Arg(0))
	if err != nil {
		return err
	}
	var horizon int64
	if err := db.Read(ctx, func(tx *store.Tx) error {
		var err error
		horizon, err = audit.Horizon(ctx, tx)
		return err
	}); err != nil {
		return err
	}
	start := time.Now()
	if err := trail.RequestFlush(ctx, db, t.ID, start.UnixMilli()); err != nil {
		return err
	}
	deadline := start.Add(*wait)
	for {
		cur, err := trail.Reload(ctx, db, t.ID)
		if err != nil {
			return err
		}
		pending, err := trail.PendingBatch(ctx, db, t.ID)
		if err != nil {
			return err
		}
		if cur.FlushMs == 0 && pending == nil && cur.CursorSeq >= horizon {
			return printDelivered(ctx, db, cur, start, stdout)
		}
		if pending != nil && cur.Status.LatestDeliveryError != "" && cur.Status.LatestDeliveryAttemptMs >= start.UnixMilli() {
			return fmt.Errorf("delivery of %s failed: %s (the server retries with backoff)", t.ARN, cur.Status.LatestDeliveryError)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no lextrail server delivered %s within %s; is one running on this database? (--offline delivers from this process)", t.ARN, *wait)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func printDelivered(ctx context.Context, db *store.DB, t *trail.Trail, since time.Time, stdout io.Writer) error {
	files, err := trail.Files(ctx, db, t.ID)
	if err != nil {
		return err
	}
	n := 0
	for _, f := range files {
		if f.DeliveredMs >= since.Add(-time.Second).UnixMilli() {
			fmt.Fprintf(stdout, "s3://%s/%s\t%d events\n", f.Bucket, f.Key, f.Events)
			n++
		}
	}
	fmt.Fprintf(stdout, "%s: %d log files delivered\n", t.ARN, n)
	return nil
}

// validateCmd is "lextrail validate": lextrail's own validator of a
// trail's log files and digests.
func validateCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	arn := fs.String("trail-arn", "", "the trail's ARN (required)")
	startS := fs.String("start-time", "", "earliest digest end time (RFC 3339 or epoch seconds; required)")
	endS := fs.String("end-time", "", "latest digest end time (default now)")
	region := fs.String("region", "", "source region whose files are validated (default the trail's home region)")
	bucket := fs.String("s3-bucket", "", "bucket (default the trail's)")
	prefix := fs.String("s3-prefix", "", "key prefix (with --s3-bucket)")
	endpoint := fs.String("endpoint-url", "", "a lextrail or AWS CloudTrail endpoint: trail and public keys from its API, objects from --s3-endpoint-url (default this URL); credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN. Without it: the data dir's database and local object store, read-only")
	s3Endpoint := fs.String("s3-endpoint-url", "", "the S3 endpoint holding the bucket (path-style), e.g. an external S3-compatible store")
	verbose := fs.Bool("verbose", false, "list valid files too")
	quiet := fs.Bool("no-progress", false, "no progress bar")
	if err := parseInterleaved(fs, args); err != nil {
		return err
	}
	p, err := trail.ParseARN(*arn)
	if err != nil || p.Type != "trail" {
		return fmt.Errorf("--trail-arn: invalid trail ARN %q", *arn)
	}
	start, err := parseWhen(*startS)
	if err != nil || start.IsZero() {
		return fmt.Errorf("--start-time is required (RFC 3339 or epoch seconds)")
	}
	end, err := parseWhen(*endS)
	if err != nil {
		return fmt.Errorf("--end-time: %w", err)
	}
	if end.IsZero() {
		end = time.Now()
	}
	if end.Before(start) {
		return fmt.Errorf("invalid time range: --start-time must be before --end-time")
	}
	ctx := context.Background()
	vc := validate.Config{Account: p.Account, TrailName: p.Name, HomeRegion: p.Region, SourceRegion: *region,
		Start: start, End: end, Out: stdout, Verbose: *verbose, Bucket: *bucket, Prefix: *prefix}
	if !*quiet {
		vc.Progress = stderr
	}
	if *endpoint != "" {
		creds := aws.Credentials{AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"), SessionToken: os.Getenv("AWS_SESSION_TOKEN")}
		if creds.AccessKeyID == "" {
			return errors.New("--endpoint-url needs credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
		}
		base := aws.Config{Credentials: credentials.StaticCredentialsProvider{Value: creds}, Region: p.Region}
		ctClient := func(r string) *cloudtrail.Client {
			cfg := base.Copy()
			cfg.Region = r
			return cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) { o.BaseEndpoint = aws.String(*endpoint) })
		}
		if vc.Bucket == "" {
			out, err := ctClient(p.Region).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{TrailNameList: []string{*arn}})
			if err != nil {
				return err
			}
			if len(out.TrailList) != 1 {
				return fmt.Errorf("a trail could not be found for %s", *arn)
			}
			vc.Bucket, vc.Prefix = aws.ToString(out.TrailList[0].S3BucketName), aws.ToString(out.TrailList[0].S3KeyPrefix)
		}
		s3URL := *s3Endpoint
		if s3URL == "" {
			s3URL = *endpoint
		}
		s3cfg := base.Copy()
		s3cfg.Region = envOr("AWS_DEFAULT_REGION", "us-east-1")
		vc.Objects = validate.S3Objects{Client: s3.NewFromConfig(s3cfg, func(o *s3.Options) {
			o.BaseEndpoint = aws.String(s3URL)
			o.UsePathStyle = true
		})}
		vc.Keys = validate.APIKeys{Client: ctClient}
	} else {
		cfg := c.config()
		db, _, err := server.OpenState(ctx, cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		if vc.Bucket == "" {
			var t *trail.Trail
			err := db.Read(ctx, func(tx *store.Tx) error {
				var err error
				t, err = trail.ByARN(ctx, tx, *arn)
				return err
			})
			if err != nil {
				return fmt.Errorf("a trail could not be found for %s", *arn)
			}
			vc.Bucket, vc.Prefix = t.Settings.Bucket, t.Settings.Prefix
		}
		st, err := localdir.Open(localdir.Config{Root: filepath.Join(cfg.DataDir, "objects"), ReadOnly: true})
		if err != nil {
			return fmt.Errorf("local object store: %w", err)
		}
		vc.Objects = validate.StoreObjects{Store: st}
		vc.Keys = validate.StoredKeys{Keys: digest.NewKeys(digest.KeysConfig{DB: db})}
	}
	res, err := validate.Run(ctx, vc)
	if err != nil {
		return err
	}
	if !res.OK() {
		return errInvalid
	}
	return nil
}

// errInvalid: validation found invalid files (exit status 1, already
// reported).
var errInvalid = errors.New("invalid files found")

// parseInterleaved parses flags that may come before or after the
// positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return fs.Parse(pos)
}
