package cloudtrail_test

import (
	"bytes"
	"compress/gzip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"lextrail/internal/objstore/localdir"
	"lextrail/internal/server"
	"lextrail/internal/trail"
	"lextrail/internal/trail/validate"
)

// TestLextrailValidate: lextrail's own validator (lextrail validate) over
// the S3 API and over the local object store read-only: valid as
// delivered; then a modified log, a deleted log, an injected log no
// digest lists, a deleted digest (and the chain's break it causes) and a
// digest without its signature are each reported.
func TestLextrailValidate(t *testing.T) {
	e := newTrailEnv(t, func(c *server.Config) { c.DigestInterval = 10 * time.Minute })
	arn := trail.ARN("us-east-1", e.AccountID, "audited")
	e.bucket("ct-own", trailPolicy("ct-own", grant{e.AccountID, arn, ""}))
	ct := e.ct("us-east-1")
	must(t, errOf(ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("audited"), S3BucketName: aws.String("ct-own"), EnableLogFileValidation: aws.Bool(true)})))
	must(t, errOf(ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("audited")})))
	for i := 0; i < 50; i++ {
		must(t, errOf(ct.ListTrails(ctx, &cloudtrail.ListTrailsInput{})))
		e.tick(time.Minute)
	}
	run := func(objs validate.Objects) (*validate.Result, string) {
		t.Helper()
		var out, bar bytes.Buffer
		res, err := validate.Run(ctx, validate.Config{Objects: objs, Keys: validate.StoredKeys{Keys: e.Server.SigningKeys},
			Bucket: "ct-own", Account: e.AccountID, TrailName: "audited", HomeRegion: "us-east-1",
			Start: t0, End: e.Clock.Now(), Out: &out, Progress: &bar, Verbose: true})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(bar.String(), "100% ") {
			t.Errorf("progress bar: %q", bar.String())
		}
		return res, out.String()
	}
	viaS3 := validate.S3Objects{Client: e.s3()}
	res, out := run(viaS3)
	if !res.OK() || res.Digests != 5 || res.Logs < 45 {
		t.Fatalf("as delivered: %+v\n%s", res, out)
	}
	ro, err := localdir.Open(localdir.Config{Root: filepath.Join(e.DataDir, "objects"), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if res2, out2 := run(validate.StoreObjects{Store: ro}); !res2.OK() || res2.Digests != res.Digests || res2.Logs != res.Logs {
		t.Fatalf("local store: %+v\n%s", res2, out2)
	}

	digests, docs := e.digestsOf(t, "ct-own", "us-east-1")
	c := e.s3()
	put := func(key string, body []byte, meta map[string]string) {
		t.Helper()
		must(t, errOf(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("ct-own"), Key: aws.String(key), Body: bytes.NewReader(body), Metadata: meta})))
	}
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	modified := docs[1].LogFiles[0].S3Object
	deleted := docs[3].LogFiles[0].S3Object
	put(modified, gz([]byte(`{"Records":[]}`)), nil)
	must(t, errOf(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("ct-own"), Key: aws.String(deleted)})))
	injected := strings.Replace(docs[2].LogFiles[0].S3Object, docs[2].LogFiles[0].S3Object[len(docs[2].LogFiles[0].S3Object)-24:], "AAAAAAAAAAAAAAAA.json.gz", 1)
	put(injected, gz([]byte(`{"Records":[]}`)), nil)
	must(t, errOf(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("ct-own"), Key: aws.String(digests[2].Key)})))
	put(digests[4].Key, digests[4].Body, nil) // signature metadata stripped
	res, out = run(viaS3)
	for _, want := range []string{
		"Log file\ts3://ct-own/" + modified + "\tINVALID: hash value doesn't match",
		"Log file\ts3://ct-own/" + deleted + "\tINVALID: not found",
		"Log file\ts3://ct-own/" + injected + "\tINVALID: not covered by any valid digest",
		"Digest file\ts3://ct-own/" + digests[2].Key + "\tINVALID: not found",
		"Digest file\ts3://ct-own/" + digests[3].Key + "\tvalid",
		"Digest file\ts3://ct-own/" + digests[4].Key + "\tINVALID: signature verification failed",
		"3/5 digest files valid, 2/5 digest files INVALID",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	// Uncovered: the injected file and files only the deleted digest
	// listed, nothing else.
	unsure := map[string]bool{injected: true}
	for _, lf := range docs[2].LogFiles {
		unsure[lf.S3Object] = true
	}
	for _, k := range res.Unlisted {
		if !unsure[k] {
			t.Errorf("%s reported uncovered", k)
		}
	}
	if res.OK() || len(res.Unlisted) < 2 || res.Logs != res.LogsValid+2 {
		t.Fatalf("tampered bucket: %+v", res)
	}
}
