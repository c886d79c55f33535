// Package server assembles a running lextrail: it opens the database and
// the master key, makes sure the default account exists, builds the
// operation catalog from every service, and serves the AWS APIs and the
// operations endpoints (/healthz, /readyz, /metrics) on one listener, with
// graceful shutdown of requests and background workers.
package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"lextrail/internal/accounts"
	"lextrail/internal/audit"
	"lextrail/internal/authz"
	"lextrail/internal/catalog"
	"lextrail/internal/convlogs"
	"lextrail/internal/gateway"
	"lextrail/internal/objstore"
	"lextrail/internal/objstore/localdir"
	"lextrail/internal/protocol"
	"lextrail/internal/protocol/awsjson"
	"lextrail/internal/protocol/query"
	"lextrail/internal/protocol/restjson"
	"lextrail/internal/protocol/restxml"
	"lextrail/internal/secrets"
	"lextrail/internal/services/cloudtrail"
	"lextrail/internal/services/iam"
	"lextrail/internal/services/kms"
	"lextrail/internal/services/lexmodels"
	"lextrail/internal/services/lexruntime"
	logssvc "lextrail/internal/services/logs"
	s3svc "lextrail/internal/services/s3"
	"lextrail/internal/services/sns"
	"lextrail/internal/services/sts"
	"lextrail/internal/speech"
	"lextrail/internal/speech/lexvoice"
	"lextrail/internal/store"
	"lextrail/internal/trail"
	"lextrail/internal/trail/delivery"
	"lextrail/internal/trail/digest"
)

// Config configures a Server. The zero value of each field is its
// documented default.
type Config struct {
	// DataDir holds the SQLite database, the master key and local objects.
	// Default "./lextrail-data".
	DataDir string
	// DatabaseURL selects the database: "postgres://..." for PostgreSQL;
	// default SQLite at DataDir/lextrail.db.
	DatabaseURL string
	// MasterKey is base64 of 32 bytes (LEXTRAIL_MASTER_KEY); default: the
	// key file DataDir/master.key, created with mode 0600 on first start.
	// Nodes sharing one PostgreSQL database must share the master key.
	MasterKey string
	// Bootstrap is the default account created on first start.
	Bootstrap accounts.Bootstrap
	// TrustedProxies are peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// TLS, when set, makes Serve speak HTTPS on its listener (lextrail
	// serve --tls-cert/--tls-key); audit records then carry tlsDetails.
	// Default nil: plain HTTP.
	TLS *tls.Config
	// ShutdownTimeout bounds the wait for in-flight requests and workers on
	// shutdown. Default 30s.
	ShutdownTimeout time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// CredentialsOut receives the once-only printout of generated root
	// credentials. Default os.Stderr.
	CredentialsOut io.Writer
	// KeyCacheTTL is accounts.Config.CacheTTL.
	KeyCacheTTL time.Duration
	// EventRetention is how long event history is kept before the
	// background purge deletes it. Default 90 days.
	EventRetention time.Duration
	// LexUtteranceFlush, when positive, keeps the Lex runtime's utterance
	// statistics in memory and writes them every LexUtteranceFlush
	// (lexmodels.UtteranceStats: less CPU per turn, but a process killed
	// without its shutdown loses the last interval's counts, and on a busy
	// runtime the flushes raise the turns' latency tail). Default 0: each
	// turn's statistic is written in its own transaction.
	LexUtteranceFlush time.Duration
	// LookupEventsRate limits CloudTrail LookupEvents per account and
	// region (requests per second; AWS allows 2). Default 0: unlimited.
	LookupEventsRate float64
	// ObjectStore holds S3 objects; default a localdir store at
	// DataDir/objects (multipart parts are staged in DataDir/parts).
	ObjectStore objstore.Store
	// Logs holds the CloudWatch Logs service's options (its DB, clock,
	// logger, authorizer and auditor are the server's).
	Logs logssvc.Config
	// Speech holds PostContent audio's options (tool PATH, model
	// directory, concurrency, queue, timeout, audio limits); CacheDir
	// defaults to DataDir/speech and Logger to the server's.
	Speech speech.Config
	// DeliveryInterval is the trail delivery window. Default 5 minutes;
	// at least 1 second.
	DeliveryInterval time.Duration
	// DigestInterval is the trail digest period. Default 1 hour.
	DigestInterval time.Duration
	// DigestKeyRotation is how often each region's digest signing key is
	// replaced (keys stay valid 1.5 times as long). Default 20 days.
	DigestKeyRotation time.Duration
	// TrailRegions are the regions multi-region trails have digests for
	// without log files. Default digest.DefaultRegions.
	TrailRegions []string
	// TrailHooks are for tests.
	TrailHooks TrailHooks
	// PublicURL is the base URL SNS subscribers reach lextrail at
	// (SigningCertURL, SubscribeURL, UnsubscribeURL); default: the scheme
	// and host of the Subscribe request.
	PublicURL string
	// SNSHTTPClient posts SNS deliveries; default: 15 s timeout, no
	// redirects followed.
	SNSHTTPClient *http.Client
	// LexHooks says how Lex code hooks reach their Lambda functions
	// (function URLs, a Lambda Invoke endpoint).
	LexHooks lexruntime.HookConfig
	// LexRuntime, when set, adjusts the Lex runtime's configuration
	// (speech backend, turn observer, concurrency limits) before the
	// service is built.
	LexRuntime func(*lexruntime.Config)
	// ConvLogs holds Lex conversation logs' delivery options (its DB,
	// clock and logger are the server's).
	ConvLogs convlogs.Config
	// Audit, when set, adjusts the audit Recorder's configuration (its
	// indexer's delays and batches) before it is started.
	Audit func(*audit.Config)
}

// TrailHooks let tests stand in for SNS and KMS and inject failures into
// trail delivery.
type TrailHooks struct {
	Topics    cloudtrail.Topics
	Notifier  delivery.Notifier
	Keys      cloudtrail.KeyResolver
	FailPoint func(point string) error
	// Owner names the delivery worker in leases.
	Owner string
	// Manual leaves the delivery worker out of the background workers:
	// the test calls Server.Trails.Pass itself.
	Manual bool
}

// Worker is background work that runs for the server's lifetime (trail
// delivery, retention, builds). Run returns when ctx is cancelled, after
// flushing what it holds.
type Worker interface {
	Run(ctx context.Context) error
}

// Server is an assembled lextrail.
type Server struct {
	cfg      Config
	log      *slog.Logger
	DB       *store.DB
	Accounts *accounts.Store
	Catalog  *catalog.Catalog
	Gateway  *gateway.Gateway
	Audit    *audit.Recorder
	// Authz is the IAM authorizer (services call its PassRole and Check,
	// and register resource-policy sources with it).
	Authz *authz.Authorizer
	// IAM is the IAM service (role lookups for services handed a role).
	IAM *iam.Service
	// LexRuntime is the Lex runtime service.
	LexRuntime *lexruntime.Service
	// LexUtterances is the Lex service's in-memory utterance statistics
	// (flushed by its worker and at Close), which the runtime counts its
	// turns in when Config.LexUtteranceFlush is set.
	LexUtterances *lexmodels.UtteranceStats
	// S3 is the S3 endpoint's service (its Go API: Put, Authorize, Bucket).
	S3 *s3svc.Service
	// Trails is the trail delivery worker; SigningKeys the digest keys.
	Trails      *delivery.Worker
	SigningKeys *digest.Keys
	// SNS is the SNS service (its Go API for trails: CheckPublishAccess,
	// PublishAs).
	SNS *sns.Service
	// KMS is the KMS service; its Go API (ResolveKey, Authorize,
	// GenerateDataKey, Decrypt) serves trails and conversation logs.
	KMS *kms.Service
	// Logs is the CloudWatch Logs service (its Go API for lextrail's own
	// writers: Append, SplitBatches).
	Logs *logssvc.Service
	// ConvLogs is Lex conversation logs (validation, queue, delivery
	// worker, Status).
	ConvLogs *convlogs.Service
	// Speech recognises and speaks PostContent audio (tools detected at
	// start-up; reported in the log and /readyz).
	Speech   *speech.Service
	registry *prometheus.Registry
	// lexExports serves the pre-signed download URLs of Lex GetExport.
	lexExports http.Handler
	snsPublic  http.Handler
	handler    http.Handler
	workers    []Worker
}

// New assembles a server: it opens (and migrates) the database.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = "./lextrail-data"
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CredentialsOut == nil {
		cfg.CredentialsOut = os.Stderr
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	db, sealer, err := OpenState(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, DB: db}
	s.Accounts = accounts.New(db, sealer, accounts.Config{CacheTTL: cfg.KeyCacheTTL, Now: cfg.Now})
	generated, err := s.Accounts.EnsureDefault(ctx, cfg.Bootstrap)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("default account: %w", err)
	}
	if generated != nil {
		acct := cfg.Bootstrap.AccountID
		if acct == "" {
			acct = accounts.DefaultAccountID
		}
		PrintCredentials(cfg.CredentialsOut, acct, *generated)
	}

	// Identity: IAM users, roles and policies, STS sessions, and the
	// authorizer that evaluates them before every call.
	s.Authz = authz.New(authz.Config{CacheTTL: cfg.KeyCacheTTL, Now: cfg.Now})
	s.IAM = iam.New(iam.Config{DB: db, Accounts: s.Accounts, Changed: s.Authz.Invalidate, Now: cfg.Now})
	s.Authz.SetPolicies(s.IAM)
	auditCfg := audit.Config{DB: db, Now: cfg.Now, Logger: cfg.Logger}
	if cfg.Audit != nil {
		cfg.Audit(&auditCfg)
	}
	s.Audit = audit.New(auditCfg)
	stsSvc := sts.New(sts.Config{DB: db, Accounts: s.Accounts, Roles: s.IAM, Authorizer: s.Authz, Auditor: s.Audit, Now: cfg.Now})
	s.Authz.RegisterResourcePolicies("sts", stsSvc)

	// Lex conversation logs: validated by PutBotAlias, queued in each
	// turn's transaction, delivered by a worker (its services are bound
	// below, once built).
	clc := cfg.ConvLogs
	clc.DB, clc.Now, clc.Logger = db, cfg.Now, cfg.Logger
	if s.ConvLogs, err = convlogs.New(ctx, clc); err != nil {
		db.Close()
		return nil, err
	}

	sc := cfg.Speech
	if sc.CacheDir == "" {
		sc.CacheDir = filepath.Join(cfg.DataDir, "speech")
	}
	if sc.Logger == nil {
		sc.Logger = cfg.Logger
	}
	s.Speech = speech.New(sc)
	s.Speech.LogCapabilities()

	lex := lexmodels.New(lexmodels.Config{DB: db, Now: cfg.Now, Logger: cfg.Logger, ConversationLogs: s.ConvLogs,
		UtteranceFlushInterval: cfg.LexUtteranceFlush, Parts: []lexmodels.PartCompiler{lexvoice.GrammarPart{S: s.Speech}}})
	s.AddWorker(lex.Worker())
	s.lexExports = lex.ExportHandler()
	s.LexUtterances = lex.Utterances()
	s.AddWorker(s.LexUtterances)
	rtCfg := lexruntime.Config{DB: db, Now: cfg.Now, Logger: cfg.Logger, Hooks: lexruntime.NewInvoker(cfg.LexHooks),
		Recorder: s.ConvLogs, Speech: lexvoice.New(s.Speech, db)}
	// By default utterance statistics are written in each turn's own
	// transaction (rtCfg.Utterances nil). Buffered, a busy runtime's
	// flushes (one row per user and utterance, hardly any aggregated)
	// queued the turns' commits behind them: PostText's p99 at 3,000
	// turns/s was 70-100 ms against 39-60 ms in the turns' transactions,
	// for ~25 us less CPU a turn.
	if cfg.LexUtteranceFlush > 0 {
		rtCfg.Utterances = s.LexUtterances
	}
	if cfg.LexRuntime != nil {
		cfg.LexRuntime(&rtCfg)
	}
	if s.LexRuntime, err = lexruntime.New(ctx, rtCfg); err != nil {
		db.Close()
		return nil, err
	}
	s.AddWorker(s.LexRuntime.Sweeper())
	if cfg.EventRetention <= 0 {
		cfg.EventRetention = audit.DefaultRetention
	}
	s.AddWorker(audit.NewPurger(audit.RetentionConfig{DB: db, Retention: cfg.EventRetention, Now: cfg.Now, Logger: cfg.Logger}))
	// KMS keys: key policies are a resource-policy source of the authorizer.
	s.KMS = kms.New(kms.Config{DB: db, Sealer: sealer, Authorizer: s.Authz, Now: cfg.Now, Logger: cfg.Logger})
	s.Authz.RegisterResourcePolicies("kms", s.KMS)
	s.AddWorker(s.KMS.Worker())
	// CloudWatch Logs: log data encrypted at rest with KMS keys the logs
	// service principal may use (unless the config brings its own Keys).
	lc := cfg.Logs
	lc.DB, lc.Now, lc.Logger, lc.Authorizer, lc.Auditor = db, cfg.Now, cfg.Logger, s.Authz, s.Audit
	if lc.Keys == nil {
		lc.Keys = logsKeys{s.KMS}
	}
	s.Logs = logssvc.New(lc)
	s.AddWorker(s.Logs.PurgeWorker())
	s.AddWorker(s.Logs.QueryWorker())
	if err := s.objectServices(ctx); err != nil {
		db.Close()
		return nil, err
	}
	s.SNS = sns.New(sns.Config{DB: db, Sealer: sealer, PublicURL: cfg.PublicURL, HTTPClient: cfg.SNSHTTPClient, Now: cfg.Now, Logger: cfg.Logger})
	s.Authz.RegisterResourcePolicies("sns", s.SNS)
	s.AddWorker(s.SNS.Worker())
	s.snsPublic = s.SNS.HTTPHandler()
	s.ConvLogs.Bind(convlogs.Deps{Roles: s.IAM, Authorizer: s.Authz, Sessions: stsSvc, Logs: s.Logs, Buckets: s.S3, Keys: s.KMS})
	s.AddWorker(s.ConvLogs.Worker())
	trail := s.trails(sealer)
	s.Catalog = catalog.New(
		s.S3.Catalog(),
		stsSvc.Catalog(),
		s.IAM.Catalog(),
		lex.Catalog(),
		s.LexRuntime.Catalog(),
		trail.Catalog(),
		s.KMS.Catalog(),
		s.Logs.Catalog(),
		s.SNS.Catalog(),
	)
	s.registry = prometheus.NewRegistry()
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.registry.MustRegister(s.ConvLogs.Collectors()...)
	s.Gateway = gateway.New(gateway.Config{
		Catalog:        s.Catalog,
		Codecs:         Codecs(),
		DB:             db,
		Keys:           s.Accounts,
		Authorizer:     s.Authz,
		Auditor:        s.Audit,
		Metrics:        gateway.NewMetrics(s.registry),
		Logger:         cfg.Logger,
		Now:            cfg.Now,
		TrustedProxies: cfg.TrustedProxies,
	})
	s.handler = s.routes()
	return s, nil
}

// objectServices builds the object store and the S3 service. SSE-KMS
// objects are encrypted at rest in the local directory (and multipart
// parts in staging) with data keys from KMS; an external store gets the
// SSE-KMS headers instead.
func (s *Server) objectServices(ctx context.Context) error {
	st := s.cfg.ObjectStore
	if st == nil {
		ld, err := localdir.Open(localdir.Config{Root: filepath.Join(s.cfg.DataDir, "objects"), Keys: s.KMS.StoreKeys(), Now: s.cfg.Now})
		if err != nil {
			return fmt.Errorf("object store: %w", err)
		}
		st = ld
	}
	parts, err := localdir.Open(localdir.Config{Root: filepath.Join(s.cfg.DataDir, "parts"), Keys: s.KMS.StoreKeys(), Now: s.cfg.Now})
	if err != nil {
		return fmt.Errorf("multipart staging: %w", err)
	}
	if err := s3svc.EnsurePartsBucket(ctx, parts); err != nil {
		return err
	}
	s.S3 = s3svc.New(s3svc.Config{DB: s.DB, Store: st, Parts: parts, Identity: s.Authz.IdentityOnly(), Keys: s.KMS.S3(), Now: s.cfg.Now, Logger: s.log})
	return nil
}

// logsKeys lets CloudWatch Logs wrap its data keys with KMS as the logs
// service principal (logs.REGION.amazonaws.com), which the key policy must
// allow, as on AWS; aws:SourceAccount and aws:SourceArn (the log group) are
// set for key-policy conditions.
type logsKeys struct{ k *kms.Service }

func (l logsKeys) use(tx *store.Tx, accountID, region, keyARN string, ec map[string]string) kms.Use {
	return kms.Use{Principal: kms.ServicePrincipal("logs." + region + ".amazonaws.com"), KeyID: keyARN, AccountID: accountID, Region: region,
		EncryptionContext: ec, Tx: tx,
		ConditionKeys: map[string][]string{"aws:SourceAccount": {accountID}, "aws:SourceArn": {ec[logssvc.EncryptionContextKey]}}}
}

func (l logsKeys) GenerateDataKey(ctx context.Context, tx *store.Tx, accountID, region, keyARN string, ec map[string]string) ([]byte, []byte, error) {
	dk, err := l.k.GenerateDataKey(ctx, l.use(tx, accountID, region, keyARN, ec))
	return dk.Plaintext, dk.CiphertextBlob, err
}

func (l logsKeys) Decrypt(ctx context.Context, tx *store.Tx, accountID, region, keyARN string, wrapped []byte, ec map[string]string) ([]byte, error) {
	plain, _, err := l.k.Decrypt(ctx, l.use(tx, accountID, region, keyARN, ec), wrapped)
	return plain, err
}

// trails builds the CloudTrail service with the Trails API and the
// delivery worker (log files, notices, digests), on S3, SNS and KMS (or
// the test hooks standing in for them).
func (s *Server) trails(sealer *secrets.Sealer) *cloudtrail.Service {
	cfg, h := s.cfg, s.cfg.TrailHooks
	if h.Owner == "" {
		h.Owner = nodeID(cfg.DataDir, s.log)
	}
	var topics cloudtrail.Topics = trailSNS{s.SNS}
	var notifier delivery.Notifier = trailSNS{s.SNS}
	var keys cloudtrail.KeyResolver = trailKMS{s.KMS}
	if h.Topics != nil {
		topics = h.Topics
	}
	if h.Notifier != nil {
		notifier = h.Notifier
	}
	if h.Keys != nil {
		keys = h.Keys
	}
	s.SigningKeys = digest.NewKeys(digest.KeysConfig{DB: s.DB, Sealer: sealer, Rotation: cfg.DigestKeyRotation, Now: cfg.Now})
	digests := digest.NewWriter(digest.WriterConfig{DB: s.DB, Keys: s.SigningKeys, Objects: s.S3, Interval: cfg.DigestInterval,
		Regions: cfg.TrailRegions, Now: cfg.Now, Logger: s.log})
	s.Trails = delivery.New(delivery.Config{DB: s.DB, Buckets: s.S3, Notifier: notifier, Keys: keys, Digests: digests,
		Interval: cfg.DeliveryInterval, Owner: h.Owner, Now: cfg.Now, Logger: s.log, FailPoint: h.FailPoint})
	if !h.Manual {
		s.AddWorker(s.Trails)
	}
	return cloudtrail.New(cloudtrail.Config{Now: cfg.Now, LookupRate: cfg.LookupEventsRate, Retention: cfg.EventRetention,
		Buckets: s.S3, Topics: topics, Keys: keys, SigningKeys: s.SigningKeys})
}

// trailSNS is SNS as trails use it: topic checks and notices published as
// the CloudTrail principal for the trail.
type trailSNS struct{ s *sns.Service }

func (t trailSNS) CheckPublish(ctx context.Context, topicARN, sourceARN, sourceAccount string) error {
	return t.s.CheckPublishAccess(ctx, topicARN, sns.ServiceCaller{Service: trail.ServicePrincipal, SourceARN: sourceARN, SourceAccount: sourceAccount})
}

func (t trailSNS) Publish(ctx context.Context, tx *store.Tx, topicARN, message, sourceARN, sourceAccount string) error {
	_, err := t.s.PublishAs(ctx, tx, topicARN, sns.ServiceCaller{Service: trail.ServicePrincipal, SourceARN: sourceARN, SourceAccount: sourceAccount},
		sns.ServiceMessage{Message: message})
	return err
}

// trailKMS is KMS as trails use it: key resolution and the key policy's
// say on the CloudTrail principal (encryption context aws:cloudtrail:arn).
type trailKMS struct{ k *kms.Service }

func (t trailKMS) ResolveKey(ctx context.Context, tx *store.Tx, keyID, account, region string) (string, error) {
	info, err := t.k.ResolveKey(ctx, account, region, keyID)
	return info.ARN, err
}

func (t trailKMS) AuthorizeTrail(ctx context.Context, tx *store.Tx, keyARN, trailARN, account, region string) error {
	_, err := t.k.Authorize(ctx, kms.Use{Principal: kms.ServicePrincipal(trail.ServicePrincipal), KeyID: keyARN, AccountID: account, Region: region,
		EncryptionContext: map[string]string{"aws:cloudtrail:arn": trailARN},
		ConditionKeys:     map[string][]string{"aws:sourcearn": {trailARN}, "aws:sourceaccount": {account}}, Tx: tx}, "kms:GenerateDataKey")
	return err
}

// nodeID names this node in trail leases: an ID kept in the data dir, so
// that a node restarted after a crash takes its own leases back at once
// (other nodes, with data dirs of their own, wait for them to expire).
func nodeID(dataDir string, log *slog.Logger) string {
	path := filepath.Join(dataDir, "node-id")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b))
	}
	id := "node-" + uuid.NewString()
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		log.Warn("cannot keep the node ID; trail leases will wait for expiry after a restart", "err", err)
	}
	return id
}

// Codecs returns the protocol codecs by protocol.
func Codecs() map[catalog.Protocol]protocol.Codec {
	return map[catalog.Protocol]protocol.Codec{
		catalog.JSON:     awsjson.Codec{},
		catalog.RestJSON: restjson.Codec{},
		catalog.Query:    query.Codec{},
		catalog.RestXML:  restxml.Codec{},
	}
}

// OpenState opens the database and the master key named by cfg (used by
// the server and by offline administration).
func OpenState(ctx context.Context, cfg Config) (*store.DB, *secrets.Sealer, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = "./lextrail-data"
	}
	url := cfg.DatabaseURL
	if url == "" {
		url = "sqlite://" + filepath.Join(cfg.DataDir, "lextrail.db")
	}
	key, err := secrets.LoadOrCreate(cfg.DataDir, cfg.MasterKey)
	if err != nil {
		return nil, nil, err
	}
	sealer, err := secrets.New(key)
	if err != nil {
		return nil, nil, err
	}
	db, err := store.Open(ctx, store.Config{URL: url})
	if err != nil {
		return nil, nil, err
	}
	return db, sealer, nil
}

// PrintCredentials writes a ready-to-paste block for a generated key pair.
func PrintCredentials(w io.Writer, accountID string, c accounts.Credentials) {
	fmt.Fprintf(w, `
lextrail generated root credentials for account %s.
They are shown this once; print them again with "lextrail admin credentials".

export AWS_ACCESS_KEY_ID=%s
export AWS_SECRET_ACCESS_KEY=%s
export AWS_DEFAULT_REGION=us-east-1

`, accountID, c.AccessKeyID, c.SecretAccessKey)
}

// DefaultGCPercent is the garbage collector's target (GOGC) the lextrail
// binaries run with unless GOGC is set: a turn of the Lex runtime
// allocates tens of KB and the live heap is a few tens of MB, so at
// Go's default of 100 a busy server collects several times a second, and
// while a cycle marks, a quarter of the cores is the collector's — on 2
// cores the request tail grows through every cycle. At 400 the heap may
// reach five times the live heap instead of twice.
const DefaultGCPercent = 400

// TuneGC sets DefaultGCPercent unless the environment sets GOGC (for
// main packages).
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(DefaultGCPercent)
	}
}

// AddWorker registers background work started by Serve.
func (s *Server) AddWorker(w Worker) { s.workers = append(s.workers, w) }

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// routes puts the operations endpoints in front of the gateway. They answer
// only unsigned requests, so a signed S3 request for a bucket named
// "metrics" still reaches S3.
func (s *Server) routes() http.Handler {
	metrics := promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Lex export downloads carry their own signature and expiry; no
		// S3 bucket name can start with "_", so the prefix is free.
		if strings.HasPrefix(r.URL.Path, lexmodels.ExportPathPrefix) {
			s.lexExports.ServeHTTP(w, r)
			return
		}
		// SNS's signing certificate, SubscribeURL and UnsubscribeURL
		// (unsigned, like SNS's own).
		if strings.HasPrefix(r.URL.Path, sns.HTTPPathPrefix) {
			s.snsPublic.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodGet && r.Header.Get("Authorization") == "" && r.URL.Query().Get("X-Amz-Signature") == "" {
			switch r.URL.Path {
			case "/healthz":
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				io.WriteString(w, "ok\n")
				return
			case "/readyz":
				s.readyz(w, r)
				return
			case "/metrics":
				metrics.ServeHTTP(w, r)
				return
			}
		}
		s.Gateway.ServeHTTP(w, r)
	})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	if err := s.DB.Ping(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, `{"status":"unavailable","database":%q}`+"\n", err.Error())
		return
	}
	speechCaps, _ := json.Marshal(s.Speech.Capabilities())
	fmt.Fprintf(w, `{"status":"ready","database":%q,"speech":%s}`+"\n", s.DB.Driver(), speechCaps)
}

// Serve serves on ln until ctx is cancelled, then shuts down gracefully:
// stop accepting, finish in-flight requests, stop and flush workers.
// It does not close the database; Close does.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	workersDone := make(chan struct{})
	go func() { s.RunWorkers(workCtx); close(workersDone) }()
	if s.cfg.TLS != nil {
		ln = tls.NewListener(ln, s.cfg.TLS)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.log.Info("lextrail serving", "listen", ln.Addr().String(), "tls", s.cfg.TLS != nil, "database", s.DB.Driver(), "data_dir", s.cfg.DataDir)

	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		s.log.Warn("http shutdown", "err", err)
	}
	stopWork()
	select {
	case <-workersDone:
	case <-sctx.Done():
		s.log.Warn("workers did not stop in time")
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return serveErr
}

// RunWorkers runs the registered workers until ctx is cancelled and they
// have all returned.
func (s *Server) RunWorkers(ctx context.Context) {
	var wg sync.WaitGroup
	for _, w := range s.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				s.log.Error("worker stopped", "worker", fmt.Sprintf("%T", w), "err", err)
			}
		}()
	}
	wg.Wait()
}

// Close flushes the audit committer and the Lex utterance statistics and
// releases the database.
func (s *Server) Close() error {
	s.Audit.Close()
	if s.LexUtterances != nil {
		if err := s.LexUtterances.Flush(context.Background()); err != nil {
			s.log.Error("lex utterance statistics: last flush failed; their counts since the previous flush are lost", "err", err)
		}
	}
	return s.DB.Close()
}
