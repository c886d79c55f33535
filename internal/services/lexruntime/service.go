// Package lexruntime serves the Amazon Lex V1 runtime API (lex-runtime,
// 2016-11-28, rest-json, signing name "lex"): PostText, PostContent,
// GetSession, PutSession and DeleteSession (shared/spec/lex-v1.md §1.4–1.6,
// §5) over the bots of the model-building API.
//
// It owns the lex_sessions table (migrations 0800 and 0850–0899): conversations
// keyed by (account, region, bot, alias, userId), with the bot version
// fixed for a session's life and a sliding idle TTL. Each turn reads the
// session and the alias in one read transaction (or takes them from the
// session cache, sessioncache.go, checked at commit), runs the dialog
// engine (package dialog) — code hooks included — outside any
// transaction, and writes the session back with a compare-and-swap on its
// version, so overlapping requests for one session get 409
// ConflictException on one node (an in-process lock) and across nodes (the
// CAS). Loaded bot models are cached per bot version and model ID (a
// rebuild changes the ID).
//
// It reads lexmodels' tables only through lexmodels.RuntimeStatements
// (Resolve) and LoadRuntimeModel and records utterance statistics only
// through lexmodels.UtteranceStats (Config.Utterances: after the turn's
// commit, written about once a second) or, without one,
// RuntimeStatements.RecordUtterance in the turn's transaction. On SQLite concurrent turns
// are committed together (committer.go). Runtime calls are not CloudTrail management
// events: the operations are declared Audited false.
package lexruntime

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"lextrail/internal/catalog"
	"lextrail/internal/dialog"
	"lextrail/internal/services/lexmodels"
	"lextrail/internal/store"
)

// Config configures the service. DB is required; the zero value of every
// other field is its documented default.
type Config struct {
	DB *store.DB
	// Now is the clock (session expiry, relative dates). Default time.Now.
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Hooks invokes code hooks (NewInvoker). Nil: code hooks fail with 424.
	Hooks dialog.Invoker
	// HookTimeout bounds a code hook call. Default 30s.
	HookTimeout time.Duration
	// Speech recognises and synthesises audio. Nil: audio input is 415,
	// audio output 406.
	Speech Speech
	// Observer is told about every committed turn, after its commit.
	Observer TurnObserver
	// Recorder writes inside every turn's transaction (conversation
	// logs' durable queue).
	Recorder TurnRecorder
	// Utterances, when set, is told every committed turn's utterance
	// statistic (lexmodels.Service.Utterances, flushed by its worker);
	// nil: each is written in its turn's transaction.
	Utterances *lexmodels.UtteranceStats
	// Concurrency limits in-flight requests per bot alias and API on this
	// node (spec §5.6): default 2 on $LATEST and 50 on other aliases, for
	// PostText and PostContent each and for the session calls together.
	// A negative value means unlimited.
	MaxConcurrentLatest, MaxConcurrentAlias int
	// FollowUpState is the dialogState sent with a follow-up prompt:
	// ElicitIntent (default) or ConfirmIntent.
	FollowUpState string
	// ModelCacheSize is how many loaded bot versions are kept. Default 64.
	ModelCacheSize int
	// SessionCacheSize is how many sessions this process keeps in memory
	// between turns (sessioncache.go), so that a continuing turn reads
	// nothing; every turn is still written, and checked against the
	// database when it commits. Default 10000; negative disables it.
	SessionCacheSize int
	// SweepInterval is how often expired sessions are deleted. Default 1m.
	SweepInterval time.Duration
	// TimeZone returns the default time zone of a region, for relative
	// dates when a request has no x-amz-lex:time-zone. Default
	// DefaultTimeZone.
	TimeZone func(region string) string
}

// Service is the Lex runtime service.
type Service struct {
	cfg      Config
	log      *slog.Logger
	engine   *dialog.Engine
	models   *modelCache
	locks    *sessionLocks
	limits   *limiter
	st       *statements
	commits  *committer
	sessions *sessionCache
	times    *timings
	// stale counts turns served from the session cache that had to be
	// run again from a fresh read.
	stale atomic.Int64
}

// New returns the service; it prepares its statements.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxConcurrentLatest == 0 {
		cfg.MaxConcurrentLatest = 2
	}
	if cfg.MaxConcurrentAlias == 0 {
		cfg.MaxConcurrentAlias = 50
	}
	if cfg.ModelCacheSize <= 0 {
		cfg.ModelCacheSize = 64
	}
	if cfg.SessionCacheSize == 0 {
		cfg.SessionCacheSize = 10000
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = time.Minute
	}
	if cfg.TimeZone == nil {
		cfg.TimeZone = DefaultTimeZone
	}
	st, err := prepare(ctx, cfg.DB)
	if err != nil {
		return nil, fmt.Errorf("lexruntime: %w", err)
	}
	commits := newCommitter(cfg.DB, st, cfg.Recorder)
	return &Service{
		cfg: cfg, log: cfg.Logger,
		engine:   dialog.New(dialog.Config{Hooks: cfg.Hooks, HookTimeout: cfg.HookTimeout, FollowUpState: cfg.FollowUpState}),
		models:   newModelCache(cfg.ModelCacheSize),
		locks:    newSessionLocks(),
		limits:   newLimiter(cfg.MaxConcurrentLatest, cfg.MaxConcurrentAlias),
		st:       st,
		commits:  commits,
		sessions: newSessionCache(cfg.SessionCacheSize),
		times:    commits.times,
	}, nil
}

// regionZones are the default time zones of AWS regions (a region's
// largest city); anything else is UTC.
var regionZones = map[string]string{
	"us-east-1": "America/New_York", "us-east-2": "America/New_York", "us-west-1": "America/Los_Angeles", "us-west-2": "America/Los_Angeles",
	"ca-central-1": "America/Toronto", "sa-east-1": "America/Sao_Paulo", "eu-west-1": "Europe/Dublin", "eu-west-2": "Europe/London",
	"eu-west-3": "Europe/Paris", "eu-central-1": "Europe/Berlin", "eu-south-1": "Europe/Rome", "eu-north-1": "Europe/Stockholm",
	"ap-southeast-1": "Asia/Singapore", "ap-southeast-2": "Australia/Sydney", "ap-northeast-1": "Asia/Tokyo", "ap-northeast-2": "Asia/Seoul",
	"ap-south-1": "Asia/Kolkata", "af-south-1": "Africa/Johannesburg", "me-south-1": "Asia/Bahrain",
}

// DefaultTimeZone is the time zone relative dates are resolved in when a
// request names none: the region's (us-east-1 America/New_York, eu-west-2
// Europe/London, …), UTC for unknown regions.
func DefaultTimeZone(region string) string {
	if z, ok := regionZones[region]; ok {
		return z
	}
	return "UTC"
}

const typeBotAlias = "AWS::Lex::BotAlias"

// names is implemented by every runtime input.
type names interface {
	key() (bot, alias, user string)
}

func (in *PostTextInput) key() (string, string, string)    { return in.BotName, in.BotAlias, in.UserID }
func (in *PostContentInput) key() (string, string, string) { return in.BotName, in.BotAlias, in.UserID }
func (in *GetSessionInput) key() (string, string, string)  { return in.BotName, in.BotAlias, in.UserID }
func (in *PutSessionInput) key() (string, string, string)  { return in.BotName, in.BotAlias, in.UserID }
func (in *DeleteSessionInput) key() (string, string, string) {
	return in.BotName, in.BotAlias, in.UserID
}

// aliasResource is the runtime's IAM resource:
// arn:aws:lex:REGION:ACCOUNT:bot:BOT:ALIAS.
func aliasResource(c *catalog.Call, in any) []catalog.Resource {
	bot, alias, _ := in.(names).key()
	arn := "arn:aws:lex:" + c.Region + ":" + c.AccountID() + ":bot:" + bot + ":" + alias
	return []catalog.Resource{{ARN: arn, AccountID: c.AccountID(), Type: typeBotAlias}}
}

// Catalog declares the five lex-runtime operations (spec §1.4). None is
// audited (runtime calls are not management events); all manage their own
// transactions so that no database connection is held while the NLU and
// code hooks run.
func (s *Service) Catalog() *catalog.Service {
	op := func(name, route string, raw bool) catalog.Operation {
		return catalog.Operation{Name: name, HTTP: route, Status: http.StatusOK, NoTx: true, RawBody: raw, Resources: aliasResource}
	}
	const path = "/bot/{botName}/alias/{botAlias}/user/{userId}"
	return catalog.NewService(&catalog.Service{
		Name:             "lex-runtime",
		SigningName:      "lex",
		EventSource:      "lex.amazonaws.com",
		Protocol:         catalog.RestJSON,
		AccessDeniedCode: "AccessDeniedException",
		Ops: []*catalog.Operation{
			catalog.Define(op("DeleteSession", "DELETE "+path+"/session", false), s.deleteSession),
			catalog.Define(op("GetSession", "GET "+path+"/session/", false), s.getSession),
			catalog.Define(op("PostContent", "POST "+path+"/content", true), s.postContent),
			catalog.Define(op("PostText", "POST "+path+"/text", false), s.postText),
			catalog.Define(op("PutSession", "POST "+path+"/session", false), s.putSession),
		},
	})
}
