// Package server assembles a running lextrail: it opens the database and
// the master key, makes sure the default account exists, builds the
// operation catalog from every service, and serves the AWS APIs and the
// operations endpoints (/healthz, /readyz, /metrics) on one listener, with
// graceful shutdown of requests and background workers.
package server

import (
	"context"
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
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"lextrail/internal/accounts"
	"lextrail/internal/audit"
	"lextrail/internal/authz"
	"lextrail/internal/catalog"
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
	"lextrail/internal/services/lexmodels"
	s3svc "lextrail/internal/services/s3"
	"lextrail/internal/services/sts"
	"lextrail/internal/speech"
	"lextrail/internal/store"
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
	// LookupEventsRate limits CloudTrail LookupEvents per account and
	// region (requests per second; AWS allows 2). Default 0: unlimited.
	LookupEventsRate float64
	// ObjectStore holds S3 objects; default a localdir store at
	// DataDir/objects (multipart parts are staged in DataDir/parts).
	ObjectStore objstore.Store
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
	// S3 is the S3 endpoint's service (its Go API: Put, Authorize, Bucket).
	S3 *s3svc.Service
	// Speech recognises and speaks PostContent audio (tools detected at
	// start-up; reported in the log and /readyz).
	Speech   *speech.Service
	registry *prometheus.Registry
	// lexExports serves the pre-signed download URLs of Lex GetExport.
	lexExports http.Handler
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
	stsSvc := sts.New(sts.Config{DB: db, Accounts: s.Accounts, Roles: s.IAM, Now: cfg.Now})
	s.Authz.RegisterResourcePolicies("sts", stsSvc)

	s.Speech = speech.New(speech.Config{CacheDir: filepath.Join(cfg.DataDir, "speech"), Logger: cfg.Logger})
	s.Speech.LogCapabilities()

	lex := lexmodels.New(lexmodels.Config{DB: db, Now: cfg.Now, Logger: cfg.Logger})
	s.AddWorker(lex.Worker())
	s.lexExports = lex.ExportHandler()
	if cfg.EventRetention <= 0 {
		cfg.EventRetention = audit.DefaultRetention
	}
	s.Audit = audit.New(audit.Config{DB: db, Now: cfg.Now, Logger: cfg.Logger})
	s.AddWorker(audit.NewPurger(audit.RetentionConfig{DB: db, Retention: cfg.EventRetention, Now: cfg.Now, Logger: cfg.Logger}))
	trail := cloudtrail.New(cloudtrail.Config{Now: cfg.Now, LookupRate: cfg.LookupEventsRate, Retention: cfg.EventRetention})
	if err := s.objectServices(ctx); err != nil {
		db.Close()
		return nil, err
	}
	s.Catalog = catalog.New(
		s.S3.Catalog(),
		stsSvc.Catalog(),
		s.IAM.Catalog(),
		lex.Catalog(),
		trail.Catalog(),
	)
	s.registry = prometheus.NewRegistry()
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
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

// objectServices builds the object store and the S3 service.
func (s *Server) objectServices(ctx context.Context) error {
	st := s.cfg.ObjectStore
	if st == nil {
		ld, err := localdir.Open(localdir.Config{Root: filepath.Join(s.cfg.DataDir, "objects"), Now: s.cfg.Now})
		if err != nil {
			return fmt.Errorf("object store: %w", err)
		}
		st = ld
	}
	parts, err := localdir.Open(localdir.Config{Root: filepath.Join(s.cfg.DataDir, "parts"), Now: s.cfg.Now})
	if err != nil {
		return fmt.Errorf("multipart staging: %w", err)
	}
	if err := s3svc.EnsurePartsBucket(ctx, parts); err != nil {
		return err
	}
	s.S3 = s3svc.New(s3svc.Config{DB: s.DB, Store: st, Parts: parts, Identity: s.Authz.IdentityOnly(), Now: s.cfg.Now, Logger: s.log})
	return nil
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
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.log.Info("lextrail serving", "listen", ln.Addr().String(), "database", s.DB.Driver(), "data_dir", s.cfg.DataDir)

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

// Close flushes the audit committer and releases the database.
func (s *Server) Close() error {
	s.Audit.Close()
	return s.DB.Close()
}
