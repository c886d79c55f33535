// Package catalog owns the operation catalog: every service lextrail serves
// declares its operations here once — name, wire binding, IAM action,
// resource ARNs, readOnly, whether it is audited and whether responseElements
// are recorded, and the handler. Dispatch (internal/gateway), authorization
// and audit all read these declarations; nothing repeats them.
//
// catalog holds declarations and the per-call context only; it must not
// know about HTTP encodings (internal/protocol) or storage layouts.
package catalog

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"lextrail/internal/identity"
	"lextrail/internal/store"
)

// Protocol names a wire protocol.
type Protocol string

// The wire protocols lextrail speaks.
const (
	JSON     Protocol = "json"      // awsJson1_1: POST /, X-Amz-Target
	RestJSON Protocol = "rest-json" // URI templates, JSON bodies
	Query    Protocol = "query"     // Action= form posts, XML responses
	RestXML  Protocol = "rest-xml"  // S3
)

// Service is one AWS-compatible API.
type Service struct {
	// Name identifies the service in metrics and logs: "sts", "lex-models".
	Name string
	// SigningName is the SigV4 service name clients put in the credential
	// scope: "sts", "lex", "s3". Several services may share one (Lex models
	// and runtime both sign as "lex"); they are told apart by their routes.
	SigningName string
	// EventSource is CloudTrail's eventSource: "sts.amazonaws.com".
	EventSource string
	Protocol    Protocol
	// TargetPrefix is the X-Amz-Target prefix of JSON services, e.g.
	// "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101".
	TargetPrefix string
	// APIVersion is the query protocol's Version= value.
	APIVersion string
	// XMLNamespace is the xmlns of query protocol responses.
	XMLNamespace string
	// Global services (IAM, STS) are recorded in us-east-1 whatever the
	// region of the request.
	Global bool
	// AccessDeniedCode is the error code this service uses for an
	// authorization failure ("AccessDenied", "AccessDeniedException").
	AccessDeniedCode string
	// AccessDeniedStatus is its HTTP status (default 403).
	AccessDeniedStatus int
	// Ops are the operations, in documentation order.
	Ops []*Operation

	byName map[string]*Operation
}

// Op returns the operation named name, or nil.
func (s *Service) Op(name string) *Operation { return s.byName[name] }

// Operation is one API operation.
type Operation struct {
	Name string
	// HTTP is the rest binding: "GET /bots/{name}/versions/{versionOrAlias}".
	// Query and JSON services leave it empty.
	HTTP string
	// Status is the success status for rest protocols (default 200).
	Status int
	// Action is the IAM action checked before the operation runs,
	// "sts:GetCallerIdentity". Empty means the service's prefix plus Name.
	Action string
	// NoAuthz marks actions every authenticated principal may call
	// (sts:GetCallerIdentity).
	NoAuthz bool
	// Resources returns the resources the call acts on: their ARNs are what
	// authorization checks and what audit records. Nil means "*" in the
	// caller's account and no recorded resources.
	Resources func(c *Call, in any) []Resource
	// ReadOnly operations run in a read transaction and are recorded with
	// readOnly true.
	ReadOnly bool
	// Scan marks ReadOnly operations that read much of the database (log
	// event scans): their transaction is the store's Scan, on SQLite's
	// memory-mapped connections.
	Scan bool
	// Audited operations produce a CloudTrail management event.
	Audited bool
	// DataEvent marks operations recorded as data events (S3 objects, log
	// events) rather than management events.
	DataEvent bool
	// RecordResponse puts the output into the event's responseElements.
	RecordResponse bool
	// NoTx operations manage their own transactions through Call.DB (for
	// streaming bodies that must not hold a write transaction open).
	NoTx bool
	// RawBody operations read Call.Request.Body themselves; the gateway does
	// not buffer or decode a body for them.
	RawBody bool

	newInput func() any
	handle   func(ctx context.Context, c *Call, in any) (any, error)
	svc      *Service
}

// Service returns the service the operation belongs to.
func (o *Operation) Service() *Service { return o.svc }

// NewInput returns a fresh pointer to the operation's input struct.
func (o *Operation) NewInput() any { return o.newInput() }

// InputType returns the input struct type.
func (o *Operation) InputType() reflect.Type { return reflect.TypeOf(o.newInput()).Elem() }

// Invoke runs the handler.
func (o *Operation) Invoke(ctx context.Context, c *Call, in any) (any, error) {
	return o.handle(ctx, c, in)
}

// Define attaches a typed handler to an operation declaration. The input is
// decoded into a fresh *I by the protocol layer; the *O returned is encoded
// for the client.
func Define[I, O any](op Operation, h func(ctx context.Context, c *Call, in *I) (*O, error)) *Operation {
	o := op
	o.newInput = func() any { return new(I) }
	o.handle = func(ctx context.Context, c *Call, in any) (any, error) {
		out, err := h(ctx, c, in.(*I))
		if err != nil {
			return nil, err
		}
		return out, nil
	}
	return &o
}

// NewService validates and indexes a service declaration. It panics on a
// malformed declaration, which is a programming error caught by any test
// that builds the catalog.
func NewService(s *Service) *Service {
	if s.AccessDeniedStatus == 0 {
		s.AccessDeniedStatus = http.StatusForbidden
	}
	if s.AccessDeniedCode == "" {
		s.AccessDeniedCode = "AccessDeniedException"
	}
	s.byName = make(map[string]*Operation, len(s.Ops))
	prefix := s.SigningName
	for _, o := range s.Ops {
		if o.handle == nil {
			panic(fmt.Sprintf("catalog: %s.%s has no handler (use catalog.Define)", s.Name, o.Name))
		}
		if _, dup := s.byName[o.Name]; dup {
			panic(fmt.Sprintf("catalog: %s.%s declared twice", s.Name, o.Name))
		}
		if (s.Protocol == RestJSON || s.Protocol == RestXML) && o.HTTP == "" {
			panic(fmt.Sprintf("catalog: %s.%s lacks an HTTP binding", s.Name, o.Name))
		}
		if o.Action == "" {
			o.Action = prefix + ":" + o.Name
		}
		if o.Status == 0 {
			o.Status = http.StatusOK
		}
		o.svc = s
		s.byName[o.Name] = o
	}
	return s
}

// Resource is a resource an operation acts on.
type Resource struct {
	ARN       string
	AccountID string
	Type      string // "AWS::Lex::Bot"
	// DeniedName is how AccessDenied messages name the resource when the
	// service does not name it by ARN (IAM says "user bob", "role R" for
	// calls on an existing user or role). Default: the ARN.
	DeniedName string
}

// Call is the context of one API call, built by the gateway and handed to
// the operation's handler.
type Call struct {
	RequestID string
	Op        *Operation
	// Region is the region of the request (from the SigV4 credential scope).
	Region    string
	Principal *identity.Principal
	// Now is the request's time from the injected clock.
	Now       time.Time
	SourceIP  string
	UserAgent string
	// Request is the HTTP request; handlers read headers or a raw body.
	Request *http.Request
	// Payload, set by the gateway for RawBody operations, wraps the raw
	// body with the reader that verifies it against the request's SigV4
	// payload declaration (a hex X-Amz-Content-Sha256 is checked at EOF;
	// aws-chunked bodies are decoded with their chunk signatures checked).
	// Its Read fails with a *sigv4.Error; read to io.EOF before trusting.
	Payload func(io.Reader) io.Reader
	// Tx is the call's transaction (nil for NoTx operations).
	Tx *store.Tx
	// DB is the database, for NoTx operations.
	DB *store.DB
	// Header receives extra response headers.
	Header http.Header
	// Status overrides the operation's success status when non-zero.
	Status int
	// Audit lets the handler adjust what the event records.
	Audit AuditNotes
	// ConditionKeys are request-specific IAM condition keys the authorizer
	// adds to the global ones it derives from the call (aws:SourceArn and
	// aws:SourceAccount for service principals, sts:ExternalId,
	// s3:x-amz-acl ...). Keys are matched case-insensitively. An
	// Operation's Resources func may set them, since it runs before
	// authorization.
	ConditionKeys map[string][]string
}

// AuditNotes are handler-provided adjustments to the call's CloudTrail
// record.
type AuditNotes struct {
	// RequestParameters replaces the recorded input when non-nil (to drop
	// secrets or to name members as AWS records them).
	RequestParameters map[string]any
	// ResponseElements replaces the recorded output when non-nil.
	ResponseElements map[string]any
	// Resources replaces Operation.Resources' answer when non-nil (for
	// resources whose ARN is known only after the handler ran).
	Resources []Resource
	// AdditionalEventData is recorded as additionalEventData.
	AdditionalEventData map[string]any
	// Skip suppresses the event (never for a call that changed state).
	Skip bool
}

// AccountID is the account of the caller.
func (c *Call) AccountID() string { return c.Principal.AccountID }

// EventRegion is the region CloudTrail records: us-east-1 for global services.
func (c *Call) EventRegion() string {
	if c.Op != nil && c.Op.svc != nil && c.Op.svc.Global {
		return "us-east-1"
	}
	return c.Region
}

// Catalog is the set of services lextrail serves.
type Catalog struct {
	Services []*Service
	bySig    map[string][]*Service
	byTarget map[string]*Service
}

// New builds a catalog.
func New(services ...*Service) *Catalog {
	c := &Catalog{bySig: map[string][]*Service{}, byTarget: map[string]*Service{}}
	for _, s := range services {
		c.Services = append(c.Services, s)
		c.bySig[s.SigningName] = append(c.bySig[s.SigningName], s)
		if s.TargetPrefix != "" {
			// botocore sends the full prefix
			// (com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101), the
			// Go SDK only its last part (CloudTrail_20131101).
			c.byTarget[s.TargetPrefix] = s
			c.byTarget[s.TargetPrefix[strings.LastIndexByte(s.TargetPrefix, '.')+1:]] = s
		}
	}
	return c
}

// BySigningName returns the services that sign with name.
func (c *Catalog) BySigningName(name string) []*Service { return c.bySig[name] }

// ByTarget returns the JSON service and operation named by an X-Amz-Target
// header value ("Prefix.Operation").
func (c *Catalog) ByTarget(target string) (*Service, string) {
	i := strings.LastIndexByte(target, '.')
	if i < 0 {
		return nil, ""
	}
	return c.byTarget[target[:i]], target[i+1:]
}
