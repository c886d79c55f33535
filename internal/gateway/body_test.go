package gateway_test

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestTruncatedBody: a body that ends before its Content-Length is a 400
// IncompleteBody (read into a buffer of the declared size), and the
// operation does not run; a complete body of the same request succeeds.
func TestTruncatedBody(t *testing.T) {
	h := newHarness(t)
	body := []byte(`{"Name":"` + strings.Repeat("n", 200) + `"}`)
	for _, c := range []struct {
		name   string
		send   int
		status int
		code   string
	}{
		{"truncated", 50, 400, "IncompleteBody"},
		{"complete", len(body), 200, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := h.signed("POST", "/", "testjson", body, jsonHdr, h.creds, time.Now())
			req.ContentLength = int64(len(body))
			var raw bytes.Buffer
			if err := req.Write(&raw); err != nil {
				t.Fatal(err)
			}
			wire := raw.Bytes()[:raw.Len()-len(body)+c.send]
			conn, err := net.Dial("tcp", strings.TrimPrefix(h.url, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			before := h.writes.Load()
			if _, err := conn.Write(wire); err != nil {
				t.Fatal(err)
			}
			if c.send < len(body) {
				// The server sees the body end early. (A complete
				// request keeps the connection open: net/http cancels
				// a request's context when its client goes away.)
				conn.(*net.TCPConn).CloseWrite()
			}
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			code := resp.Header.Get("x-amzn-ErrorType")
			if i := strings.IndexByte(code, ':'); i >= 0 {
				code = code[:i]
			}
			if resp.StatusCode != c.status || code != c.code {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, code, c.status, c.code)
			}
			if ran := h.writes.Load() != before; ran != (c.status == 200) {
				t.Fatalf("operation ran: %v", ran)
			}
		})
	}
}
