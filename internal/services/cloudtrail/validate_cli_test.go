package cloudtrail_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"lextrail/internal/server"
	"lextrail/internal/testenv"
	"lextrail/internal/trail"
	"lextrail/internal/trail/digest"
)

// validateLogs runs `aws cloudtrail validate-logs` against the env: the
// CloudTrail client by --endpoint-url, S3 by AWS_ENDPOINT_URL_S3
// (path-style, as botocore does for an IP endpoint).
func validateLogs(t *testing.T, e *trailEnv, bin string, args ...string) (stdout, stderr string, rc int) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"cloudtrail", "validate-logs", "--endpoint-url", e.URL, "--verbose"}, args...)...)
	cmd.Env = append(e.CLIEnv(t), "AWS_ENDPOINT_URL_S3="+e.URL)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	rc = 0
	if ee, ok := err.(*exec.ExitError); ok {
		rc = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), rc
}

// digestOf reads a stored digest.
func digestOf(t *testing.T, o object) digest.Document {
	t.Helper()
	var d digest.Document
	if err := json.Unmarshal(gunzip(t, o.Body), &d); err != nil {
		t.Fatalf("%s: %v", o.Key, err)
	}
	return d
}

// TestValidateLogsCLI: the stock AWS CLI's validate-logs accepts every log
// file and chained digest a trail delivered (over key rotations, an empty
// interval and the final digest), and reports a modified log, a deleted
// log and a deleted digest each as INVALID.
func TestValidateLogsCLI(t *testing.T) {
	bin := testenv.LookTool(t, "aws", "LEXTRAIL_REQUIRE_AWSCLI")
	// The CLI signs with the real time: the simulated run ends before
	// now, and the clock is set to now before the CLI runs.
	start := time.Now().UTC().Truncate(time.Minute).Add(-12 * time.Minute)
	e := newTrailEnv(t, func(c *server.Config) {
		c.DeliveryInterval = 20 * time.Second
		c.DigestInterval = time.Minute
		c.DigestKeyRotation = 2 * time.Minute
	})
	e.Clock.Set(start.Add(5 * time.Second))
	arn := trail.ARN("us-east-1", e.AccountID, "validated")
	e.bucket("ct-valid", trailPolicy("ct-valid", grant{e.AccountID, arn, "audit"}))
	ct := e.ct("us-east-1")
	must(t, errOf(ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("validated"), S3BucketName: aws.String("ct-valid"),
		S3KeyPrefix: aws.String("audit"), EnableLogFileValidation: aws.Bool(true)})))
	must(t, errOf(ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("validated")})))
	for minute := 0; minute < 6; minute++ {
		for step := 0; step < 3; step++ {
			if minute != 3 { // minute 3: no calls, but the trail's own
				for i := 0; i < 2; i++ {
					must(t, errOf(ct.ListTrails(ctx, &cloudtrail.ListTrailsInput{})))
				}
			}
			e.tick(20 * time.Second)
		}
	}
	must(t, errOf(ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("validated")})))
	e.tick(20 * time.Second) // delivers the rest, then the final digest
	e.tick(time.Second)
	end := e.Clock.Now().Add(time.Minute)
	st, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("validated")})
	if err != nil || st.LatestDigestDeliveryTime == nil || st.LatestDigestDeliveryError != nil {
		t.Fatalf("status: %+v %v", st, err)
	}
	if now := time.Now(); now.After(e.Clock.Now()) {
		e.Clock.Set(now)
	}

	objs := e.objects("ct-valid", "audit/")
	var digests, logs []object
	for _, o := range objs {
		if strings.Contains(o.Key, "/CloudTrail-Digest/") {
			digests = append(digests, o)
		} else {
			logs = append(logs, o)
		}
	}
	docs := make([]digest.Document, len(digests))
	fps := map[string]bool{}
	listed := 0
	for i, o := range digests {
		docs[i] = digestOf(t, o)
		fps[docs[i].DigestPublicKeyFingerprint] = true
		listed += len(docs[i].LogFiles)
		if o.Metadata["signature"] == "" || o.Metadata["signature-algorithm"] != "SHA256withRSA" {
			t.Fatalf("%s: metadata %v", o.Key, o.Metadata)
		}
	}
	if len(digests) < 6 || listed != len(logs) || len(fps) < 3 {
		t.Fatalf("%d digests listing %d of %d log files, %d signing keys", len(digests), listed, len(logs), len(fps))
	}
	if docs[0].PreviousDigestSignature != nil || docs[len(docs)-1].PreviousDigestSignature == nil {
		t.Fatal("the first digest is not a starting digest")
	}
	// The chain (spec §9.38): each digest starts where the previous ended
	// and names it, its hash and its signature.
	for i := 1; i < len(docs); i++ {
		prev, d := docs[i-1], docs[i]
		sum := sha256.Sum256(gunzip(t, digests[i-1].Body))
		if d.DigestStartTime != prev.DigestEndTime || aws.ToString(d.PreviousDigestS3Object) != digests[i-1].Key ||
			aws.ToString(d.PreviousDigestHashValue) != hex.EncodeToString(sum[:]) || aws.ToString(d.PreviousDigestHashAlgorithm) != "SHA-256" ||
			aws.ToString(d.PreviousDigestSignature) != digests[i-1].Metadata["signature"] || aws.ToString(d.PreviousDigestS3Bucket) != "ct-valid" {
			t.Fatalf("digest %d does not chain to %d:\n%+v\n%+v", i, i-1, d, prev)
		}
	}
	times := []string{"--trail-arn", arn, "--start-time", start.Format(time.RFC3339), "--end-time", end.Format(time.RFC3339)}

	out, errs, rc := validateLogs(t, e, bin, times...)
	wantDigests := fmt.Sprintf("%d/%d digest files valid", len(digests), len(digests))
	wantLogs := fmt.Sprintf("%d/%d log files valid", len(logs), len(logs))
	if rc != 0 || !strings.Contains(out, wantDigests+"\n") || !strings.Contains(out, wantLogs+"\n") || strings.Contains(out+errs, "INVALID") {
		t.Fatalf("validate-logs on untouched files: rc %d\nstdout:\n%s\nstderr:\n%s", rc, out, errs)
	}
	for _, o := range append(digests, logs...) {
		kind := "Log file"
		if strings.Contains(o.Key, "CloudTrail-Digest") {
			kind = "Digest file"
		}
		if line := kind + "\ts3://ct-valid/" + o.Key + "\tvalid\n"; !strings.Contains(out, line) {
			t.Fatalf("validate-logs did not report %q:\n%s", line, out)
		}
	}
	if !strings.Contains(out, "Results requested for "+start.Format("2006-01-02T15:04:05Z")) {
		t.Fatalf("summary: %s", out)
	}

	// The digest of an empty interval lists no log file.
	empty := 0
	for _, d := range docs {
		if len(d.LogFiles) == 0 && d.NewestEventTime == nil && d.OldestEventTime == nil {
			empty++
		}
	}
	if empty == 0 {
		t.Error("no digest for the interval without log files")
	}
	// A middle digest with log files (to delete last), a log listed by a
	// newer digest (to modify) and one listed by an older digest (to
	// delete).
	mid := len(digests) / 2
	for len(docs[mid].LogFiles) == 0 {
		mid++
	}
	var newer, older string
	for i, d := range docs {
		for _, lf := range d.LogFiles {
			if i > mid && newer == "" {
				newer = lf.S3Object
			}
			if i < mid {
				older = lf.S3Object
			}
		}
	}
	if newer == "" || older == "" || len(docs[mid].LogFiles) == 0 {
		t.Fatalf("digests around the middle have no log files: %+v", docs)
	}
	c := e.s3()
	// 1. Modify a log: same gzip framing, one record changed.
	var tampered []byte
	for _, o := range logs {
		if o.Key == newer {
			raw := bytes.Replace(gunzip(t, o.Body), []byte(`"ListTrails"`), []byte(`"ListTrailz"`), 1)
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(raw)
			zw.Close()
			tampered = b.Bytes()
		}
	}
	must(t, errOf(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("ct-valid"), Key: aws.String(newer), Body: bytes.NewReader(tampered)})))
	out, errs, rc = validateLogs(t, e, bin, times...)
	n := len(logs)
	if line := "Log file\ts3://ct-valid/" + newer + "\tINVALID: hash value doesn't match"; rc != 1 || !strings.Contains(errs, line) ||
		!strings.Contains(out, fmt.Sprintf("%d/%d log files valid, 1/%d log files INVALID", n-1, n, n)) || !strings.Contains(out, wantDigests+"\n") {
		t.Fatalf("after modifying %s: rc %d\nstdout:\n%s\nstderr:\n%s", newer, rc, out, errs)
	}
	// 2. Delete another log.
	must(t, errOf(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("ct-valid"), Key: aws.String(older)})))
	out, errs, rc = validateLogs(t, e, bin, times...)
	if line := "Log file\ts3://ct-valid/" + older + "\tINVALID: not found"; rc != 1 || !strings.Contains(errs, line) ||
		!strings.Contains(out, fmt.Sprintf("%d/%d log files valid, 2/%d log files INVALID", n-2, n, n)) {
		t.Fatalf("after deleting %s: rc %d\nstdout:\n%s\nstderr:\n%s", older, rc, out, errs)
	}
	// 3. Delete the middle digest: reported missing; its logs go unchecked.
	must(t, errOf(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("ct-valid"), Key: aws.String(digests[mid].Key)})))
	out, errs, rc = validateLogs(t, e, bin, times...)
	m, k := len(digests), n-len(docs[mid].LogFiles)
	if line := "Digest file\ts3://ct-valid/" + digests[mid].Key + "\tINVALID: not found"; rc != 1 || !strings.Contains(errs, line) ||
		!strings.Contains(out, fmt.Sprintf("%d/%d digest files valid, 1/%d digest files INVALID", m-1, m, m)) ||
		!strings.Contains(out, fmt.Sprintf("%d/%d log files valid, 2/%d log files INVALID", k-2, k, k)) {
		t.Fatalf("after deleting digest %s: rc %d\nstdout:\n%s\nstderr:\n%s", digests[mid].Key, rc, out, errs)
	}
}
