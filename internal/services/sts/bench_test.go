package sts_test

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"lextrail/internal/server"
	"lextrail/internal/testenv"
	"lextrail/internal/testenv/cputime"
)

// BenchmarkAssumeRoleHTTP: AssumeRole through the SDK over loopback HTTP
// (SigV4, key lookup, trust-policy decision, session insert and audit
// event in one transaction), from parallel clients. Reports assumes/s.
func BenchmarkAssumeRoleHTTP(b *testing.B) {
	e := testenv.New(b, testenv.Options{Configure: func(c *server.Config) { c.KeyCacheTTL = 0 }}) // production caching
	alice := user(b, e, e.Creds(), "alice")
	arn := role(b, e, e.Creds(), "R", trustAWS("arn:aws:iam::"+e.AccountID+":user/alice"))
	cfg := e.Config(alice)
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
	client := sts.NewFromConfig(cfg)
	in := &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("bench")}
	if _, err := client.AssumeRole(ctx, in); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(8)
	b.ResetTimer()
	done := cputime.Report(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := client.AssumeRole(ctx, in); err != nil {
				b.Error(err)
				return
			}
		}
	})
	done() // client (SDK signing and parsing) and server together
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "assumes/s")
}
