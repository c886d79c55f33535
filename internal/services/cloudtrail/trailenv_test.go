package cloudtrail_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"lextrail/internal/server"
	"lextrail/internal/testenv"
)

// clockSigner signs requests at the env's injected time, so that SDK
// calls pass SigV4's clock-skew check whatever the test sets the clock to.
type clockSigner struct {
	now func() time.Time
	s   *v4.Signer
}

func (c clockSigner) SignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, opts ...func(*v4.SignerOptions)) error {
	return c.s.SignHTTP(ctx, creds, r, payloadHash, service, region, c.now(), opts...)
}

// trailEnv is a server with manual trail delivery, its clock fixed.
type trailEnv struct {
	*testenv.Env
	t *testing.T
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newTrailEnv(t *testing.T, configure ...func(*server.Config)) *trailEnv {
	t.Helper()
	e := testenv.New(t, testenv.Options{Configure: func(c *server.Config) {
		c.DeliveryInterval = time.Minute
		c.TrailRegions = []string{"us-east-1", "eu-west-1"}
		c.TrailHooks.Manual = true
		for _, f := range configure {
			f(c)
		}
	}})
	e.Clock.Set(t0)
	return &trailEnv{Env: e, t: t}
}

func (e *trailEnv) creds(c []aws.Credentials) aws.Credentials {
	if len(c) > 0 {
		return c[0]
	}
	return e.Creds()
}

func (e *trailEnv) ct(region string, creds ...aws.Credentials) *cloudtrail.Client {
	cfg := e.Config(e.creds(creds))
	cfg.Region = region
	return cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) { o.HTTPSignerV4 = clockSigner{e.Clock.Now, v4.NewSigner()} })
}

func (e *trailEnv) s3(creds ...aws.Credentials) *s3.Client {
	cfg := e.Config(e.creds(creds))
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.HTTPSignerV4 = clockSigner{e.Clock.Now, v4.NewSigner(func(so *v4.SignerOptions) { so.DisableURIPathEscaping = true })}
	})
}

func (e *trailEnv) sts(region string, creds ...aws.Credentials) *sts.Client {
	cfg := e.Config(e.creds(creds))
	cfg.Region = region
	return sts.NewFromConfig(cfg, func(o *sts.Options) { o.HTTPSignerV4 = clockSigner{e.Clock.Now, v4.NewSigner()} })
}

// account creates another account and returns its root credentials.
func (e *trailEnv) account(id string) aws.Credentials {
	e.t.Helper()
	c, err := e.Server.Accounts.CreateAccount(ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey}
}

// grant is one trail a bucket policy lets CloudTrail write for.
type grant struct {
	account, trailARN, prefix string
}

// trailPolicy is the bucket policy of spec §2.6 for the grants.
func trailPolicy(bucket string, grants ...grant) string {
	var arns []string
	var stmts []string
	for _, g := range grants {
		arns = append(arns, fmt.Sprintf("%q", g.trailARN))
		res := "arn:aws:s3:::" + bucket + "/AWSLogs/" + g.account + "/*"
		if g.prefix != "" {
			res = "arn:aws:s3:::" + bucket + "/" + g.prefix + "/AWSLogs/" + g.account + "/*"
		}
		stmts = append(stmts, fmt.Sprintf(`{"Sid":"Write%d","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":%q,
 "Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control","aws:SourceArn":%q}}}`, len(stmts), res, g.trailARN))
	}
	acl := fmt.Sprintf(`{"Sid":"AclCheck","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::%s",
 "Condition":{"StringEquals":{"aws:SourceArn":[%s]}}}`, bucket, strings.Join(arns, ","))
	return `{"Version":"2012-10-17","Statement":[` + acl + "," + strings.Join(stmts, ",") + `]}`
}

// bucket creates a bucket owned by the env's root with the policy.
func (e *trailEnv) bucket(name, policy string) {
	e.t.Helper()
	c := e.s3()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		e.t.Fatal(err)
	}
	if policy != "" {
		e.setPolicy(name, policy)
	}
}

func (e *trailEnv) setPolicy(name, policy string) {
	e.t.Helper()
	if _, err := e.s3().PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(name), Policy: aws.String(policy)}); err != nil {
		e.t.Fatal(err)
	}
}

// pass runs one delivery pass.
func (e *trailEnv) pass() {
	e.t.Helper()
	if err := e.Server.Trails.Pass(ctx); err != nil {
		e.t.Logf("pass: %v", err)
	}
}

// tick advances the clock by d and runs a pass.
func (e *trailEnv) tick(d time.Duration) {
	e.t.Helper()
	e.Clock.Advance(d)
	e.pass()
}

// object is a stored object.
type object struct {
	Key      string
	Body     []byte // as stored
	Metadata map[string]string
	SSE      string
	Type     string
	Encoding string
}

// objects lists and reads every object under prefix.
func (e *trailEnv) objects(bucket, prefix string) []object {
	e.t.Helper()
	c := e.s3()
	var out []object
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, o := range page.Contents {
			g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			if err != nil {
				e.t.Fatal(err)
			}
			b, _ := io.ReadAll(g.Body)
			g.Body.Close()
			out = append(out, object{Key: *o.Key, Body: b, Metadata: g.Metadata, SSE: string(g.ServerSideEncryption), Type: aws.ToString(g.ContentType),
				Encoding: aws.ToString(g.ContentEncoding)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var logKeyRE = regexp.MustCompile(`^(?:(.+)/)?AWSLogs/(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8})T(\d{4})Z_[A-Za-z0-9]{16}\.json\.gz$`)

// logRecords parses a log file's Records, checking its key (spec §9.17).
func logRecords(t *testing.T, o object) []json.RawMessage {
	t.Helper()
	m := logKeyRE.FindStringSubmatch(o.Key)
	if m == nil {
		t.Fatalf("log key %q does not match the CloudTrail layout", o.Key)
	}
	if m[2] != m[7] || m[3] != m[8] || m[4]+m[5]+m[6] != m[9] {
		t.Fatalf("log key %q: folder and file name disagree", o.Key)
	}
	var f struct {
		Records []json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(gunzip(t, o.Body), &f); err != nil || f.Records == nil {
		t.Fatalf("%s: not {\"Records\":[...]}: %v", o.Key, err)
	}
	return f.Records
}

// eventOf reads the fields tests look at.
type eventOf struct {
	EventID            string `json:"eventID"`
	EventName          string `json:"eventName"`
	EventSource        string `json:"eventSource"`
	AWSRegion          string `json:"awsRegion"`
	RequestID          string `json:"requestID"`
	RecipientAccountID string `json:"recipientAccountId"`
	ReadOnly           bool   `json:"readOnly"`
	EventCategory      string `json:"eventCategory"`
}

func parseEvent(t *testing.T, raw []byte) eventOf {
	t.Helper()
	var ev eventOf
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}
