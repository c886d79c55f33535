package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"lextrail/internal/accounts"
)

func TestServeTrailFlags(t *testing.T) {
	for _, bad := range [][]string{
		{"serve", "--delivery-interval", "500ms"},
		{"serve", "--digest-interval", "0s"},
		{"trail"},
		{"trail", "flush"},
		{"validate", "--trail-arn", "nope", "--start-time", "2026-01-01T00:00:00Z"},
		{"validate", "--trail-arn", "arn:aws:cloudtrail:us-east-1:123456789012:trail/t"},
		{"validate", "--trail-arn", "arn:aws:cloudtrail:us-east-1:123456789012:trail/t", "--start-time", "2026-01-02T00:00:00Z", "--end-time", "2026-01-01T00:00:00Z"},
	} {
		if _, _, code := runCmd(t, bad...); code == 0 {
			t.Errorf("%v succeeded", bad)
		}
	}
}

// TestTrailBinarySIGKILL runs the lextrail binary with 1-second delivery
// windows and 2-second digests under continuous calls, kills it with
// SIGKILL at random moments (during deliveries and digests too) and
// restarts it, several times. Then "lextrail trail flush" has the server
// deliver the rest, and every acknowledged call's event is in exactly one
// log file, no event twice; "lextrail validate" (offline on the data dir,
// and through the endpoint) finds every digest and log file valid.
func TestTrailBinarySIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	creds := accounts.NewRootCredentials()
	env := append(os.Environ(), "LEXTRAIL_ACCOUNT_ID=111122223333",
		"LEXTRAIL_ROOT_ACCESS_KEY_ID="+creds.AccessKeyID, "LEXTRAIL_ROOT_SECRET_ACCESS_KEY="+creds.SecretAccessKey)
	addr := freePort(t)
	var stderr bytes.Buffer
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--listen", addr, "--data-dir", dir, "--delivery-interval", "1s", "--digest-interval", "2s")
		cmd.Env = env
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if err := waitReady(addr, 20*time.Second); err != nil {
			cmd.Process.Kill()
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		return cmd
	}
	cmd := start()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	url := "http://" + addr
	sc := credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")
	ct := cloudtrail.New(cloudtrail.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: sc, RetryMaxAttempts: 1})
	s3c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: sc, UsePathStyle: true, RetryMaxAttempts: 1})
	ctx := context.Background()
	arn := "arn:aws:cloudtrail:us-east-1:111122223333:trail/killed"
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::ct-kill","Condition":{"StringEquals":{"aws:SourceArn":%q}}},
 {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::ct-kill/AWSLogs/111122223333/*","Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control","aws:SourceArn":%q}}}]}`, arn, arn)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("ct-kill")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("ct-kill"), Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("killed"), S3BucketName: aws.String("ct-kill"), EnableLogFileValidation: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	began := time.Now().UTC().Truncate(time.Second)
	if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("killed")}); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	acked := map[string]bool{}
	load := func(stop <-chan struct{}, done chan<- struct{}) {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			out, err := ct.ListTrails(ctx, &cloudtrail.ListTrailsInput{})
			if err != nil {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
			mu.Lock()
			acked[id] = true
			mu.Unlock()
		}
	}
	for round := 0; round < 4; round++ {
		stop, done := make(chan struct{}), make(chan struct{})
		go load(stop, done)
		time.Sleep(time.Duration(1500+rand.IntN(1500)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		close(stop)
		<-done
		cmd = start()
	}
	// The server delivers the rest when asked.
	out, errs, code := runCmd(t, "trail", "flush", "--data-dir", dir, "--account", "111122223333", "--wait", "30s", "killed")
	if code != 0 || !strings.Contains(out, arn+": ") {
		t.Fatalf("trail flush: %d\n%s\n%s\nserver:\n%s", code, out, errs, stderr.String())
	}
	// Every record once; every acknowledged call's record present.
	records := map[string]int{}
	byRequest := map[string]int{}
	p := s3.NewListObjectsV2Paginator(s3c, &s3.ListObjectsV2Input{Bucket: aws.String("ct-kill"), Prefix: aws.String("AWSLogs/111122223333/CloudTrail/")})
	files := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			g, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ct-kill"), Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			zr, err := gzip.NewReader(g.Body)
			if err != nil {
				t.Fatalf("%s: %v", *o.Key, err)
			}
			raw, _ := io.ReadAll(zr)
			g.Body.Close()
			var f struct {
				Records []struct {
					EventID   string `json:"eventID"`
					RequestID string `json:"requestID"`
				} `json:"Records"`
			}
			if err := json.Unmarshal(raw, &f); err != nil {
				t.Fatalf("%s: %v", *o.Key, err)
			}
			files++
			for _, r := range f.Records {
				records[r.EventID]++
				byRequest[r.RequestID]++
			}
		}
	}
	for id, n := range records {
		if n != 1 {
			t.Errorf("event %s in %d files", id, n)
		}
	}
	for id := range acked {
		if byRequest[id] != 1 {
			t.Errorf("acknowledged call %s: %d records delivered", id, byRequest[id])
		}
	}
	t.Logf("%d acknowledged calls, %d records in %d files after 4 SIGKILLs", len(acked), len(records), files)
	if len(acked) < 20 {
		t.Fatalf("only %d calls acknowledged", len(acked))
	}

	// lextrail validate: offline beside the running server, and online.
	startArg := began.Format(time.RFC3339)
	out, errs, code = runCmd(t, "validate", "--data-dir", dir, "--trail-arn", arn, "--start-time", startArg, "--no-progress")
	digests := regexp.MustCompile(`(\d+)/(\d+) digest files valid\n`).FindStringSubmatch(out)
	if code != 0 || digests == nil || digests[1] != digests[2] || digests[1] == "0" || !strings.Contains(out, "log files valid\n") {
		t.Fatalf("validate offline: %d\n%s\n%s", code, out, errs)
	}
	t.Logf("validate: %s digests valid", digests[1])
	t.Setenv("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	out, errs, code = runCmd(t, "validate", "--endpoint-url", url, "--trail-arn", arn, "--start-time", startArg)
	if code != 0 || !strings.Contains(out, "digest files valid\n") || strings.Contains(out, "INVALID") || !strings.Contains(errs, "100%") {
		t.Fatalf("validate online: %d\n%s\n%s", code, out, errs)
	}
}
