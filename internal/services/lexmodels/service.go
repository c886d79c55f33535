// Package lexmodels serves the Amazon Lex V1 model-building API
// (lex-models, 2017-04-19, rest-json, signing name "lex"): bots, intents,
// slot types, their versions, aliases, builds, built-ins, tags, utterance
// statistics, export/import, and truthful answers for channel associations
// and migrations, which lextrail does not offer (shared/spec/lex-v1.md
// §1–§2).
//
// It owns the lex_* tables (migrations 0300–0399) and the build worker that
// compiles bot versions into the model artefact (package build) the
// runtime loads from lex_models. It must not touch other services' tables;
// the runtime reads bots only through runtime.go (ResolveRuntime,
// LoadRuntimeModel, RuntimeStatements) and writes utterances only through
// RecordUtterance.
//
// Files: one per resource (slottypes.go, intents.go, bots.go, aliases.go),
// put.go (the checksum table and versions), list.go (paging), worker.go
// (builds and imports), export.go/import.go (LEX and Alexa formats),
// exporthttp.go (the pre-signed download handler).
package lexmodels

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"lextrail/internal/catalog"
	"lextrail/internal/store"
)

// Config configures the service. DB is required; the zero value of every
// other field is its documented default.
type Config struct {
	DB *store.DB
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// PollInterval is how often the worker looks for builds and imports
	// that another node queued (local ones wake it at once). Default 500ms.
	PollInterval time.Duration
	// Lease is how long a worker owns a build or import before another
	// node may take it over. Default 2 minutes.
	Lease time.Duration
	// ReadyDelay is how long a built bot stays READY_BASIC_TESTING before
	// it turns READY. Default 0 (promoted on the same worker pass).
	ReadyDelay time.Duration
	// ExportURLTTL is how long a GetExport download URL stays valid.
	// Default 10 minutes.
	ExportURLTTL time.Duration
	// Parts compile extra parts of bot builds (the speech recogniser's
	// grammar); default none.
	Parts []PartCompiler
	// ConversationLogs validates PutBotAlias's conversationLogs
	// (internal/convlogs). Nil: they are stored as given.
	ConversationLogs LogsValidator
	// UtteranceFlushInterval is how often the runtime's utterance
	// statistics are written (UtteranceStats). Default 1s.
	UtteranceFlushInterval time.Duration
}

// LogsValidator checks the conversation-log settings PutBotAlias is given
// (spec §3.2) and returns a 400 BadRequestException saying which rule
// failed.
type LogsValidator interface {
	ValidateConversationLogs(ctx context.Context, c *catalog.Call, a AliasLogs) error
}

// AliasLogs is what a LogsValidator checks: the alias, the bot version it
// will point to and the settings.
type AliasLogs struct {
	BotName, AliasName, BotVersion string
	// ChildDirected is the bot version's childDirected.
	ChildDirected bool
	Logs          *ConversationLogsRequest
}

// Service is the Lex model-building service.
type Service struct {
	cfg    Config
	log    *slog.Logger
	wakeCh chan struct{}
	keys   *urlSigner
	names  *nameCache // nil on PostgreSQL (names.go)
	utter  *UtteranceStats
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 500 * time.Millisecond
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.ExportURLTTL <= 0 {
		cfg.ExportURLTTL = 10 * time.Minute
	}
	s := &Service{cfg: cfg, log: cfg.Logger, wakeCh: make(chan struct{}, 1), keys: newURLSigner(cfg.DB)}
	if cfg.DB != nil && cfg.DB.Driver() == store.DriverSQLite {
		s.names = newNameCache()
	}
	s.utter = newUtteranceStats(cfg.DB, cfg.UtteranceFlushInterval, cfg.Logger)
	return s
}

// wake nudges the local worker (after a commit that queued work).
func (s *Service) wake() {
	select {
	case s.wakeCh <- struct{}{}:
	default:
	}
}

// ExportHandler serves the pre-signed export download URLs GetExport
// hands out (paths under ExportPathPrefix). It needs no SigV4: the URL's
// HMAC and expiry are the authorization.
func (s *Service) ExportHandler() http.Handler { return NewExportHandler(s.cfg.DB, s.cfg.Now) }

const (
	typeBot      = "AWS::Lex::Bot"
	typeBotAlias = "AWS::Lex::BotAlias"
	typeIntent   = "AWS::Lex::Intent"
	typeSlotType = "AWS::Lex::SlotType"
	typeChannel  = "AWS::Lex::BotChannelAssociation"
)

func res(c *catalog.Call, typ, arn string) []catalog.Resource {
	return []catalog.Resource{{ARN: arn, AccountID: c.AccountID(), Type: typ}}
}

// Resource functions for the catalog.

func botRes[T any](name func(*T) string) func(*catalog.Call, any) []catalog.Resource {
	return func(c *catalog.Call, in any) []catalog.Resource {
		return res(c, typeBot, botARN(scopeOf(c), name(in.(*T))))
	}
}

func intentRes[T any](name func(*T) string) func(*catalog.Call, any) []catalog.Resource {
	return func(c *catalog.Call, in any) []catalog.Resource {
		return res(c, typeIntent, intentARN(scopeOf(c), name(in.(*T))))
	}
}

func slotTypeRes[T any](name func(*T) string) func(*catalog.Call, any) []catalog.Resource {
	return func(c *catalog.Call, in any) []catalog.Resource {
		return res(c, typeSlotType, slotTypeARN(scopeOf(c), name(in.(*T))))
	}
}

func aliasRes(c *catalog.Call, in any) []catalog.Resource {
	var bot, name string
	switch v := in.(type) {
	case *AliasInput:
		bot, name = v.BotName, v.Name
	case *PutBotAliasInput:
		bot, name = v.BotName, v.Name
	}
	return res(c, typeBotAlias, aliasARN(scopeOf(c), bot, name))
}

func channelRes(c *catalog.Call, in any) []catalog.Resource {
	v := in.(*ChannelInput)
	return res(c, typeChannel, channelARN(scopeOf(c), v.BotName, v.BotAlias, v.Name))
}

func tagRes(c *catalog.Call, in any) []catalog.Resource {
	var arn string
	switch v := in.(type) {
	case *TagsInput:
		arn = v.ResourceArn
	case *TagResourceInput:
		arn = v.ResourceArn
	case *UntagResourceInput:
		arn = v.ResourceArn
	}
	typ := typeBot
	if n := countColons(arn); n == 7 {
		typ = typeBotAlias
	} else if n == 8 {
		typ = typeChannel
	}
	return res(c, typ, arn)
}

func countColons(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			n++
		}
	}
	return n
}

// Catalog declares the 42 lex-models operations (spec §1.3).
func (s *Service) Catalog() *catalog.Service {
	name := func(p *DeleteInput) string { return p.Name }
	cv := func(p *CreateVersionInput) string { return p.Name }
	dv := func(p *DeleteVersionInput) string { return p.Name }
	vs := func(p *VersionsInput) string { return p.Name }
	op := func(name, http string, status int, readOnly, record bool, r func(*catalog.Call, any) []catalog.Resource) catalog.Operation {
		return catalog.Operation{Name: name, HTTP: http, Status: status, ReadOnly: readOnly, Audited: true, RecordResponse: record, Resources: r}
	}
	// noTx: the handler opens its transaction itself (GetUtterancesView
	// flushes the utterance statistics first).
	noTx := func(o catalog.Operation) catalog.Operation { o.NoTx = true; return o }
	const rw, ro = false, true
	const rec, norec = true, false
	return catalog.NewService(&catalog.Service{
		Name:             "lex-models",
		SigningName:      "lex",
		EventSource:      "lex.amazonaws.com",
		Protocol:         catalog.RestJSON,
		AccessDeniedCode: "AccessDeniedException",
		Ops: []*catalog.Operation{
			catalog.Define(op("CreateBotVersion", "POST /bots/{name}/versions", 201, rw, rec, botRes(cv)), s.createBotVersion),
			catalog.Define(op("CreateIntentVersion", "POST /intents/{name}/versions", 201, rw, rec, intentRes(cv)), s.createIntentVersion),
			catalog.Define(op("CreateSlotTypeVersion", "POST /slottypes/{name}/versions", 201, rw, rec, slotTypeRes(cv)), s.createSlotTypeVersion),
			catalog.Define(op("DeleteBot", "DELETE /bots/{name}", 204, rw, norec, botRes(name)), s.deleteBot),
			catalog.Define(op("DeleteBotAlias", "DELETE /bots/{botName}/aliases/{name}", 204, rw, norec, aliasRes), s.deleteBotAlias),
			catalog.Define(op("DeleteBotChannelAssociation", "DELETE /bots/{botName}/aliases/{aliasName}/channels/{name}", 204, rw, norec, channelRes), s.deleteBotChannelAssociation),
			catalog.Define(op("DeleteBotVersion", "DELETE /bots/{name}/versions/{version}", 204, rw, norec, botRes(dv)), s.deleteBotVersion),
			catalog.Define(op("DeleteIntent", "DELETE /intents/{name}", 204, rw, norec, intentRes(name)), s.deleteIntent),
			catalog.Define(op("DeleteIntentVersion", "DELETE /intents/{name}/versions/{version}", 204, rw, norec, intentRes(dv)), s.deleteIntentVersion),
			catalog.Define(op("DeleteSlotType", "DELETE /slottypes/{name}", 204, rw, norec, slotTypeRes(name)), s.deleteSlotType),
			catalog.Define(op("DeleteSlotTypeVersion", "DELETE /slottypes/{name}/version/{version}", 204, rw, norec, slotTypeRes(dv)), s.deleteSlotTypeVersion),
			catalog.Define(op("DeleteUtterances", "DELETE /bots/{botName}/utterances/{userId}", 204, rw, norec, botRes(func(p *DeleteUtterancesInput) string { return p.BotName })), s.deleteUtterances),
			catalog.Define(op("GetBot", "GET /bots/{name}/versions/{versionoralias}", 200, ro, norec, botRes(func(p *GetBotInput) string { return p.Name })), s.getBot),
			catalog.Define(op("GetBotAlias", "GET /bots/{botName}/aliases/{name}", 200, ro, norec, aliasRes), s.getBotAlias),
			catalog.Define(op("GetBotAliases", "GET /bots/{botName}/aliases/", 200, ro, norec, botRes(func(p *GetBotAliasesInput) string { return p.BotName })), s.getBotAliases),
			catalog.Define(op("GetBotChannelAssociation", "GET /bots/{botName}/aliases/{aliasName}/channels/{name}", 200, ro, norec, channelRes), s.getBotChannelAssociation),
			catalog.Define(op("GetBotChannelAssociations", "GET /bots/{botName}/aliases/{aliasName}/channels/", 200, ro, norec, botRes(func(p *ChannelsInput) string { return p.BotName })), s.getBotChannelAssociations),
			catalog.Define(op("GetBotVersions", "GET /bots/{name}/versions/", 200, ro, norec, botRes(vs)), s.getBotVersions),
			catalog.Define(op("GetBots", "GET /bots/", 200, ro, norec, nil), s.getBots),
			catalog.Define(op("GetBuiltinIntent", "GET /builtins/intents/{signature}", 200, ro, norec, nil), s.getBuiltinIntent),
			catalog.Define(op("GetBuiltinIntents", "GET /builtins/intents/", 200, ro, norec, nil), s.getBuiltinIntents),
			catalog.Define(op("GetBuiltinSlotTypes", "GET /builtins/slottypes/", 200, ro, norec, nil), s.getBuiltinSlotTypes),
			catalog.Define(op("GetExport", "GET /exports/", 200, ro, norec, exportRes), s.getExport),
			catalog.Define(op("GetImport", "GET /imports/{importId}", 200, ro, norec, nil), s.getImport),
			catalog.Define(op("GetIntent", "GET /intents/{name}/versions/{version}", 200, ro, norec, intentRes(func(p *GetIntentInput) string { return p.Name })), s.getIntent),
			catalog.Define(op("GetIntentVersions", "GET /intents/{name}/versions/", 200, ro, norec, intentRes(vs)), s.getIntentVersions),
			catalog.Define(op("GetIntents", "GET /intents/", 200, ro, norec, nil), s.getIntents),
			catalog.Define(op("GetMigration", "GET /migrations/{migrationId}", 200, ro, norec, nil), s.getMigration),
			catalog.Define(op("GetMigrations", "GET /migrations", 200, ro, norec, nil), s.getMigrations),
			catalog.Define(op("GetSlotType", "GET /slottypes/{name}/versions/{version}", 200, ro, norec, slotTypeRes(func(p *GetSlotTypeInput) string { return p.Name })), s.getSlotType),
			catalog.Define(op("GetSlotTypeVersions", "GET /slottypes/{name}/versions/", 200, ro, norec, slotTypeRes(vs)), s.getSlotTypeVersions),
			catalog.Define(op("GetSlotTypes", "GET /slottypes/", 200, ro, norec, nil), s.getSlotTypes),
			catalog.Define(noTx(op("GetUtterancesView", "GET /bots/{botname}/utterances?view=aggregation", 200, ro, norec, botRes(func(p *GetUtterancesViewInput) string { return p.BotName }))), s.getUtterancesView),
			catalog.Define(op("ListTagsForResource", "GET /tags/{resourceArn}", 200, ro, norec, tagRes), s.listTagsForResource),
			catalog.Define(op("PutBot", "PUT /bots/{name}/versions/$LATEST", 200, rw, rec, botRes(func(p *PutBotInput) string { return p.Name })), s.putBot),
			catalog.Define(op("PutBotAlias", "PUT /bots/{botName}/aliases/{name}", 200, rw, rec, aliasRes), s.putBotAlias),
			catalog.Define(op("PutIntent", "PUT /intents/{name}/versions/$LATEST", 200, rw, rec, intentRes(func(p *PutIntentInput) string { return p.Name })), s.putIntent),
			catalog.Define(op("PutSlotType", "PUT /slottypes/{name}/versions/$LATEST", 200, rw, rec, slotTypeRes(func(p *PutSlotTypeInput) string { return p.Name })), s.putSlotType),
			catalog.Define(op("StartImport", "POST /imports/", 201, rw, norec, nil), s.startImport),
			catalog.Define(op("StartMigration", "POST /migrations", 202, rw, norec, botRes(func(p *StartMigrationInput) string { return p.V1BotName })), s.startMigration),
			catalog.Define(op("TagResource", "POST /tags/{resourceArn}", 204, rw, norec, tagRes), s.tagResource),
			catalog.Define(op("UntagResource", "DELETE /tags/{resourceArn}", 204, rw, norec, tagRes), s.untagResource),
		},
	})
}
