// Package convlogs implements Lex V1 conversation logs
// (shared/spec/lex-v1.md §3–§4): the validation of PutBotAlias's
// conversationLogs (Validator, called by lexmodels), the text-log document
// of a turn (§4.1) and its slot obfuscation as the dialog engine masked it
// (§4.3), the audio-log object (§4.2), and their delivery.
//
// Delivery never slows or breaks a conversation. The runtime calls
// PrepareTurn (a lexruntime.TurnRecorder) on the request's goroutine; the
// write it returns inserts the turn's text document and audio into the
// convlogs_queue table inside the transaction that commits the turn, so a
// turn the client saw acknowledged is never lost, and a turn that failed
// or lost its session's race is never logged. The Worker (one per lextrail
// process; several processes sharing a database coordinate through leases
// on the queue rows) delivers in batches as the Lex service would: it
// assumes the alias's IAM role as lex.amazonaws.com (sts
// AssumeRoleAsService: the trust policy must allow it) and writes with
// that session's permissions — text documents with logs.Append into a log
// stream named after the alias's resourcePrefix (the events and the
// removal of their queue rows commit in one transaction: exactly once),
// audio objects with s3.PutAs under the prefix (a deterministic key, so a
// retry after a crash rewrites the same object). A destination that
// refuses (role policy removed, log group deleted, bucket policy, KMS key
// disabled) is retried with exponential backoff; its failures are counted
// in /metrics (lextrail_convlogs_*), logged, and shown by Status; nothing
// is dropped until it is older than Config.MaxAge.
//
// It owns the convlogs_* tables (migrations 1000–1099) and reads other
// services only through their Go APIs (Deps).
package convlogs

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"lextrail/internal/catalog"
	"lextrail/internal/identity"
	"lextrail/internal/objstore"
	"lextrail/internal/services/iam"
	"lextrail/internal/services/kms"
	"lextrail/internal/services/logs"
	"lextrail/internal/services/s3"
	"lextrail/internal/services/sts"
	"lextrail/internal/store"
)

// Config configures the service. DB is required; the zero value of every
// other field is its documented default.
type Config struct {
	DB *store.DB
	// Now is the clock (queue times, backoff, leases). Default time.Now.
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// PollInterval is how often the worker looks for work other processes
	// queued (this process's turns wake it at once). Default 1s.
	PollInterval time.Duration
	// BatchDelay is the least time between two delivery passes, so that
	// busy aliases are delivered in batches (a pass's costs — the due
	// read, the log group and stream lookups, the status row, the commit —
	// are shared by its documents). Default 200ms.
	BatchDelay time.Duration
	// TextBatch bounds the text documents one delivering transaction
	// appends (it holds the database's writer on SQLite: the shorter, the
	// less a turn may wait for it), AudioBatch the audio objects one pass
	// claims. Defaults 500 and 8.
	TextBatch, AudioBatch int
	// Lease is how long a worker owns the rows it claimed before another
	// process may take them over. Default 1 minute.
	Lease time.Duration
	// RetryMin and RetryMax bound the exponential backoff after a failed
	// delivery to a destination. Defaults 1s and 5 minutes.
	RetryMin, RetryMax time.Duration
	// MaxAge is how long an undeliverable entry is kept before it is
	// dropped (counted and logged). Default 14 days (CloudWatch Logs
	// refuses older events).
	MaxAge time.Duration
	// SessionName is the role session name the Lex service uses.
	// Default "lex-conversation-logs".
	SessionName string
}

// Deps are the services conversation logs use, through their Go APIs.
// The server binds them once they are built (Bind).
type Deps struct {
	// Roles looks roles up (iam.Service).
	Roles Roles
	// Authorizer decides trust policies and iam:PassRole (authz.Authorizer).
	Authorizer Authorizer
	// Sessions assumes roles as the Lex service (sts.Service).
	Sessions Sessions
	// Logs holds the text logs (logs.Service).
	Logs LogGroups
	// Buckets holds the audio logs (s3.Service).
	Buckets Buckets
	// Keys resolves KMS keys (kms.Service).
	Keys Keys
}

// Roles looks IAM roles up.
type Roles interface {
	RoleByARN(ctx context.Context, tx *store.Tx, arn string) (*iam.RoleInfo, error)
}

// Authorizer decides a call's permission (Check) and whether its caller
// may pass a role to a service (PassRole).
type Authorizer interface {
	Check(ctx context.Context, c *catalog.Call, action string, resources []catalog.Resource, extra map[string][]string) error
	PassRole(ctx context.Context, c *catalog.Call, roleARN, toService string) error
}

// Sessions issues role sessions to AWS services.
type Sessions interface {
	AssumeRoleAsService(ctx context.Context, in sts.ServiceAssumeInput) (*identity.Principal, error)
}

// LogGroups is CloudWatch Logs' Go API.
type LogGroups interface {
	GroupExists(ctx context.Context, tx *store.Tx, accountID, region, name string) (bool, error)
	Append(ctx context.Context, in logs.AppendInput) (*logs.AppendOutput, error)
}

// Buckets is S3's Go API.
type Buckets interface {
	Bucket(ctx context.Context, name string) (s3.BucketInfo, error)
	PutAs(ctx context.Context, in s3.PutAsInput) (objstore.Info, error)
}

// Keys is KMS's Go API.
type Keys interface {
	ResolveKey(ctx context.Context, accountID, region, keyID string) (kms.KeyInfo, error)
}

// LexService is the service principal conversation logs act as.
const LexService = "lex.amazonaws.com"

// Service is conversation logs.
type Service struct {
	cfg  Config
	log  *slog.Logger
	deps Deps
	wake chan struct{}
	m    *metrics

	// parsed caches settings by their JSON (a session carries the
	// settings it started with, so few distinct values are live), dests
	// the destinations derived from them per alias version.
	mu     sync.Mutex
	parsed map[string]*settings
	dests  map[aliasKey]*aliasDests
	// known are the group keys this process knows to be in
	// convlogs_dests.
	known sync.Map
	// fresh are text rows this process queued and committed, kept (up to
	// maxFresh documents) so that the worker delivers them without reading
	// their bodies back (Worker.deliverFresh).
	freshMu   sync.Mutex
	fresh     []freshRow
	freshDocs int
	// freshOverflow: rows were not kept (memory was full); the worker
	// reads the queue for them.
	freshOverflow atomic.Bool

	sessions *sessionCache
}

// New returns the service.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.BatchDelay <= 0 {
		cfg.BatchDelay = 200 * time.Millisecond
	}
	if cfg.TextBatch <= 0 {
		cfg.TextBatch = 500
	}
	if cfg.AudioBatch <= 0 {
		cfg.AudioBatch = 8
	}
	if cfg.Lease <= 0 {
		cfg.Lease = time.Minute
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = time.Second
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 5 * time.Minute
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 14 * 24 * time.Hour
	}
	if cfg.SessionName == "" {
		cfg.SessionName = "lex-conversation-logs"
	}
	s := &Service{cfg: cfg, log: cfg.Logger, wake: make(chan struct{}, 1), m: newMetrics(),
		parsed: map[string]*settings{}, dests: map[aliasKey]*aliasDests{}}
	s.sessions = newSessionCache(s)
	return s, nil
}

// Bind sets the services conversation logs use; call it before the
// server serves.
func (s *Service) Bind(d Deps) { s.deps = d }

// Collectors are the service's Prometheus metrics (register them with the
// server's registry).
func (s *Service) Collectors() []prometheus.Collector { return s.m.collectors() }

// Wake makes the worker look at the queue now.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// settingsOf parses (and caches) a session's conversation-log settings.
func (s *Service) settingsOf(raw json.RawMessage) (*settings, error) {
	s.mu.Lock()
	st, ok := s.parsed[string(raw)] // no allocation for the lookup
	s.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := parseSettings(raw)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.parsed) > 10_000 {
		s.parsed = map[string]*settings{}
	}
	s.parsed[string(raw)] = st
	s.mu.Unlock()
	return st, nil
}
