package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"lextrail/internal/accounts"
	"lextrail/internal/testenv"
)

var exportRe = regexp.MustCompile(`export AWS_ACCESS_KEY_ID=(\S+)\nexport AWS_SECRET_ACCESS_KEY=(\S+)`)

func runCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestAdmin(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("LEXTRAIL_ACCOUNT_ID", "")
	out, errs, code := runCmd(t, "admin", "--data-dir", dir, "create-account", "111122223333")
	if code != 0 || !exportRe.MatchString(out) {
		t.Fatalf("create-account: %d %q %q", code, out, errs)
	}
	created := exportRe.FindStringSubmatch(out)
	out, _, code = runCmd(t, "admin", "--data-dir", dir, "credentials", "111122223333")
	if code != 0 || !strings.Contains(out, created[1]) || !strings.Contains(out, created[2]) {
		t.Fatalf("credentials: %d %q", code, out)
	}
	out, _, code = runCmd(t, "admin", "rotate-credentials", "--data-dir", dir, "111122223333")
	rotated := exportRe.FindStringSubmatch(out)
	if code != 0 || rotated == nil || rotated[1] == created[1] {
		t.Fatalf("rotate-credentials: %d %q", code, out)
	}
	out, _, _ = runCmd(t, "admin", "--data-dir", dir, "credentials", "111122223333")
	if strings.Contains(out, created[1]) || !strings.Contains(out, rotated[1]) {
		t.Fatalf("credentials after rotation: %q", out)
	}
	out, _, code = runCmd(t, "admin", "--data-dir", dir, "list-accounts")
	if code != 0 || !strings.HasPrefix(out, "111122223333\t") {
		t.Fatalf("list-accounts: %q", out)
	}
	for _, bad := range [][]string{
		{"admin", "--data-dir", dir, "create-account", "111122223333"},
		{"admin", "--data-dir", dir, "create-account", "12"},
		{"admin", "--data-dir", dir, "credentials", "999999999999"},
		{"admin", "--data-dir", dir, "frobnicate"},
		{"nosuchcommand"},
		{"serve", "--log-format", "xml"},
		{"serve", "--data-dir", dir, "--tls-cert", "cert.pem"},
		{"serve", "--data-dir", dir, "--tls-cert", filepath.Join(dir, "none.pem"), "--tls-key", filepath.Join(dir, "none.key")},
	} {
		if _, _, code := runCmd(t, bad...); code == 0 {
			t.Errorf("%v succeeded", bad)
		}
	}
	if info, err := os.Stat(filepath.Join(dir, "master.key")); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("master key: %v %v", info, err)
	}
	if out, _, code := runCmd(t, "version"); code != 0 || !strings.HasPrefix(out, "lextrail ") {
		t.Fatalf("version: %q", out)
	}
}

// sdkHTTP is the HTTP client the SDK clients of these tests use (see
// testenv.BufferBodies).
func sdkHTTP() *http.Client {
	return &http.Client{Transport: testenv.BufferBodies(http.DefaultTransport.(*http.Transport).Clone())}
}

// buildBinary builds lextrail once per test binary.
func buildBinary(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "lextrail")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitReady(addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %v", limit)
}

// TestServeBinary: the real binary starts on a fresh data dir, prints the
// generated credentials once, answers the SDK, and exits 0 on SIGTERM.
func TestServeBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	addr := freePort(t)
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "serve", "--listen", addr, "--data-dir", dir, "--log-format", "json")
	cmd.Env = append(os.Environ(), "LEXTRAIL_ACCOUNT_ID=", "LEXTRAIL_ROOT_ACCESS_KEY_ID=", "LEXTRAIL_ROOT_SECRET_ACCESS_KEY=")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if err := waitReady(addr, 10*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	m := exportRe.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no credentials printed:\n%s", stderr.String())
	}
	client := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + addr), HTTPClient: sdkHTTP(),
		Credentials: credentials.NewStaticCredentialsProvider(m[1], m[2], "")})
	out, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(out.Arn) != "arn:aws:iam::000000000000:root" {
		t.Fatalf("GetCallerIdentity: %v %v", out, err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
	}
	// A second start on the same data dir prints nothing new.
	stderr.Reset()
	cmd = exec.Command(bin, "serve", "--listen", addr, "--data-dir", dir)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if err := waitReady(addr, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if strings.Contains(stderr.String(), "AWS_SECRET_ACCESS_KEY") {
		t.Fatal("credentials printed again on the second start")
	}
}

// TestServeTLS: with --tls-cert/--tls-key the binary serves HTTPS only,
// the SDK works over it, and the recorded event carries tlsDetails (read
// back offline with "lextrail events").
func TestServeTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	certPEM, keyPEM, pool := testenv.SelfSignedCert(t)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, certPEM, 0o600)
	os.WriteFile(keyFile, keyPEM, 0o600)
	creds := accounts.NewRootCredentials()
	addr := freePort(t)
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "serve", "--listen", addr, "--data-dir", dir, "--tls-cert", certFile, "--tls-key", keyFile)
	cmd.Env = append(os.Environ(), "LEXTRAIL_ACCOUNT_ID=111122223333",
		"LEXTRAIL_ROOT_ACCESS_KEY_ID="+creds.AccessKeyID, "LEXTRAIL_ROOT_SECRET_ACCESS_KEY="+creds.SecretAccessKey)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	hc := &http.Client{Transport: testenv.BufferBodies(&http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}})}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := hc.Get("https://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready over HTTPS: %v\n%s", err, stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if resp, err := http.Get("http://" + addr + "/readyz"); err == nil && resp.StatusCode == 200 {
		t.Error("plain HTTP answered on the TLS listener")
	}
	client := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String("https://" + addr), HTTPClient: hc,
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")})
	if _, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	out, errs, code := runCmd(t, "events", "--data-dir", dir, "--attribute", "EventName=GetCallerIdentity")
	if code != 0 || !strings.Contains(out, `"tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_`) || !strings.Contains(out, `"clientProvidedHostHeader":"`+addr+`"`) {
		t.Fatalf("events: %d %s %s", code, out, errs)
	}
}

// BenchmarkColdStart measures `lextrail serve` on an existing data dir to
// the first 200 on /readyz.
func BenchmarkColdStart(b *testing.B) {
	bin := buildBinary(b)
	dir := b.TempDir()
	start := func() (*exec.Cmd, string) {
		addr := freePort(b)
		cmd := exec.Command(bin, "serve", "--listen", addr, "--data-dir", dir)
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		return cmd, addr
	}
	cmd, addr := start() // creates the data dir
	if err := waitReady(addr, 10*time.Second); err != nil {
		b.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd, addr := start()
		if err := waitReady(addr, 10*time.Second); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		b.StartTimer()
	}
}
