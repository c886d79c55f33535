package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"lextrail/internal/sigv4"
)

const (
	testAK = "AKIDEXAMPLE0000000001"
	testSK = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

// sdkAuthorization signs the request the lean client sends with the SDK
// signer, built as the -client sdk path builds it.
func sdkAuthorization(t *testing.T, host, path string, body []byte, at time.Time) (auth, date string) {
	t.Helper()
	u := &url.URL{Scheme: "http", Host: host, Path: path}
	req, err := http.NewRequest(http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAK, SecretAccessKey: testSK},
		req, hex.EncodeToString(sum[:]), "lex", "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	return req.Header.Get("Authorization"), req.Header.Get("X-Amz-Date")
}

func TestLeanSignerMatchesSDK(t *testing.T) {
	paths := []string{
		"/bot/LoadBot/alias/load/user/user-3-17/text",
		"/bot/LoadBot/alias/loadlog/user/on0-15-49/text",
		"/bot/B/alias/a/user/name with space/text",
		"/bot/B/alias/a/user/ñandú~x_y.z/text",
	}
	bodies := [][]byte{[]byte(`{"inputText":"next friday"}`), []byte(`{"inputText":"i want ribao thing7"}`), []byte(`{}`)}
	times := []time.Time{
		time.Date(2026, 12, 1, 23, 59, 59, 900e6, time.UTC),
		time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), // the next day: a new key
		time.Date(2026, 12, 2, 0, 0, 0, 500e6, time.UTC),
		time.Date(2026, 12, 2, 1, 2, 3, 0, time.FixedZone("CET", 3600)),
	}
	for _, host := range []string{"127.0.0.1:4566", "localhost:80"} {
		lc, err := newLeanConn("http://"+host, newLeanSigner(testAK, testSK, "us-east-1", "lex"))
		if err != nil {
			t.Fatal(err)
		}
		for _, at := range times {
			for _, p := range paths {
				for _, b := range bodies {
					want, wantDate := sdkAuthorization(t, host, p, b, at)
					got, date := lc.sig.authorization(nil, "POST", p, lc.host, "application/json", b, at)
					if string(got) != want || date != wantDate {
						t.Fatalf("host %s path %q body %s at %v:\n got %s (%s)\nwant %s (%s)", host, p, b, at, got, date, want, wantDate)
					}
				}
			}
		}
	}
}

// verifyingServer answers requests whose SigV4 signature internal/sigv4
// (the server's verifier) accepts with a PostText-like JSON body, and the
// others with 403; it counts connections and verified requests.
func verifyingServer(t *testing.T, chunked bool) (srv *httptest.Server, conns, verified *atomic.Int64) {
	conns, verified = new(atomic.Int64), new(atomic.Int64)
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a, err := sigv4.Parse(r, time.Now())
		if err == nil && a.AccessKeyID != testAK {
			err = fmt.Errorf("access key %s", a.AccessKeyID)
		}
		if err == nil {
			err = a.Verify(r, testSK, body)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		verified.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if chunked {
			w.(http.Flusher).Flush() // forces Transfer-Encoding: chunked
		}
		fmt.Fprintf(w, `{"dialogState":"ElicitSlot","echo":%s}`, body)
	}))
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, conns, verified
}

func TestLeanConnSignedKeepAlive(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		srv, conns, verified := verifyingServer(t, chunked)
		lc, err := newLeanConn(srv.URL, newLeanSigner(testAK, testSK, "us-east-1", "lex"))
		if err != nil {
			t.Fatal(err)
		}
		bodies := turnBodies([]string{"i want ribao thing7", "show me kosa thing8"})
		for n := 0; n < 20; n++ {
			if err := leanTurn(lc, bodies, []string{"a", "b"}, "", "", 1, n%3, n, true); err != nil {
				t.Fatalf("chunked %v turn %d: %v", chunked, n, err)
			}
			if k, _ := turnInput([]string{"a", "b"}, 1, n%3, n); !bytes.Contains(lc.body, bodies[k]) {
				t.Fatalf("turn %d: answer %s does not echo %s", n, lc.body, bodies[k])
			}
		}
		lc.close()
		if verified.Load() != 20 || conns.Load() != 1 {
			t.Fatalf("chunked %v: %d requests verified over %d connections, want 20 over 1", chunked, verified.Load(), conns.Load())
		}

		// A wrong secret is refused by the verifier, and the client says so.
		bad, _ := newLeanConn(srv.URL, newLeanSigner(testAK, "not-the-secret", "us-east-1", "lex"))
		err = leanTurn(bad, bodies, []string{"a", "b"}, "", "", 1, 0, 0, true)
		bad.close()
		if err == nil || !strings.Contains(err.Error(), "status 403") {
			t.Fatalf("wrong secret: %v, want a 403", err)
		}
	}
}

func TestLeanTurnChecksDialogState(t *testing.T) {
	srv, _, _ := verifyingServer(t, false) // always answers ElicitSlot
	lc, _ := newLeanConn(srv.URL, newLeanSigner(testAK, testSK, "us-east-1", "lex"))
	defer lc.close()
	bodies := turnBodies([]string{"x"})
	if err := leanTurn(lc, bodies, []string{"x"}, "", "", 0, 0, 0, false); err != nil {
		t.Fatalf("even turn (ElicitSlot expected): %v", err)
	}
	if err := leanTurn(lc, bodies, []string{"x"}, "", "", 0, 0, 1, false); err == nil || !strings.Contains(err.Error(), "status 200") {
		t.Fatalf("odd turn answered ElicitSlot: %v, want a dialogState error", err)
	}
}

// TestLeanConnResponses feeds the response reader what a server may send:
// an interim 100, a chunked body with an extension and a trailer, a body
// with Connection: close (the client redials), and garbage.
func TestLeanConnResponses(t *testing.T) {
	answers := []string{
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n",
		"HTTP/1.1 409 Conflict\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz",
		"HTTP/1.0 200 OK\r\n\r\nto the end",
		"SMTP ready\r\n\r\n",
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		i := 0
		for i < len(answers) {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			br := bufio.NewReader(c)
			for i < len(answers) {
				req, err := http.ReadRequest(br)
				if err != nil {
					break
				}
				io.Copy(io.Discard, req.Body)
				c.Write([]byte(answers[i]))
				i++
				if strings.Contains(answers[i-1], "close") || strings.HasPrefix(answers[i-1], "HTTP/1.0") {
					break
				}
			}
			c.Close()
		}
	}()
	lc, _ := newLeanConn("http://"+ln.Addr().String(), nil)
	defer lc.close()
	want := []struct {
		status int
		body   string
	}{{200, "hello"}, {200, "abcde"}, {409, "{}"}, {200, "z"}, {200, "to the end"}}
	for i, w := range want {
		status, body, err := lc.post("/p", "text/plain", []byte("x"))
		if err != nil || status != w.status || string(body) != w.body {
			t.Fatalf("answer %d: %d %q %v, want %d %q", i, status, body, err, w.status, w.body)
		}
	}
	if _, _, err := lc.post("/p", "text/plain", []byte("x")); err == nil {
		t.Fatal("a non-HTTP answer was accepted")
	}
	lc.close()
	ln.Close()
	wg.Wait()
	if accepted.Load() != 3 {
		t.Fatalf("%d connections, want 3 (kept alive until Connection: close and HTTP/1.0)", accepted.Load())
	}
}

func TestPidCPU(t *testing.T) {
	deadline := time.Now().Add(50 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = sha256.Sum256([]byte{byte(x)})
	}
	got, self := pidCPU(os.Getpid()), processCPU()
	// /proc counts in 10ms ticks: allow one tick either way
	if got <= 0 || got > self+10*time.Millisecond || got < self-20*time.Millisecond {
		t.Fatalf("pidCPU(self) = %v, getrusage says %v", got, self)
	}
	if pidCPU(0) != 0 {
		t.Fatal("pidCPU(0) is not 0")
	}
}
