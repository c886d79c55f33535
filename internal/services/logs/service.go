// Package logs serves a CloudWatch Logs-compatible API (JSON 1.1, target
// prefix Logs_20140328, signing name "logs", regional): log groups with
// retention, KMS encryption at rest and tags; log streams; PutLogEvents,
// GetLogEvents and FilterLogEvents with filter patterns
// (internal/logs/filter); and Logs Insights queries (internal/logs/insights)
// run in the background. It also offers the Go API lextrail's own writers
// use (Append, SplitBatches): Lex conversation logs write turns into log
// groups through it, acting as the Lex service with an assumed role.
//
// Management calls are audited CloudTrail management events; PutLogEvents,
// GetLogEvents, FilterLogEvents and GetQueryResults are data events and
// are not recorded in event history (CloudWatch Logs' CloudTrail
// integration lists only the management actions).
//
// Storage: it owns the logs_* tables. Events are stored in blocks (one per
// accepted batch) indexed by (group, min timestamp) and (stream, min
// timestamp), each with a trigram Bloom filter for pattern searches; see
// block.go and DECISIONS.md. Deleted groups and streams are purged in the
// background, as are events past their group's retention.
package logs

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/catalog"
	"lextrail/internal/store"
)

// TargetPrefix is the X-Amz-Target prefix of CloudWatch Logs.
const TargetPrefix = "Logs_20140328"

// EventSource is CloudTrail's eventSource for the service.
const EventSource = "logs.amazonaws.com"

// Config configures the service. The zero value of each optional field is
// its documented default.
type Config struct {
	// DB is the database. Required.
	DB *store.DB
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Keys wraps data keys with KMS. Nil: AssociateKmsKey and kmsKeyId are
	// refused with InvalidParameterException.
	Keys Keys
	// Authorizer checks the Go API's callers (Append). Nil: Append only
	// accepts a nil principal (lextrail itself).
	Authorizer Authorizer
	// Auditor records management events made through the Go API (a
	// CreateLogStream by the Lex service). Optional.
	Auditor Auditor
	// PurgeInterval is how often the background worker enforces retention
	// and deletes the blocks of deleted streams. Default 1 minute.
	PurgeInterval time.Duration
	// PurgeBatch bounds the blocks deleted per purge transaction.
	// Default 500.
	PurgeBatch int
	// QueryWorkers is how many Insights queries this node runs at once.
	// Default 2.
	QueryWorkers int
	// MaxQueriesPerAccount bounds an account's scheduled and running
	// queries per region (AWS: 30). Default 30.
	MaxQueriesPerAccount int
	// QueryTimeout ends a query that runs longer (status Timeout; AWS: 60
	// minutes). Default 60 minutes.
	QueryTimeout time.Duration
	// QueryRetention is how long finished queries and their results are
	// kept (AWS: 7 days). Default 7 days.
	QueryRetention time.Duration
	// KeyCacheTTL bounds how long an unwrapped data key is reused before
	// KMS is asked again (so a disabled key takes effect). Default 5
	// minutes.
	KeyCacheTTL time.Duration
	// FilterScanLimit bounds the events one FilterLogEvents call examines;
	// past it the call returns what it found with a nextToken (AWS also
	// returns partial, even empty, pages). Default 10,000,000.
	FilterScanLimit int
	// Node names this process for query leases. Default a random name.
	Node string
}

// Service is the CloudWatch Logs service.
type Service struct {
	cfg     Config
	db      *store.DB
	log     *slog.Logger
	keys    keyCache
	q       *queryRunner
	cat     *catalog.Service
	purgeCh chan struct{}
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PurgeInterval <= 0 {
		cfg.PurgeInterval = time.Minute
	}
	if cfg.PurgeBatch <= 0 {
		cfg.PurgeBatch = 500
	}
	if cfg.QueryWorkers <= 0 {
		cfg.QueryWorkers = 2
	}
	if cfg.MaxQueriesPerAccount <= 0 {
		cfg.MaxQueriesPerAccount = 30
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = 60 * time.Minute
	}
	if cfg.QueryRetention <= 0 {
		cfg.QueryRetention = 7 * 24 * time.Hour
	}
	if cfg.KeyCacheTTL <= 0 {
		cfg.KeyCacheTTL = 5 * time.Minute
	}
	if cfg.FilterScanLimit <= 0 {
		cfg.FilterScanLimit = 10_000_000
	}
	if cfg.Node == "" {
		cfg.Node = fmt.Sprintf("node-%x", randomID())
	}
	s := &Service{cfg: cfg, db: cfg.DB, log: cfg.Logger, purgeCh: make(chan struct{}, 1)}
	s.q = newQueryRunner(s)
	s.cat = s.declare()
	return s
}

// Catalog returns the service's operations.
func (s *Service) Catalog() *catalog.Service { return s.cat }

func (s *Service) declare() *catalog.Service {
	mgmt := func(name string, res func(*catalog.Call, any) []catalog.Resource) catalog.Operation {
		return catalog.Operation{Name: name, Audited: true, Resources: res}
	}
	read := func(name string, res func(*catalog.Call, any) []catalog.Resource) catalog.Operation {
		return catalog.Operation{Name: name, Audited: true, ReadOnly: true, Resources: res}
	}
	ops := []*catalog.Operation{
		catalog.Define(mgmt("CreateLogGroup", groupRes), s.createLogGroup),
		catalog.Define(mgmt("DeleteLogGroup", groupRes), s.deleteLogGroup),
		catalog.Define(read("DescribeLogGroups", nil), s.describeLogGroups),
		catalog.Define(mgmt("PutRetentionPolicy", groupRes), s.putRetentionPolicy),
		catalog.Define(mgmt("DeleteRetentionPolicy", groupRes), s.deleteRetentionPolicy),
		catalog.Define(mgmt("CreateLogStream", streamRes), s.createLogStream),
		catalog.Define(mgmt("DeleteLogStream", streamRes), s.deleteLogStream),
		catalog.Define(read("DescribeLogStreams", groupRes), s.describeLogStreams),
		catalog.Define(catalog.Operation{Name: "PutLogEvents", DataEvent: true, Resources: streamRes}, s.putLogEvents),
		catalog.Define(catalog.Operation{Name: "GetLogEvents", DataEvent: true, ReadOnly: true, Scan: true, Resources: streamRes}, s.getLogEvents),
		catalog.Define(catalog.Operation{Name: "FilterLogEvents", DataEvent: true, ReadOnly: true, Scan: true, Resources: groupRes}, s.filterLogEvents),
		catalog.Define(mgmt("AssociateKmsKey", groupRes), s.associateKmsKey),
		catalog.Define(mgmt("DisassociateKmsKey", groupRes), s.disassociateKmsKey),
		catalog.Define(mgmt("TagLogGroup", groupRes), s.tagLogGroup),
		catalog.Define(mgmt("UntagLogGroup", groupRes), s.untagLogGroup),
		catalog.Define(read("ListTagsLogGroup", groupRes), s.listTagsLogGroup),
		catalog.Define(mgmt("TagResource", tagRes), s.tagResource),
		catalog.Define(mgmt("UntagResource", tagRes), s.untagResource),
		catalog.Define(read("ListTagsForResource", tagRes), s.listTagsForResource),
		catalog.Define(catalog.Operation{Name: "StartQuery", Audited: true, ReadOnly: true, NoTx: true, RecordResponse: true, Resources: queryRes}, s.startQuery),
		catalog.Define(catalog.Operation{Name: "GetQueryResults", DataEvent: true, ReadOnly: true}, s.getQueryResults),
		catalog.Define(mgmt("StopQuery", nil), s.stopQuery),
	}
	return catalog.NewService(&catalog.Service{
		Name:             "logs",
		SigningName:      "logs",
		EventSource:      EventSource,
		Protocol:         catalog.JSON,
		TargetPrefix:     TargetPrefix,
		AccessDeniedCode: "AccessDeniedException",
		Ops:              ops,
	})
}

// ---- errors ----

func invalidParam(format string, args ...any) *awserr.Error {
	return awserr.New(http.StatusBadRequest, "InvalidParameterException", format, args...)
}

func errGroupNotFound() *awserr.Error {
	return awserr.New(http.StatusBadRequest, "ResourceNotFoundException", "The specified log group does not exist.")
}

func errStreamNotFound() *awserr.Error {
	return awserr.New(http.StatusBadRequest, "ResourceNotFoundException", "The specified log stream does not exist.")
}

func errInvalidToken() *awserr.Error {
	return invalidParam("The specified nextToken is invalid.")
}

// ---- ARNs and resources ----

// GroupARN is a log group's ARN without the trailing ":*"
// (DescribeLogGroups' logGroupArn; tagging APIs' resourceArn).
func GroupARN(region, accountID, name string) string {
	return "arn:aws:logs:" + region + ":" + accountID + ":log-group:" + name
}

func groupARN(region, accountID, name string) string { return GroupARN(region, accountID, name) }

// StreamARN is a log stream's ARN.
func StreamARN(region, accountID, group, stream string) string {
	return GroupARN(region, accountID, group) + ":log-stream:" + stream
}

type hasGroup interface{ groupIdent() string }
type hasStream interface{ streamName() string }

// groupRes is the resource of group-level actions: the group ARN with
// ":*", the form IAM policies name ("log-group:NAME:*").
func groupRes(c *catalog.Call, in any) []catalog.Resource {
	g, ok := in.(hasGroup)
	if !ok {
		return nil
	}
	acct, name := resolveIdent(c, g.groupIdent())
	if name == "" {
		return nil
	}
	return []catalog.Resource{{ARN: GroupARN(c.Region, acct, name) + ":*", AccountID: acct, Type: "AWS::Logs::LogGroup"}}
}

func streamRes(c *catalog.Call, in any) []catalog.Resource {
	g, ok1 := in.(hasGroup)
	st, ok2 := in.(hasStream)
	if !ok1 || !ok2 {
		return nil
	}
	acct, name := resolveIdent(c, g.groupIdent())
	if name == "" {
		return nil
	}
	return []catalog.Resource{{ARN: StreamARN(c.Region, acct, name, st.streamName()), AccountID: acct, Type: "AWS::Logs::LogStream"}}
}

// tagRes is the resourceArn of TagResource and friends, as given.
func tagRes(c *catalog.Call, in any) []catalog.Resource {
	t, ok := in.(interface{ resourceARN() string })
	if !ok || t.resourceARN() == "" {
		return nil
	}
	arn := t.resourceARN()
	acct := ""
	if p := strings.SplitN(arn, ":", 6); len(p) == 6 {
		acct = p[4]
	}
	return []catalog.Resource{{ARN: arn, AccountID: acct, Type: "AWS::Logs::LogGroup"}}
}

// resolveIdent turns a logGroupName or logGroupIdentifier (a name or a log
// group ARN, with or without ":*") into account and name.
func resolveIdent(c *catalog.Call, ident string) (account, name string) {
	if !strings.HasPrefix(ident, "arn:") {
		return c.AccountID(), ident
	}
	p := strings.SplitN(ident, ":", 7)
	if len(p) < 7 || p[2] != "logs" || p[5] != "log-group" {
		return c.AccountID(), ""
	}
	return p[4], strings.TrimSuffix(p[6], ":*")
}

// randomID returns a random positive int64 (row ids chosen by the
// application, as the store requires).
func randomID() int64 {
	var b [8]byte
	rand.Read(b[:])
	return int64(binary.BigEndian.Uint64(b[:]) >> 1)
}
