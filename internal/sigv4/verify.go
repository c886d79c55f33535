package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Verify checks the signature with the secret key. body is the buffered
// request body; it may be nil when the payload hash is UNSIGNED-PAYLOAD or
// STREAMING-*, in which case the X-Amz-Content-Sha256 value is used
// verbatim. When X-Amz-Content-Sha256 is a hex hash it is what was signed,
// and it must also equal sha256(body) if body != nil (ContentHashMismatch).
// When the header is absent the body (nil meaning empty) is hashed; S3
// presigned URLs without the header use UNSIGNED-PAYLOAD, as AWS does.
//
// Verify must be called with the same request Parse saw. A streaming
// (aws-chunked) body is then decoded with ChunkedReader.
func (a *Auth) Verify(r *http.Request, secret string, body []byte) error {
	payload := a.PayloadHash
	checkBody := false
	switch {
	case payload == "" && a.Presigned && a.Service == "s3":
		payload = unsignedPayload
	case payload == "":
		sum := sha256.Sum256(body)
		payload = hex.EncodeToString(sum[:])
	case isHex64(payload):
		payload = strings.ToLower(payload)
		checkBody = body != nil
	}

	key := signingKey(secret, a.ScopeDate, a.Region, a.Service)
	bp := bufPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 64<<10 { // do not keep huge buffers around
			bufPool.Put(bp)
		}
	}()

	uri, alt := canonicalURI(r, a.Service == "s3")
	canon := a.appendCanonical((*bp)[:0], r, uri, payload)
	*bp = canon
	ok := a.check(key, canon)
	if !ok && alt != "" {
		// A second spelling of the path some clients sign (see canonicalURI).
		c2 := a.appendCanonical(nil, r, alt, payload)
		ok = a.check(key, c2)
	}
	if !ok {
		return &Error{Kind: SignatureMismatch, presigned: a.Presigned,
			Message:     "signature does not match",
			accessKeyID: a.AccessKeyID, canonical: string(canon),
			stringToSign: string(a.appendStringToSign(nil, canon)), signature: a.Signature}
	}
	if checkBody {
		sum := sha256.Sum256(body)
		got := hex.EncodeToString(sum[:])
		if got != payload {
			return &Error{Kind: ContentHashMismatch, presigned: a.Presigned,
				Message:    "x-amz-content-sha256 does not match the body",
				clientHash: a.PayloadHash, computedHash: got}
		}
	}
	return nil
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func (a *Auth) check(key, canon []byte) bool {
	var sts [256]byte
	s := a.appendStringToSign(sts[:0], canon)
	mac := hmac.New(sha256.New, key)
	mac.Write(s)
	var out [32]byte
	return hmac.Equal(mac.Sum(out[:0]), a.sig[:])
}

func (a *Auth) appendStringToSign(dst, canon []byte) []byte {
	h := sha256.Sum256(canon)
	dst = append(dst, algorithm...)
	dst = append(dst, '\n')
	dst = append(dst, a.amzDate...)
	dst = append(dst, '\n')
	dst = append(dst, a.ScopeDate...)
	dst = append(dst, '/')
	dst = append(dst, a.Region...)
	dst = append(dst, '/')
	dst = append(dst, a.Service...)
	dst = append(dst, "/"+terminator+"\n"...)
	return hex.AppendEncode(dst, h[:])
}

// appendCanonical appends the canonical request.
func (a *Auth) appendCanonical(dst []byte, r *http.Request, uri, payload string) []byte {
	dst = append(dst, r.Method...)
	dst = append(dst, '\n')
	dst = append(dst, uri...)
	dst = append(dst, '\n')
	dst = appendCanonicalQuery(dst, r.URL.RawQuery, a.Presigned)
	dst = append(dst, '\n')
	for _, name := range a.SignedHeaders {
		dst = append(dst, name...)
		dst = append(dst, ':')
		dst = appendHeaderValue(dst, r, name)
		dst = append(dst, '\n')
	}
	dst = append(dst, '\n')
	dst = append(dst, a.signedHeadersRaw...)
	dst = append(dst, '\n')
	return append(dst, payload...)
}

// appendHeaderValue appends the canonical value of one signed header: the
// values trimmed, inner runs of spaces collapsed, joined by ",". Host and
// the framing headers that Go moves out of r.Header are taken from the
// request fields.
func appendHeaderValue(dst []byte, r *http.Request, name string) []byte {
	var vals []string
	switch name {
	case "host":
		h := r.Host
		if h == "" {
			h = r.URL.Host
		}
		return appendTrimmed(dst, h)
	case "content-length":
		vals = r.Header["Content-Length"]
		if len(vals) == 0 && r.ContentLength >= 0 {
			return strconv.AppendInt(dst, r.ContentLength, 10)
		}
	case "transfer-encoding":
		vals = r.Header["Transfer-Encoding"]
		if len(vals) == 0 {
			vals = r.TransferEncoding
		}
	default:
		var ok bool
		vals, ok = r.Header[textproto.CanonicalMIMEHeaderKey(name)]
		if !ok {
			for k, v := range r.Header {
				if strings.EqualFold(k, name) {
					vals = v
					break
				}
			}
		}
	}
	for i, v := range vals {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendTrimmed(dst, v)
	}
	return dst
}

// appendTrimmed appends v without leading/trailing spaces and with inner
// runs of spaces collapsed to one.
func appendTrimmed(dst []byte, v string) []byte {
	v = strings.Trim(v, " \t")
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if !space {
				dst = append(dst, ' ')
			}
			space = true
			continue
		}
		space = false
		dst = append(dst, c)
	}
	return dst
}

type queryPair struct{ k, v string }

// appendCanonicalQuery appends the canonical query string: every parameter
// (except X-Amz-Signature when presigned), keys and values decoded then
// URI-encoded with the RFC 3986 unreserved set, sorted by key then value.
func appendCanonicalQuery(dst []byte, raw string, presigned bool) []byte {
	if raw == "" {
		return dst
	}
	var arr [16]queryPair
	pairs := arr[:0]
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, v = encodeQueryComponent(k), encodeQueryComponent(v)
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, queryPair{k, v})
	}
	slices.SortFunc(pairs, func(x, y queryPair) int {
		if c := strings.Compare(x.k, y.k); c != 0 {
			return c
		}
		return strings.Compare(x.v, y.v)
	})
	for i, p := range pairs {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, p.k...)
		dst = append(dst, '=')
		dst = append(dst, p.v...)
	}
	return dst
}

// encodeQueryComponent decodes a raw query component ('+' is a space) and
// re-encodes it canonically. Components already in canonical form are
// returned without allocating.
func encodeQueryComponent(s string) string {
	if isCanonicalEncoded(s) {
		return s
	}
	d, err := url.QueryUnescape(s)
	if err != nil {
		d = s
	}
	return string(appendURIEncode(nil, d, false))
}

// isCanonicalEncoded reports whether s consists of unreserved characters
// and upper-case %XX escapes of reserved bytes only.
func isCanonicalEncoded(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			continue
		}
		if c != '%' || i+2 >= len(s) || !isUpperHex(s[i+1]) || !isUpperHex(s[i+2]) {
			return false
		}
		b := unhex(s[i+1])<<4 | unhex(s[i+2])
		if unreserved(b) {
			return false
		}
		i += 2
	}
	return true
}

func isUpperHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0
}

func unreserved(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

const upperHex = "0123456789ABCDEF"

// appendURIEncode percent-encodes every byte outside the RFC 3986
// unreserved set (and '/', when keepSlash).
func appendURIEncode(dst []byte, s string, keepSlash bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || keepSlash && c == '/' {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
	}
	return dst
}

// canonicalURI returns the canonical URI and, when some clients sign a
// different spelling of the same path, an alternative to try on mismatch.
//
// For S3 the path is used as sent, each segment normalised to be encoded
// exactly once (decode, then encode the RFC 3986 unreserved set); '//' and
// dot segments are kept. The alternative is the path exactly as sent.
//
// For other services each segment of the path as sent is URI-encoded again
// (AWS's double encoding, what the Go SDK does). The alternative removes
// dot segments and empty segments first, as botocore does for non-S3
// services.
func canonicalURI(r *http.Request, s3 bool) (uri, alt string) {
	p := r.URL.EscapedPath()
	if p == "" {
		p = "/"
	}
	if s3 {
		if isCanonicalPath(p) {
			return p, ""
		}
		var b []byte
		for i, seg := range strings.Split(p, "/") {
			if i > 0 {
				b = append(b, '/')
			}
			d, err := url.PathUnescape(seg)
			if err != nil {
				d = seg
			}
			b = appendURIEncode(b, d, false)
		}
		return string(b), p
	}
	if isUnreservedPath(p) {
		uri = p
	} else {
		uri = string(appendURIEncode(nil, p, true))
	}
	if strings.Contains(p, "//") || strings.Contains(p, "/.") {
		n := normalizePath(p)
		if n != p {
			alt = string(appendURIEncode(nil, n, true))
		}
	}
	return uri, alt
}

func isUnreservedPath(p string) bool {
	for i := 0; i < len(p); i++ {
		if c := p[i]; !unreserved(c) && c != '/' {
			return false
		}
	}
	return true
}

func isCanonicalPath(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if !isCanonicalEncoded(seg) {
			return false
		}
	}
	return true
}

// normalizePath removes '.' and '..' segments and empty segments (RFC 3986
// 5.2.4, plus the collapsing of '//' AWS requires of non-S3 paths), keeping
// a trailing slash.
func normalizePath(p string) string {
	var out []string
	segs := strings.Split(p, "/")
	for _, s := range segs {
		switch s {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	n := "/" + strings.Join(out, "/")
	if last := segs[len(segs)-1]; (last == "" || last == "." || last == "..") && n != "/" {
		n += "/"
	}
	return n
}

// Signing keys are derived once per (secret, day, region, service) and
// cached. The cache key holds a hash of the secret, never the secret.
type keyID struct {
	secret                [32]byte
	date, region, service string
}

const maxCachedKeys = 4096

var keyCache = struct {
	sync.RWMutex
	m map[keyID][]byte
}{m: make(map[keyID][]byte)}

func signingKey(secret, date, region, service string) []byte {
	id := keyID{secret: sha256.Sum256([]byte(secret)), date: date, region: region, service: service}
	keyCache.RLock()
	k, ok := keyCache.m[id]
	keyCache.RUnlock()
	if ok {
		return k
	}
	k = deriveKey(secret, date, region, service)
	keyCache.Lock()
	if len(keyCache.m) >= maxCachedKeys {
		clear(keyCache.m)
	}
	keyCache.m[id] = k
	keyCache.Unlock()
	return k
}

func deriveKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, terminator)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
