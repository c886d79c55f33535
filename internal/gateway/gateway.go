// Package gateway owns one request's way through lextrail: find the service
// and operation, verify SigV4, resolve the principal, decode the input,
// authorize, run the operation in its transaction with its audit record,
// and encode the answer or the error in the protocol's shape. It reads the
// operation catalog and knows no service by name.
package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"lextrail/internal/accounts"
	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/identity"
	"lextrail/internal/protocol"
	"lextrail/internal/sigv4"
	"lextrail/internal/store"
)

// KeyLookup resolves an access key ID (accounts.Store implements it).
type KeyLookup interface {
	Lookup(ctx context.Context, accessKeyID string) (*accounts.Key, error)
}

// Authorizer decides whether the call's principal may perform action on
// resources; it returns a *awserr.Error (the service's AccessDenied) to
// refuse.
type Authorizer interface {
	Authorize(ctx context.Context, c *catalog.Call, action string, resources []catalog.Resource) error
}

// Auditor records calls as CloudTrail events. For mutating operations
// Success runs inside the call's write transaction; for read-only and NoTx
// operations it runs after the transaction ended, with tx nil: the auditor
// then writes on its own, and must not return before the event is
// durable. Failure records a failed call after its transaction was rolled
// back.
type Auditor interface {
	Success(ctx context.Context, tx *store.Tx, c *catalog.Call, in, out any) error
	Failure(ctx context.Context, c *catalog.Call, in any, err *awserr.Error) error
}

// Config configures a Gateway. Catalog, Codecs, DB, Keys and Authorizer are
// required.
type Config struct {
	Catalog    *catalog.Catalog
	Codecs     map[catalog.Protocol]protocol.Codec
	DB         *store.DB
	Keys       KeyLookup
	Authorizer Authorizer
	// Auditor is optional (nil records nothing).
	Auditor Auditor
	// Metrics is optional.
	Metrics *Metrics
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	// Default none.
	TrustedProxies []netip.Prefix
	// DefaultRegion is used when a request carries no credential scope
	// (only for error responses). Default us-east-1.
	DefaultRegion string
}

// Gateway is the http.Handler for every AWS API.
type Gateway struct {
	cfg Config
	log *slog.Logger
}

// New returns a Gateway.
func New(cfg Config) *Gateway {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.DefaultRegion == "" {
		cfg.DefaultRegion = "us-east-1"
	}
	return &Gateway{cfg: cfg, log: cfg.Logger}
}

// exchange is the state of one request.
type exchange struct {
	w     http.ResponseWriter
	r     *http.Request
	start time.Time
	reqID string
	svc   *catalog.Service
	op    *catalog.Operation
	codec protocol.Codec
	call  *catalog.Call
	in    any
	code  string // error code for metrics, "" on success
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{w: w, r: r, start: time.Now(), reqID: uuid.NewString()}
	defer func() {
		if p := recover(); p != nil {
			g.log.Error("panic serving request", "request_id", x.reqID, "panic", p)
			g.fail(x, awserr.Internal(errors.New("panic")))
		}
		g.observe(x)
	}()
	g.serve(x)
}

func (g *Gateway) serve(x *exchange) {
	r := x.r
	now := g.cfg.Now()
	region, signing, scoped := sigv4.Scope(r)
	if !scoped {
		x.svc, x.codec = g.guessService(r)
		g.fail(x, sigv4.NewError(sigv4.MissingAuth, "").AWS(flavor(x.svc)))
		return
	}
	services := g.cfg.Catalog.BySigningName(signing)
	if len(services) == 0 {
		x.svc, x.codec = g.guessService(r)
		g.fail(x, awserr.New(http.StatusBadRequest, "UnknownServiceException", "lextrail does not serve the %q service.", signing))
		return
	}

	// Route. Query and JSON route on the body, so it is read first for
	// them; rest protocols route on the path and may stream the body.
	var body []byte
	var err error
	if p := services[0].Protocol; p == catalog.Query || p == catalog.JSON {
		x.svc, x.codec = services[0], g.cfg.Codecs[p]
		if body, err = g.readBody(x); err != nil {
			g.fail(x, err)
			return
		}
	}
	var labels protocol.Labels
	var routeErr error
	for _, svc := range services {
		codec := g.cfg.Codecs[svc.Protocol]
		op, l, err := codec.Route(svc, r, body)
		if err == nil {
			x.svc, x.codec, x.op, labels = svc, codec, op, l
			break
		}
		if routeErr == nil {
			routeErr, x.svc, x.codec = err, svc, codec
		}
	}
	if body == nil && (x.op == nil || !x.op.RawBody) {
		if body, err = g.readBody(x); err != nil {
			g.fail(x, err)
			return
		}
	}

	// Authenticate before saying anything about the operation, so an
	// unsigned or forged request learns nothing but its auth failure.
	auth, err := sigv4.Parse(r, now)
	if err != nil {
		g.fail(x, asAuthError(err, x.svc))
		return
	}
	principal, secret, err := g.authenticate(r.Context(), auth, r, body, now)
	if err != nil {
		g.fail(x, asAuthError(err, x.svc))
		return
	}
	if x.op == nil {
		g.fail(x, routeErr)
		return
	}
	x.call = &catalog.Call{
		RequestID: x.reqID, Op: x.op, Region: region, Principal: principal, Now: now,
		SourceIP: g.sourceIP(r), UserAgent: truncate(r.UserAgent(), 1024), Request: r,
		DB: g.cfg.DB, Header: http.Header{},
	}
	if x.call.Region == "" {
		x.call.Region = g.cfg.DefaultRegion
	}
	if x.op.RawBody {
		x.call.Payload = func(body io.Reader) io.Reader { return payloadReader(auth, secret, body) }
	}

	// Decode, authorize, run.
	x.in = x.op.NewInput()
	if err := x.codec.Decode(x.op, r, labels, body, x.in); err != nil {
		g.failCall(x, err)
		return
	}
	var resources []catalog.Resource
	if x.op.Resources != nil {
		resources = x.op.Resources(x.call, x.in)
		// The record names the same resources (unless the handler sets
		// its own): asking again would repeat the lookups some Resources
		// funcs make (IAM reads the user's path), in the writer's turn.
		x.call.Audit.Resources = resources
	}
	if err := g.cfg.Authorizer.Authorize(r.Context(), x.call, x.op.Action, resources); err != nil {
		g.failCall(x, err)
		return
	}
	out, err := g.run(r.Context(), x)
	if err != nil {
		g.failCall(x, err)
		return
	}
	if err := x.codec.Encode(x.w, x.call, out); err != nil {
		// The response may be partly written; all that is left is to log.
		g.log.Warn("encoding response", "request_id", x.reqID, "op", x.op.Name, "err", err)
	}
}

// run executes the operation in its transaction, with its audit record.
func (g *Gateway) run(ctx context.Context, x *exchange) (any, error) {
	c := x.call
	var out any
	body := func(tx *store.Tx) error {
		c.Tx = tx
		var err error
		out, err = x.op.Invoke(ctx, c, x.in)
		if err != nil {
			return err
		}
		if g.cfg.Auditor != nil && x.op.Audited && !c.Audit.Skip && tx != nil && !tx.ReadOnly() {
			if err := g.cfg.Auditor.Success(ctx, tx, c, x.in, out); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	switch {
	case x.op.NoTx:
		err = body(nil)
	case x.op.ReadOnly && x.op.Scan:
		err = g.cfg.DB.Scan(ctx, body)
	case x.op.ReadOnly:
		err = g.cfg.DB.Read(ctx, body)
	default:
		err = g.cfg.DB.Write(ctx, body)
	}
	c.Tx = nil
	// Read-only and NoTx calls are recorded after their transaction ended,
	// so that waiting for the event to be durable holds no connection (on
	// PostgreSQL the read and write pools are one).
	if err == nil && g.cfg.Auditor != nil && x.op.Audited && !c.Audit.Skip && (x.op.NoTx || x.op.ReadOnly) {
		err = g.cfg.Auditor.Success(ctx, nil, c, x.in, out)
	}
	return out, err
}

// authenticate resolves the key and verifies the signature.
func (g *Gateway) authenticate(ctx context.Context, a *sigv4.Auth, r *http.Request, body []byte, now time.Time) (*identity.Principal, string, error) {
	key, err := g.cfg.Keys.Lookup(ctx, a.AccessKeyID)
	if errors.Is(err, accounts.ErrUnknownKey) {
		return nil, "", sigv4.NewError(sigv4.UnknownKey, "")
	}
	if err != nil {
		return nil, "", err
	}
	if key.Status != "Active" {
		return nil, "", sigv4.NewError(sigv4.InactiveKey, "")
	}
	if key.SessionToken != "" || a.SecurityToken != "" {
		if key.SessionToken == "" || a.SecurityToken != key.SessionToken {
			return nil, "", sigv4.NewError(sigv4.InvalidToken, "")
		}
		if !key.Expiration.IsZero() && !now.Before(key.Expiration) {
			return nil, "", sigv4.NewError(sigv4.ExpiredToken, "")
		}
	}
	if err := a.Verify(r, key.Secret, body); err != nil {
		return nil, "", err
	}
	p := *key.Principal
	p.AccessKeyID = a.AccessKeyID
	return &p, key.Secret, nil
}

// payloadReader wraps a RawBody operation's body with what verifies it
// (Verify saw no body for them): aws-chunked bodies are decoded with their
// signatures checked; a hex X-Amz-Content-Sha256 is compared with the
// streamed body's hash at EOF (ContentHashMismatch, S3's
// XAmzContentSHA256Mismatch); UNSIGNED-PAYLOAD passes through.
func payloadReader(a *sigv4.Auth, secret string, body io.Reader) io.Reader {
	ph := a.PayloadHash
	switch {
	case strings.HasPrefix(ph, "STREAMING-"):
		return a.ChunkedReader(body, secret)
	case len(ph) == 64:
		if want, err := hex.DecodeString(ph); err == nil {
			return &hashReader{r: body, h: sha256.New(), want: want}
		}
	}
	return body
}

type hashReader struct {
	r    io.Reader
	h    hash.Hash
	want []byte
}

func (h *hashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	if err == io.EOF && !bytes.Equal(h.h.Sum(nil), h.want) {
		return n, sigv4.NewError(sigv4.ContentHashMismatch, "")
	}
	return n, err
}

// readBody buffers the request body up to protocol.MaxBodyBytes.
func (g *Gateway) readBody(x *exchange) ([]byte, error) {
	if x.r.ContentLength > protocol.MaxBodyBytes {
		return nil, protocol.TooLarge(x.svc)
	}
	var b []byte
	var err error
	if n := x.r.ContentLength; n > 0 {
		// The length is known (net/http never yields more): one
		// allocation of that size instead of io.ReadAll's doublings and
		// copies, most of the cost of reading a large body.
		b = make([]byte, n)
		_, err = io.ReadFull(x.r.Body, b)
	} else {
		b, err = io.ReadAll(io.LimitReader(x.r.Body, protocol.MaxBodyBytes+1))
	}
	if err != nil {
		return nil, awserr.New(http.StatusBadRequest, "IncompleteBody", "The request body could not be read: %v", err)
	}
	if len(b) > protocol.MaxBodyBytes {
		return nil, protocol.TooLarge(x.svc)
	}
	return b, nil
}

// fail writes an error for a request that never became a call (no
// principal yet): nothing is audited.
func (g *Gateway) fail(x *exchange, err error) {
	e := awserr.As(err)
	if e.Status >= 500 {
		g.log.Error("request failed", "request_id", x.reqID, "code", e.Code, "err", e)
	}
	x.code = e.Code
	if x.codec == nil {
		x.svc, x.codec = g.guessService(x.r)
	}
	x.codec.EncodeError(x.w, x.svc, x.reqID, e)
}

// failCall writes the error of an authenticated call and audits it.
func (g *Gateway) failCall(x *exchange, err error) {
	e := awserr.As(err)
	if g.cfg.Auditor != nil && x.op.Audited {
		if aerr := g.cfg.Auditor.Failure(x.r.Context(), x.call, x.in, e); aerr != nil {
			g.log.Error("auditing a failed call", "request_id", x.reqID, "err", aerr)
			e = awserr.Internal(aerr)
		}
	}
	g.fail(x, e)
}

// guessService picks a service (for its error shape) for a request that
// names none: by X-Amz-Target, by Action=, else by path.
func (g *Gateway) guessService(r *http.Request) (*catalog.Service, protocol.Codec) {
	var want catalog.Protocol
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		if svc, _ := g.cfg.Catalog.ByTarget(r.Header.Get("X-Amz-Target")); svc != nil {
			return svc, g.cfg.Codecs[svc.Protocol]
		}
		want = catalog.JSON
	case r.URL.Query().Get("Action") != "" || strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		want = catalog.Query
	case strings.HasPrefix(r.URL.Path, "/bot"), strings.HasPrefix(r.URL.Path, "/intents"), strings.HasPrefix(r.URL.Path, "/slottypes"):
		want = catalog.RestJSON
	default:
		want = catalog.RestXML
	}
	for _, svc := range g.cfg.Catalog.Services {
		if svc.Protocol == want {
			return svc, g.cfg.Codecs[want]
		}
	}
	for _, p := range []catalog.Protocol{want, catalog.Query, catalog.JSON, catalog.RestJSON, catalog.RestXML} {
		if c := g.cfg.Codecs[p]; c != nil {
			return &catalog.Service{Name: "unknown", Protocol: p}, c
		}
	}
	panic("gateway: no codecs configured")
}

// sourceIP is the peer address, or the client X-Forwarded-For names when
// the peer is a trusted proxy.
func (g *Gateway) sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if len(g.cfg.TrustedProxies) == 0 {
		return host
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !trusted(g.cfg.TrustedProxies, peer.Unmap()) {
		return host
	}
	// Walk X-Forwarded-For from the right, skipping trusted proxies.
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		a, err := netip.ParseAddr(h)
		if err != nil {
			break
		}
		if !trusted(g.cfg.TrustedProxies, a.Unmap()) {
			return a.Unmap().String()
		}
		host = a.Unmap().String()
	}
	return host
}

func trusted(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func flavor(svc *catalog.Service) sigv4.Flavor {
	if svc == nil {
		return sigv4.FlavorJSON
	}
	switch svc.Protocol {
	case catalog.Query:
		return sigv4.FlavorQuery
	case catalog.RestXML:
		return sigv4.FlavorS3
	default:
		return sigv4.FlavorJSON
	}
}

// asAuthError maps a SigV4 failure to the service's error.
func asAuthError(err error, svc *catalog.Service) error {
	var se *sigv4.Error
	if errors.As(err, &se) {
		return se.AWS(flavor(svc))
	}
	return err
}

// truncate cuts s to at most n bytes at a character boundary (CloudTrail
// keeps userAgent, errorCode and errorMessage to 1 KB).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// observe records metrics for the exchange.
func (g *Gateway) observe(x *exchange) {
	if g.cfg.Metrics == nil {
		return
	}
	svc, op := "unknown", "unknown"
	if x.svc != nil {
		svc = x.svc.Name
	}
	if x.op != nil {
		op = x.op.Name
	}
	g.cfg.Metrics.observe(svc, op, x.code, time.Since(x.start))
}
