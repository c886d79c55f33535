// Package sigv4 owns server-side verification of AWS Signature Version 4:
// parsing the Authorization header or presigned query into an Auth, the
// clock-skew and expiry checks, recomputing the canonical request and the
// signature from the caller's secret key, decoding aws-chunked bodies with
// per-chunk signatures and trailing checksums, and mapping every failure to
// the error code, message and HTTP status of the AWS service family that
// received the request (JSON, query or S3).
//
// It does not look credentials up: callers take Auth.AccessKeyID (and
// SecurityToken) to their credential store, report failures of that lookup
// with NewError(UnknownKey, ...) and friends, and then call Verify.
//
// The verifier is written in-house rather than wrapping the SDK signer
// because the signer silently drops Authorization, User-Agent,
// X-Amzn-Trace-Id, Expect and Transfer-Encoding from the canonical request,
// whereas a verifier must honour every header the client says it signed.
package sigv4

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	algorithm     = "AWS4-HMAC-SHA256"
	terminator    = "aws4_request"
	amzDateLayout = "20060102T150405Z"
	scopeLayout   = "20060102"

	// MaxSkew is the allowed distance between the request date and now.
	MaxSkew = 15 * time.Minute
	// MaxExpires is the largest X-Amz-Expires (seven days).
	MaxExpires = 604800
	// defaultPresignExpires applies to presigned requests of non-S3
	// services that carry no X-Amz-Expires (AWS then allows 15 minutes).
	defaultPresignExpires = 900

	unsignedPayload           = "UNSIGNED-PAYLOAD"
	streamingSigned           = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer    = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrailer  = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	emptySHA256               = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	credentialFormatS3Message = `expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`
)

// Auth is the parsed SigV4 authentication of one request.
type Auth struct {
	AccessKeyID   string
	Date          time.Time     // from X-Amz-Date (or Date header) / X-Amz-Date query for presigned
	ScopeDate     string        // yyyymmdd from the credential scope
	Region        string        // from the credential scope
	Service       string        // from the credential scope
	SignedHeaders []string      // lower-case, sorted as sent
	Signature     string        // hex
	Presigned     bool          // query-string (presigned URL) authentication
	Expires       time.Duration // presigned only (X-Amz-Expires, 1..604800 s)
	SecurityToken string        // X-Amz-Security-Token header or query
	PayloadHash   string        // X-Amz-Content-Sha256 value verbatim, or "" if absent
	// Trailer is the lower-cased X-Amz-Trailer header (e.g.
	// "x-amz-checksum-crc32"), naming the checksum an aws-chunked body
	// carries in its trailer.
	Trailer string

	amzDate          string // Date in ISO 8601 basic format, as used in the string to sign
	signedHeadersRaw string // SignedHeaders exactly as sent
	sig              [32]byte
}

// scope is the credential scope without the access key.
func (a *Auth) scope() string {
	return a.ScopeDate + "/" + a.Region + "/" + a.Service + "/" + terminator
}

type credential struct {
	akid, date, region, service, term string
}

// parseCredential splits AKID/yyyymmdd/region/service/aws4_request. It
// checks the shape only (five non-empty parts, eight-digit valid date);
// the terminator is checked by the caller for a precise message.
func parseCredential(s string) (credential, bool) {
	var c credential
	var parts [5]string
	n := 0
	for n < 4 {
		i := strings.IndexByte(s, '/')
		if i < 0 {
			return c, false
		}
		parts[n] = s[:i]
		s = s[i+1:]
		n++
	}
	if strings.IndexByte(s, '/') >= 0 {
		return c, false
	}
	parts[4] = s
	for _, p := range parts {
		if p == "" {
			return c, false
		}
	}
	if len(parts[1]) != 8 {
		return c, false
	}
	if _, err := time.Parse(scopeLayout, parts[1]); err != nil {
		return c, false
	}
	return credential{parts[0], parts[1], parts[2], parts[3], parts[4]}, true
}

// Scope extracts only the credential scope's region and service (for
// routing) without validating anything else; ok=false when the request
// carries no parsable SigV4 credential.
func Scope(r *http.Request) (region, service string, ok bool) {
	var cred string
	if h := r.Header.Get("Authorization"); h != "" {
		alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
		if alg != algorithm {
			return "", "", false
		}
		for part := range strings.SplitSeq(rest, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			if k == "Credential" {
				cred = v
				break
			}
		}
	} else {
		cred = r.URL.Query().Get("X-Amz-Credential")
	}
	c, good := parseCredential(cred)
	if !good {
		return "", "", false
	}
	return c.region, c.service, true
}

func malformed(presigned bool, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Kind: Malformed, Message: msg, presigned: presigned}
}

// clip shortens client-supplied text echoed in messages.
func clip(s string) string {
	if len(s) > 128 {
		return s[:128] + "..."
	}
	return s
}

// Parse extracts and syntax-checks the SigV4 data from the Authorization
// header (AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...)
// or from the query (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
// X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature), and checks time:
// request date within 15 minutes of now (either direction) for header auth;
// for presigned, now must be within [date-15min, date+expires]. 'host' must
// be signed; x-amz-date (or date) must be signed when it is the date source
// in header auth. The credential scope date must equal the request date's
// day and the terminator must be aws4_request. All failures are *Error.
func Parse(r *http.Request, now time.Time) (*Auth, error) {
	authz := r.Header.Values("Authorization")
	if len(authz) == 0 {
		if strings.Contains(r.URL.RawQuery, "X-Amz-") {
			q := r.URL.Query()
			if _, ok := q["X-Amz-Algorithm"]; ok {
				return parseQuery(r, q, now)
			}
			if _, ok := q["X-Amz-Credential"]; ok {
				return nil, malformed(true, msgS3QueryParams)
			}
			if _, ok := q["X-Amz-Signature"]; ok {
				return nil, malformed(true, msgS3QueryParams)
			}
		}
		return nil, &Error{Kind: MissingAuth, Message: "request carries no Authorization header and no presigned query"}
	}
	return parseHeader(r, authz, now)
}

func parseHeader(r *http.Request, authz []string, now time.Time) (*Auth, error) {
	if len(authz) > 1 {
		return nil, malformed(false, "Only one Authorization header is allowed.")
	}
	if strings.Contains(r.URL.RawQuery, "X-Amz-Signature=") || strings.Contains(r.URL.RawQuery, "X-Amz-Algorithm=") {
		return nil, malformed(false, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")
	}
	h := strings.TrimSpace(authz[0])
	alg, rest, _ := strings.Cut(h, " ")
	if alg != algorithm {
		return nil, malformed(false, "Unsupported AWS 'algorithm': '%s'.", clip(alg))
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, malformed(false, "Invalid key=value pair (missing equal-sign) in Authorization header: '%s'.", clip(part))
		}
		var dup bool
		switch k {
		case "Credential":
			dup, cred, haveCred = haveCred, v, true
		case "SignedHeaders":
			dup, signed, haveSigned = haveSigned, v, true
		case "Signature":
			dup, sig, haveSig = haveSig, v, true
		default:
			return nil, malformed(false, "Unknown parameter '%s' in Authorization header.", clip(k))
		}
		if dup {
			return nil, malformed(false, "Duplicate parameter '%s' in Authorization header.", k)
		}
	}
	var missing []string
	if !haveCred {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if !haveSig {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if !haveSigned {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	// Date source: X-Amz-Date wins over Date.
	var date time.Time
	dateHeader := ""
	if v := r.Header.Get("X-Amz-Date"); v != "" {
		t, err := time.Parse(amzDateLayout, v)
		if err != nil || len(v) != len(amzDateLayout) {
			return nil, malformed(false, "Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", clip(v))
		}
		date, dateHeader = t, "x-amz-date"
	} else if v := r.Header.Get("Date"); v != "" {
		t, err := http.ParseTime(v)
		if err != nil {
			return nil, malformed(false, "Date must be in RFC 1123 or ISO-8601 'basic format'. Got '%s'.", clip(v))
		}
		date, dateHeader = t.UTC(), "date"
	} else {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) > 0 {
		return nil, malformed(false, "%s", strings.Join(missing, " "))
	}
	a := &Auth{}
	if err := a.fill(false, cred, signed, sig, date); err != nil {
		return nil, err
	}
	if !a.signs(dateHeader) {
		return nil, malformed(false, "'%s' must be a 'SignedHeader' in the AWS Authorization.", http.CanonicalHeaderKey(dateHeader))
	}
	// Clock skew, both directions.
	if d := now.Sub(date); d > MaxSkew {
		return nil, &Error{Kind: RequestExpired, requestTime: a.amzDate, serverTime: now,
			Message: fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)",
				a.amzDate, now.Add(-MaxSkew).UTC().Format(amzDateLayout), now.UTC().Format(amzDateLayout))}
	} else if d < -MaxSkew {
		return nil, &Error{Kind: RequestExpired, requestTime: a.amzDate, serverTime: now,
			Message: fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 15 min.)",
				a.amzDate, now.Add(MaxSkew).UTC().Format(amzDateLayout), now.UTC().Format(amzDateLayout))}
	}
	a.SecurityToken = r.Header.Get("X-Amz-Security-Token")
	if err := a.setPayloadHash(r.Header.Get("X-Amz-Content-Sha256")); err != nil {
		return nil, err
	}
	a.Trailer = strings.ToLower(strings.TrimSpace(r.Header.Get("X-Amz-Trailer")))
	return a, nil
}

func parseQuery(r *http.Request, q map[string][]string, now time.Time) (*Auth, error) {
	get := func(k string) (string, bool, *Error) {
		v, ok := q[k]
		if !ok {
			return "", false, nil
		}
		if len(v) != 1 {
			return "", false, malformed(true, "Query parameter %s must appear only once.", k)
		}
		return v[0], true, nil
	}
	var vals [6]string
	names := [6]string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Expires"}
	var have [6]bool
	for i, k := range names {
		v, ok, err := get(k)
		if err != nil {
			return nil, err
		}
		vals[i], have[i] = v, ok
	}
	if vals[0] != algorithm {
		return nil, malformed(true, "X-Amz-Algorithm only supports \"%s\"", algorithm)
	}
	for i := 1; i < 5; i++ {
		if !have[i] {
			return nil, malformed(true, msgS3QueryParams)
		}
	}
	ds := vals[2]
	date, err := time.Parse(amzDateLayout, ds)
	if err != nil || len(ds) != len(amzDateLayout) {
		return nil, malformed(true, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	a := &Auth{Presigned: true}
	if err := a.fill(true, vals[1], vals[3], vals[4], date); err != nil {
		return nil, err
	}
	var exp int64 = defaultPresignExpires
	if have[5] {
		exp, err = strconv.ParseInt(vals[5], 10, 64)
		switch {
		case err != nil:
			return nil, malformed(true, "X-Amz-Expires should be a number")
		case exp < 0:
			return nil, malformed(true, "X-Amz-Expires must be non-negative")
		case exp == 0:
			return nil, malformed(true, "X-Amz-Expires must be at least 1")
		case exp > MaxExpires:
			return nil, malformed(true, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
		}
	} else if a.Service == "s3" {
		return nil, malformed(true, msgS3QueryParams)
	}
	a.Expires = time.Duration(exp) * time.Second
	if now.Before(date.Add(-MaxSkew)) {
		return nil, &Error{Kind: RequestExpired, presigned: true, requestTime: a.amzDate, serverTime: now,
			Message: fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 15 min.)",
				a.amzDate, now.Add(MaxSkew).UTC().Format(amzDateLayout), now.UTC().Format(amzDateLayout))}
	}
	if end := date.Add(a.Expires); now.After(end) {
		return nil, &Error{Kind: PresignExpired, presigned: true, expires: exp, serverTime: now,
			requestTime: end.UTC().Format(time.RFC3339), Message: "Request has expired."}
	}
	if v, ok, err := get("X-Amz-Security-Token"); err != nil {
		return nil, err
	} else if ok {
		a.SecurityToken = v
	} else {
		a.SecurityToken = r.Header.Get("X-Amz-Security-Token")
	}
	ph := r.Header.Get("X-Amz-Content-Sha256")
	if ph == "" {
		if v, ok, err := get("X-Amz-Content-Sha256"); err != nil {
			return nil, err
		} else if ok {
			ph = v
		}
	}
	if err := a.setPayloadHash(ph); err != nil {
		return nil, err
	}
	a.Trailer = strings.ToLower(strings.TrimSpace(r.Header.Get("X-Amz-Trailer")))
	return a, nil
}

// fill parses the credential, signed headers and signature shared by both
// forms and checks the scope against the request date.
func (a *Auth) fill(presigned bool, cred, signed, sig string, date time.Time) *Error {
	c, ok := parseCredential(cred)
	if !ok {
		if presigned {
			return malformed(true, "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; %s", credentialFormatS3Message)
		}
		return malformed(false, "the Credential is mal-formed; %s", credentialFormatS3Message)
	}
	if c.term != terminator {
		return malformed(presigned, "Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", clip(c.term))
	}
	a.AccessKeyID, a.ScopeDate, a.Region, a.Service = c.akid, c.date, c.region, c.service
	a.Date = date.UTC()
	a.amzDate = a.Date.Format(amzDateLayout)
	if c.date != a.amzDate[:8] {
		return malformed(presigned, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", c.date, a.amzDate[:8], a.amzDate)
	}
	if signed == "" {
		return malformed(presigned, "SignedHeaders must not be empty.")
	}
	a.signedHeadersRaw = signed
	n := strings.Count(signed, ";") + 1
	if n > 256 {
		return malformed(presigned, "Too many SignedHeaders.")
	}
	a.SignedHeaders = make([]string, 0, n)
	for name := range strings.SplitSeq(signed, ";") {
		if !validHeaderName(name) {
			return malformed(presigned, "SignedHeaders contains an invalid header name '%s'; names must be lower-case and non-empty.", clip(name))
		}
		for _, prev := range a.SignedHeaders {
			if prev == name {
				return malformed(presigned, "SignedHeaders lists '%s' twice.", clip(name))
			}
		}
		a.SignedHeaders = append(a.SignedHeaders, name)
	}
	if !a.signs("host") {
		return malformed(presigned, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if len(sig) != 64 {
		return malformed(presigned, "Signature must be 64 hexadecimal characters, got %d.", len(sig))
	}
	if _, err := hex.Decode(a.sig[:], []byte(sig)); err != nil {
		return malformed(presigned, "Signature must be 64 hexadecimal characters.")
	}
	a.Signature = sig
	return nil
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func (a *Auth) signs(name string) bool {
	for _, h := range a.SignedHeaders {
		if h == name {
			return true
		}
	}
	return false
}

func (a *Auth) setPayloadHash(v string) *Error {
	switch v {
	case "", unsignedPayload, streamingSigned, streamingSignedTrailer, streamingUnsignedTrailer:
	default:
		if !isHex64(v) {
			return malformed(a.Presigned, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.")
		}
	}
	a.PayloadHash = v
	return nil
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
