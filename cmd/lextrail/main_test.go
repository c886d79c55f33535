package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
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

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// TestMain removes the binary buildBinary built.
func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// buildBinary builds lextrail once per test binary.
func buildBinary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lextrail-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "lextrail")
		if out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return builtBin
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

// BenchmarkColdStart measures `lextrail serve` on an existing data dir
// (created by a first start: database migrated, master key and default
// account present) from exec to the first 200 on /readyz, polled every
// 2 ms. It
// reports the mean and the slowest start in ms.
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
	var worst, total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		cmd, addr := start()
		if err := waitReady(addr, 10*time.Second); err != nil {
			b.Fatal(err)
		}
		d := time.Since(t0)
		total += d
		worst = max(worst, d)
		b.StopTimer()
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms/start")
	b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms")
}

// startBinary starts `lextrail serve` on dir with a fixed root key pair and
// waits for /readyz.
func startBinary(t *testing.T, bin, dir, ak, sk string, extra ...string) (*exec.Cmd, string, *bytes.Buffer) {
	t.Helper()
	addr := freePort(t)
	var stderr bytes.Buffer
	cmd := exec.Command(bin, append([]string{"serve", "--listen", addr, "--data-dir", dir}, extra...)...)
	cmd.Env = append(os.Environ(), "LEXTRAIL_ACCOUNT_ID=", "LEXTRAIL_ROOT_ACCESS_KEY_ID="+ak, "LEXTRAIL_ROOT_SECRET_ACCESS_KEY="+sk)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if err := waitReady(addr, 10*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	return cmd, addr, &stderr
}

// TestSIGTERMFinishesInFlight: the real binary gets SIGTERM while a
// request's body is still arriving. It stops accepting connections, the
// request completes with 200, the process exits 0, and the request's
// CloudTrail event (written by the background group committer) is in the
// database afterwards: work was flushed and the database closed cleanly.
func TestSIGTERMFinishesInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	const ak, sk = "AKIASHUTDOWNTEST0001", "shutdown-test-secret-key-0000000000000000"
	cmd, addr, stderr := startBinary(t, bin, dir, ak, sk)

	body := []byte("Action=GetCallerIdentity&Version=2011-06-15")
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", "http://"+addr+"/", pr)
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("User-Agent", "in-flight-at-sigterm")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk},
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
		resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{status: resp.StatusCode, body: string(b)}
	}()
	pw.Write(body[:10])
	time.Sleep(300 * time.Millisecond) // the server is now reading the body
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Shutdown has begun once the listener is closed.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections 5s after SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case r := <-done:
		t.Fatalf("in-flight request ended before its body was sent: %+v", r)
	default:
	}
	pw.Write(body[10:])
	pw.Close()
	r := <-done
	if r.err != nil || r.status != 200 || !strings.Contains(r.body, "<Arn>arn:aws:iam::000000000000:root</Arn>") {
		t.Fatalf("in-flight request: %+v\n%s", r, stderr.String())
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no exit 10s after SIGTERM\n%s", stderr.String())
	}
	out, errs, code := runCmd(t, "events", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, `"eventName":"GetCallerIdentity"`) || !strings.Contains(out, `"userAgent":"in-flight-at-sigterm"`) {
		t.Fatalf("the in-flight call's event is missing after shutdown: %d %q %q", code, out, errs)
	}
}

// TestAdminRotationTakesEffect: keys created and rotated offline work
// against a server started on the data dir afterwards, the replaced key is
// refused, and no secret appears in clear in the database files.
func TestAdminRotationTakesEffect(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	t.Setenv("LEXTRAIL_ACCOUNT_ID", "")
	out, _, code := runCmd(t, "admin", "--data-dir", dir, "create-account", "111122223333")
	created := exportRe.FindStringSubmatch(out)
	if code != 0 || created == nil {
		t.Fatalf("create-account: %q", out)
	}
	out, _, code = runCmd(t, "admin", "--data-dir", dir, "rotate-credentials", "111122223333")
	rotated := exportRe.FindStringSubmatch(out)
	if code != 0 || rotated == nil {
		t.Fatalf("rotate-credentials: %q", out)
	}
	const ak, sk = "AKIAADMINTESTROOT001", "admin-test-root-secret-00000000000000000"
	cmd, addr, _ := startBinary(t, bin, dir, ak, sk)
	call := func(id, secret string) (*sts.GetCallerIdentityOutput, error) {
		c := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + addr), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")})
		return c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	}
	if got, err := call(rotated[1], rotated[2]); err != nil || aws.ToString(got.Account) != "111122223333" {
		t.Fatalf("rotated key: %v %v", got, err)
	}
	if _, err := call(created[1], created[2]); err == nil || !strings.Contains(err.Error(), "InvalidClientTokenId") {
		t.Fatalf("replaced key: %v", err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	files, _ := filepath.Glob(filepath.Join(dir, "lextrail.db*"))
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{created[2], rotated[2], sk} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds a secret key in clear", filepath.Base(f))
			}
		}
	}
	// Without the master key the database alone yields no secret.
	if err := os.Rename(filepath.Join(dir, "master.key"), filepath.Join(t.TempDir(), "master.key")); err != nil {
		t.Fatal(err)
	}
	out, _, _ = runCmd(t, "admin", "--data-dir", dir, "credentials", "111122223333")
	if strings.Contains(out, rotated[2]) {
		t.Fatal("credentials printed without the master key")
	}
}

// TestServeFromEnvironment: every serve setting can come from the
// environment alone.
func TestServeFromEnvironment(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	addr := freePort(t)
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "serve")
	cmd.Dir = t.TempDir() // not the data dir: the default ./lextrail-data must not be used
	cmd.Env = append(os.Environ(), "LEXTRAIL_LISTEN="+addr, "LEXTRAIL_DATA_DIR="+dir, "LEXTRAIL_LOG_FORMAT=json",
		"LEXTRAIL_SHUTDOWN_TIMEOUT=5s", "LEXTRAIL_EVENT_RETENTION=24h", "LEXTRAIL_DATABASE_URL=sqlite://"+filepath.Join(dir, "env.db"),
		"LEXTRAIL_ACCOUNT_ID=210987654321", "LEXTRAIL_ROOT_ACCESS_KEY_ID=AKIAENVIRONMENTTEST1", "LEXTRAIL_ROOT_SECRET_ACCESS_KEY=environment-secret")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if err := waitReady(addr, 10*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	client := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + addr),
		Credentials: credentials.NewStaticCredentialsProvider("AKIAENVIRONMENTTEST1", "environment-secret", "")})
	out, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(out.Account) != "210987654321" {
		t.Fatalf("GetCallerIdentity: %v %v", out, err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(dir, "env.db")); err != nil {
		t.Fatalf("LEXTRAIL_DATABASE_URL not used: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cmd.Dir, "lextrail-data")); err == nil {
		t.Fatal("the default data dir was created")
	}
	if !strings.Contains(stderr.String(), `"msg":"lextrail serving"`) || !strings.Contains(stderr.String(), `"msg":"shutting down"`) {
		t.Fatalf("logs are not JSON:\n%s", stderr.String())
	}
}
