package cloudtrail_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"lextrail/internal/server"
	"lextrail/internal/testenv"
	"lextrail/internal/trail"
)

// BenchmarkDeliveryDelay measures, with the real clock and the delivery
// worker running as in production (1-second window), the delay from a
// call's response to its event being in a delivered log file (the
// delivery committed, the object readable). Reports the mean, p50 and max
// delay and the window; the target is delay <= window + 2 s.
//
//	go test ./internal/services/cloudtrail/ -run XXX -bench DeliveryDelay -benchtime 20x
func BenchmarkDeliveryDelay(b *testing.B) {
	env := testenv.New(b, testenv.Options{Configure: func(c *server.Config) {
		c.DeliveryInterval = time.Second
		c.TrailRegions = []string{"us-east-1"}
	}})
	e := &trailEnv{Env: env}
	arn := trail.ARN("us-east-1", e.AccountID, "prompt")
	c := s3.NewFromConfig(e.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("ct-delay")}); err != nil {
		b.Fatal(err)
	}
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("ct-delay"), Policy: aws.String(trailPolicy("ct-delay", grant{e.AccountID, arn, ""}))}); err != nil {
		b.Fatal(err)
	}
	ct := cloudtrail.NewFromConfig(e.Config())
	if _, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("prompt"), S3BucketName: aws.String("ct-delay")}); err != nil {
		b.Fatal(err)
	}
	if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("prompt")}); err != nil {
		b.Fatal(err)
	}
	trails, _ := trail.All(ctx, e.Server.DB)
	id := trails[0].ID
	seen := map[string]bool{}
	contains := func(key, requestID string) bool {
		rc, _, err := e.Server.S3.Get(ctx, "ct-delay", key, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer rc.Close()
		zr, err := gzip.NewReader(rc)
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := io.ReadAll(zr)
		return bytes.Contains(raw, []byte(`"requestID":"`+requestID+`"`))
	}
	var delays []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Calls land anywhere in a window.
		time.Sleep(time.Duration(137*i%1000) * time.Millisecond)
		out, err := ct.ListTrails(ctx, &cloudtrail.ListTrailsInput{})
		if err != nil {
			b.Fatal(err)
		}
		answered := time.Now()
		reqID, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
		for found := false; !found; {
			files, err := trail.Files(ctx, e.Server.DB, id)
			if err != nil {
				b.Fatal(err)
			}
			for _, f := range files {
				if !seen[f.Key] {
					seen[f.Key] = true
					if contains(f.Key, reqID) {
						found = true
					}
				}
			}
			if !found {
				if time.Since(answered) > 30*time.Second {
					b.Fatal("not delivered in 30s")
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		delays = append(delays, time.Since(answered))
	}
	b.StopTimer()
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	var sum time.Duration
	for _, d := range delays {
		sum += d
	}
	b.ReportMetric(float64(sum.Milliseconds())/float64(len(delays)), "mean-delay-ms")
	b.ReportMetric(float64(delays[len(delays)/2].Milliseconds()), "p50-delay-ms")
	b.ReportMetric(float64(delays[len(delays)-1].Milliseconds()), "max-delay-ms")
	b.ReportMetric(1000, "window-ms")
}
