package main

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// The lean client (-client lean, the default for -op PostText and -op
// Empty): the same SigV4-signed HTTP/1.1 requests the SDK path sends, but
// signed by leanSigner and written as bytes on one kept-alive net.Conn per
// connection, the response read with a bufio.Reader on the caller's
// goroutine. It spends a fraction of the client CPU of net/http's
// Transport (two goroutines per connection, header maps) and the SDK
// signer (canonicalisation through maps, strings and sorting), which on a
// 2-core machine shares the cores with the server being measured.

// leanSigner signs requests with SigV4 header authentication for one key
// pair, region and service. It signs exactly the headers the SDK signer
// signs for a request carrying only Content-Type: content-length,
// content-type, host and x-amz-date. The derived signing key is cached per
// day; per request it hashes the payload, builds the canonical request and
// the string to sign and computes the HMAC. One leanSigner serves one
// goroutine (no locking).
type leanSigner struct {
	ak, sk, region, service string

	day   string    // yyyymmdd of key
	scope string    // day/region/service/aws4_request
	key   []byte    // derived signing key for day
	mac   hash.Hash // HMAC-SHA256 keyed with key
	sec   int64     // unix second of amzDate
	date  string    // amzDate: yyyymmddThhmmssZ of sec

	canon []byte // scratch: canonical request
	sts   []byte // scratch: string to sign
	sum   []byte // scratch: digests
}

func newLeanSigner(ak, sk, region, service string) *leanSigner {
	return &leanSigner{ak: ak, sk: sk, region: region, service: service, sec: -1}
}

func hmacSum(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// at sets the request time t (UTC, second resolution) and returns its
// X-Amz-Date, deriving the day's key when the day changes.
func (s *leanSigner) at(t time.Time) string {
	t = t.UTC()
	if sec := t.Unix(); sec != s.sec {
		s.sec, s.date = sec, t.Format("20060102T150405Z")
	}
	if day := s.date[:8]; day != s.day {
		s.day = day
		s.key = hmacSum(hmacSum(hmacSum(hmacSum([]byte("AWS4"+s.sk), day), s.region), s.service), "aws4_request")
		s.mac = hmac.New(sha256.New, s.key)
		s.scope = day + "/" + s.region + "/" + s.service + "/aws4_request"
	}
	return s.date
}

// authorization appends to dst the Authorization header value of a
// request with this method, path (unescaped, no query; sent as
// appendEscapedPath encodes it), Host, Content-Type and body, signed at t,
// and returns the X-Amz-Date header value the request must carry.
func (s *leanSigner) authorization(dst []byte, method, path, host, contentType string, body []byte, t time.Time) (auth []byte, amzDate string) {
	amzDate = s.at(t)
	const signed = "content-length;content-type;host;x-amz-date"
	c := append(s.canon[:0], method...)
	c = append(c, '\n')
	// The canonical URI of a non-S3 service encodes the path as sent
	// (already encoded) once more.
	esc := appendEscapedPath(s.sum[:0], path)
	c = appendEscapedPath(c, string(esc))
	s.sum = esc
	c = append(c, "\n\ncontent-length:"...)
	c = strconv.AppendInt(c, int64(len(body)), 10)
	c = append(c, "\ncontent-type:"...)
	c = append(c, contentType...)
	c = append(c, "\nhost:"...)
	c = append(c, host...)
	c = append(c, "\nx-amz-date:"...)
	c = append(c, amzDate...)
	c = append(c, "\n\n"+signed+"\n"...)
	payload := sha256.Sum256(body)
	c = hex.AppendEncode(c, payload[:])
	s.canon = c

	cr := sha256.Sum256(c)
	st := append(s.sts[:0], "AWS4-HMAC-SHA256\n"...)
	st = append(st, amzDate...)
	st = append(st, '\n')
	st = append(st, s.scope...)
	st = append(st, '\n')
	st = hex.AppendEncode(st, cr[:])
	s.sts = st

	s.mac.Reset()
	s.mac.Write(st)
	s.sum = s.mac.Sum(s.sum[:0])

	dst = append(dst, "AWS4-HMAC-SHA256 Credential="...)
	dst = append(dst, s.ak...)
	dst = append(dst, '/')
	dst = append(dst, s.scope...)
	dst = append(dst, ", SignedHeaders="+signed+", Signature="...)
	dst = hex.AppendEncode(dst, s.sum)
	return dst, amzDate
}

// appendEscapedPath URI-encodes every byte of p but the unreserved ones
// and '/' (RFC 3986, as the SDK signer encodes the canonical URI).
func appendEscapedPath(dst []byte, p string) []byte {
	const hexUpper = "0123456789ABCDEF"
	for i := 0; i < len(p); i++ {
		c := p[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', hexUpper[c>>4], hexUpper[c&15])
		}
	}
	return dst
}

// leanConn is one kept-alive HTTP/1.1 connection of the lean client,
// (re)dialled on demand; one goroutine uses it.
type leanConn struct {
	addr, host string
	sig        *leanSigner
	timeout    time.Duration

	c    net.Conn
	br   *bufio.Reader
	req  []byte // scratch: the request bytes
	auth []byte // scratch: the Authorization value
	body []byte // the last response body (valid until the next call)
}

// newLeanConn prepares a connection to the http:// endpoint; sig may be
// nil for unsigned requests.
func newLeanConn(endpoint string, sig *leanSigner) (*leanConn, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("lean client: endpoint %s: only http:// is supported (use -client sdk)", endpoint)
	}
	host, addr := u.Host, u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	} else if u.Port() == "80" {
		host = u.Hostname() // as net/http and the SDK signer put it in Host
	}
	return &leanConn{addr: addr, host: host, sig: sig, timeout: 10 * time.Second}, nil
}

func (lc *leanConn) close() {
	if lc.c != nil {
		lc.c.Close()
		lc.c, lc.br = nil, nil
	}
}

// post sends one POST of body to path (signed when lc has a signer, at
// time.Now()) and returns the response status and body. The connection is
// kept for the next call unless the server closes it or an error occurs.
func (lc *leanConn) post(path, contentType string, body []byte) (int, []byte, error) {
	if lc.c == nil {
		c, err := net.DialTimeout("tcp", lc.addr, lc.timeout)
		if err != nil {
			return 0, nil, err
		}
		lc.c, lc.br = c, bufio.NewReaderSize(c, 4096)
	}
	r := append(lc.req[:0], "POST "...)
	r = appendEscapedPath(r, path)
	r = append(r, " HTTP/1.1\r\nHost: "...)
	r = append(r, lc.host...)
	r = append(r, "\r\nUser-Agent: lextrail-load\r\nContent-Type: "...)
	r = append(r, contentType...)
	r = append(r, "\r\nContent-Length: "...)
	r = strconv.AppendInt(r, int64(len(body)), 10)
	if lc.sig != nil {
		var date string
		lc.auth, date = lc.sig.authorization(lc.auth[:0], "POST", path, lc.host, contentType, body, time.Now())
		r = append(r, "\r\nX-Amz-Date: "...)
		r = append(r, date...)
		r = append(r, "\r\nAuthorization: "...)
		r = append(r, lc.auth...)
	}
	r = append(r, "\r\n\r\n"...)
	r = append(r, body...)
	lc.req = r
	lc.c.SetDeadline(time.Now().Add(lc.timeout))
	if _, err := lc.c.Write(r); err != nil {
		lc.close()
		return 0, nil, err
	}
	status, keep, err := lc.readResponse()
	if err != nil {
		lc.close()
		return 0, nil, err
	}
	if !keep {
		lc.close()
	}
	return status, lc.body, nil
}

var errMalformed = errors.New("lean client: malformed HTTP response")

// readResponse reads one response: the status line, the headers (it acts
// on Content-Length, Transfer-Encoding: chunked and Connection: close) and
// the body into lc.body. keep is false when the connection cannot be
// reused.
func (lc *leanConn) readResponse() (status int, keep bool, err error) {
	br := lc.br
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		// HTTP/1.x NNN reason
		if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
			return 0, false, errMalformed
		}
		status, err = strconv.Atoi(string(line[9:12]))
		if err != nil {
			return 0, false, errMalformed
		}
		keep = line[7] == '1'
		length, chunked := -1, false
		for {
			h, err := br.ReadSlice('\n')
			if err != nil {
				return 0, false, err
			}
			h = bytes.TrimRight(h, "\r\n")
			if len(h) == 0 {
				break
			}
			colon := bytes.IndexByte(h, ':')
			if colon <= 0 {
				return 0, false, errMalformed
			}
			name, value := h[:colon], bytes.TrimSpace(h[colon+1:])
			switch {
			case asciiEqualFold(name, "Content-Length"):
				n, err := strconv.Atoi(string(value))
				if err != nil || n < 0 {
					return 0, false, errMalformed
				}
				length = n
			case asciiEqualFold(name, "Transfer-Encoding"):
				chunked = asciiEqualFold(value, "chunked")
			case asciiEqualFold(name, "Connection"):
				if asciiEqualFold(value, "close") {
					keep = false
				} else if asciiEqualFold(value, "keep-alive") {
					keep = true
				}
			}
		}
		if status >= 100 && status < 200 {
			continue // interim response: the real one follows
		}
		lc.body = lc.body[:0]
		switch {
		case status == 204 || status == 304:
		case chunked:
			if err := lc.readChunked(); err != nil {
				return 0, false, err
			}
		case length >= 0:
			if cap(lc.body) < length {
				lc.body = make([]byte, length)
			}
			lc.body = lc.body[:length]
			if _, err := io.ReadFull(br, lc.body); err != nil {
				return 0, false, err
			}
		default: // the body runs to the end of the connection
			b, err := io.ReadAll(br)
			if err != nil {
				return 0, false, err
			}
			lc.body, keep = b, false
		}
		return status, keep, nil
	}
}

// readChunked appends a chunked body (trailers skipped) to lc.body.
func (lc *leanConn) readChunked() error {
	br := lc.br
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		n, err := strconv.ParseUint(string(bytes.TrimSpace(line)), 16, 31)
		if err != nil {
			return errMalformed
		}
		if n == 0 {
			for { // trailers, up to the empty line
				t, err := br.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(bytes.TrimRight(t, "\r\n")) == 0 {
					return nil
				}
			}
		}
		start := len(lc.body)
		lc.body = append(lc.body, make([]byte, n)...)
		if _, err := io.ReadFull(br, lc.body[start:]); err != nil {
			return err
		}
		crlf, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(bytes.TrimRight(crlf, "\r\n")) != 0 {
			return errMalformed
		}
	}
}

// asciiEqualFold reports whether b equals s ignoring ASCII case.
func asciiEqualFold[T []byte | string](b T, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
