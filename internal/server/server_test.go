package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/lexmodelbuildingservice/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"lextrail/internal/accounts"
	"lextrail/internal/server"
	"lextrail/internal/testenv"
)

func TestGetCallerIdentitySDK(t *testing.T) {
	env := testenv.New(t)
	out, err := sts.NewFromConfig(env.Config()).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Arn) != "arn:aws:iam::"+env.AccountID+":root" || aws.ToString(out.Account) != env.AccountID || aws.ToString(out.UserId) != env.AccountID {
		t.Fatalf("identity = %s %s %s", aws.ToString(out.Arn), aws.ToString(out.Account), aws.ToString(out.UserId))
	}
	// A second account's root sees its own identity.
	other, err := env.Server.Accounts.CreateAccount(context.Background(), "210987654321")
	if err != nil {
		t.Fatal(err)
	}
	out, err = sts.NewFromConfig(env.Config(aws.Credentials{AccessKeyID: other.AccessKeyID, SecretAccessKey: other.SecretAccessKey})).
		GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(out.Account) != "210987654321" {
		t.Fatalf("second account: %v %v", out, err)
	}
	// A wrong secret is refused with STS's code.
	_, err = sts.NewFromConfig(env.Config(aws.Credentials{AccessKeyID: env.Root.AccessKeyID, SecretAccessKey: "wrong-secret-wrong-secret"})).
		GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Fatalf("wrong secret: %v", err)
	}
}

func TestOperationsEndpoints(t *testing.T) {
	env := testenv.New(t)
	for _, tc := range []struct{ path, want string }{
		{"/healthz", "ok"},
		{"/readyz", `"status":"ready"`},
		{"/readyz", `"speech":{"recognition":`},
	} {
		resp, err := http.Get(env.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), tc.want) {
			t.Fatalf("%s: %d %s", tc.path, resp.StatusCode, b)
		}
	}
	// After one STS call and one failure, /metrics counts both.
	sts.NewFromConfig(env.Config()).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	sts.NewFromConfig(env.Config(aws.Credentials{AccessKeyID: "AKIANOSUCHKEY0000000", SecretAccessKey: "x"})).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	resp, err := http.Get(env.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`lextrail_requests_total{code="",operation="GetCallerIdentity",service="sts"} 1`,
		`lextrail_requests_total{code="InvalidClientTokenId",operation="GetCallerIdentity",service="sts"} 1`,
		`lextrail_request_duration_seconds_bucket{operation="GetCallerIdentity",service="sts"`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// A signed GET /metrics is an AWS request, not the metrics page.
	req, _ := http.NewRequest("GET", env.URL+"/metrics", nil)
	sum := sha256.Sum256(nil)
	v4.NewSigner().SignHTTP(context.Background(), env.Creds(), req, hex.EncodeToString(sum[:]), "sts", "us-east-1", time.Now())
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(b), "lextrail_requests_total") {
		t.Fatal("signed request got the metrics page")
	}
}

// TestShutdownFinishesInFlight: a request whose body is still arriving when
// shutdown starts completes with 200.
func TestShutdownFinishesInFlight(t *testing.T) {
	dir := t.TempDir()
	root := accounts.NewRootCredentials()
	srv, err := server.New(context.Background(), server.Config{DataDir: dir, CredentialsOut: io.Discard,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Bootstrap: accounts.Bootstrap{AccessKeyID: root.AccessKeyID, SecretAccessKey: root.SecretAccessKey}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	body := []byte("Action=GetCallerIdentity&Version=2011-06-15")
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/", pr)
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: root.AccessKeyID, SecretAccessKey: root.SecretAccessKey},
		req, hex.EncodeToString(sum[:]), "sts", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{status: resp.StatusCode, body: string(b)}
	}()
	pw.Write(body[:10]) // the request is now in flight
	time.Sleep(100 * time.Millisecond)
	cancel() // SIGTERM
	time.Sleep(200 * time.Millisecond)
	// New connections are refused while the in-flight one finishes.
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), 200*time.Millisecond); err == nil {
		c.Close()
		t.Error("listener still accepting after shutdown began")
	}
	pw.Write(body[10:])
	pw.Close()
	r := <-done
	if r.err != nil || r.status != 200 || !strings.Contains(r.body, "<Arn>arn:aws:iam::000000000000:root</Arn>") {
		t.Fatalf("in-flight request: %+v", r)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// TestAWSCLI runs the real AWS CLI where it is installed.
func TestAWSCLI(t *testing.T) {
	aws := testenv.LookTool(t, "aws", "LEXTRAIL_REQUIRE_AWSCLI")
	env := testenv.New(t)
	cmd := exec.Command(aws, "sts", "get-caller-identity", "--endpoint-url", env.URL, "--output", "json")
	cmd.Env = env.CLIEnv(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws sts get-caller-identity: %v\n%s", err, out)
	}
	var got struct{ UserId, Account, Arn string }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Arn != "arn:aws:iam::"+env.AccountID+":root" || got.Account != env.AccountID {
		t.Fatalf("got %+v", got)
	}
}

// TestBoto3 runs boto3 where it is installed.
func TestBoto3(t *testing.T) {
	py := testenv.LookTool(t, "python3", "")
	if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
		if os.Getenv("LEXTRAIL_REQUIRE_BOTO3") == "1" {
			t.Fatal("boto3 required (LEXTRAIL_REQUIRE_BOTO3=1) but not importable")
		}
		t.Skip("boto3 is not installed: skipping the boto3 lane")
	}
	env := testenv.New(t)
	script := `import boto3, json, sys
c = boto3.client("sts", endpoint_url=sys.argv[1], region_name="us-east-1")
print(json.dumps(c.get_caller_identity()["Arn"]))
try:
    boto3.client("sts", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="AKIANOSUCHKEY0000000", aws_secret_access_key="x").get_caller_identity()
except Exception as e:
    print(json.dumps(e.response["Error"]["Code"]))
`
	cmd := exec.Command(py, "-c", script, env.URL)
	cmd.Env = env.CLIEnv(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	want := `"arn:aws:iam::` + env.AccountID + `:root"` + "\n" + `"InvalidClientTokenId"` + "\n"
	if string(out) != want {
		t.Fatalf("boto3 printed %q, want %q", out, want)
	}
}

// TestLexExportURLServed: the pre-signed URL GetExport returns is served by
// the same listener, and a tampered one is refused.
func TestLexExportURLServed(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	lm := lexmodelbuildingservice.NewFromConfig(env.Config())
	if _, err := lm.PutSlotType(ctx, &lexmodelbuildingservice.PutSlotTypeInput{Name: aws.String("FlowerTypes"),
		EnumerationValues: []lmtypes.EnumerationValue{{Value: aws.String("roses")}, {Value: aws.String("tulips")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := lm.CreateSlotTypeVersion(ctx, &lexmodelbuildingservice.CreateSlotTypeVersionInput{Name: aws.String("FlowerTypes")}); err != nil {
		t.Fatal(err)
	}
	out, err := lm.GetExport(ctx, &lexmodelbuildingservice.GetExportInput{Name: aws.String("FlowerTypes"), Version: aws.String("1"),
		ResourceType: lmtypes.ResourceTypeSlotType, ExportType: lmtypes.ExportTypeLex})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(out.Url)
	if !strings.HasPrefix(url, env.URL) {
		t.Fatalf("export URL %q is not on the server %s", url, env.URL)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.HasPrefix(b, []byte("PK")) {
		t.Fatalf("download: %d %.100q", resp.StatusCode, b)
	}
	resp, err = http.Get(url + "0")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("tampered URL: %d", resp.StatusCode)
	}
}

// TestReadyzUnavailable: /readyz answers 503 once the database cannot be
// reached, while /healthz (the process) stays 200.
func TestReadyzUnavailable(t *testing.T) {
	srv, err := server.New(context.Background(), server.Config{DataDir: t.TempDir(), CredentialsOut: io.Discard,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	get := func(path string) (int, string) {
		w := httptest.NewRecorder()
		srv.Handler().ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w.Code, w.Body.String()
	}
	if code, body := get("/readyz"); code != 200 || !strings.Contains(body, `"database":"sqlite"`) {
		t.Fatalf("ready: %d %s", code, body)
	}
	srv.DB.Close()
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, `"status":"unavailable"`) {
		t.Fatalf("database closed: %d %s", code, body)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("healthz: %d", code)
	}
}
