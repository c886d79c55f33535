package lexmodels

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"lextrail/internal/awserr"
	"lextrail/internal/services/lexmodels/build"
	"lextrail/internal/store"
)

// The Go API the runtime (package lexruntime) reads bots through. It only
// reads; the runtime's one write into lexmodels' tables is its utterance
// statistics (UtteranceStats.Add, or RecordUtterance in its transaction).

// RuntimeBot is what the runtime needs to know about the bot version a
// conversation talks to.
type RuntimeBot struct {
	// Version is the bot version: the session's, else the alias's.
	Version string
	// Status is the version's build status (READY, READY_BASIC_TESTING,
	// BUILDING, NOT_BUILT, FAILED).
	Status        string
	FailureReason string
	// ModelID identifies the stored compiled model ("" when none is
	// stored); it changes whenever the version is rebuilt.
	ModelID string
	// AliasVersion is the version the alias names today ($LATEST for the
	// $LATEST alias).
	AliasVersion string
	// ConversationLogs is the alias's stored conversation-log settings
	// (JSON, nil when none or for $LATEST).
	ConversationLogs json.RawMessage
}

// Ready reports whether the version can serve conversations.
func (b *RuntimeBot) Ready() bool {
	return (b.Status == statusReady || b.Status == statusBasic) && b.ModelID != ""
}

// ResolveRuntime resolves bot and alias ("$LATEST" or an alias name) in
// the account and region, in one query. version, when not empty, is the
// version an existing session is bound to; it is used instead of the
// alias's current one. A missing bot or alias is a 404 NotFoundException
// with the real service's messages; a missing version returns Status "".
func ResolveRuntime(ctx context.Context, tx *store.Tx, accountID, region, bot, alias, version string) (*RuntimeBot, error) {
	return (*RuntimeStatements)(nil).Resolve(ctx, tx, accountID, region, bot, alias, version)
}

const resolveQuery = `SELECT a.bot_version, a.conversation_logs, r.status, r.failure_reason, r.model_id FROM (SELECT 1 AS one) o
	LEFT JOIN lex_aliases a ON a.account_id=$1 AND a.region=$2 AND a.bot_name=$3 AND a.name=$4
	LEFT JOIN lex_resources r ON r.account_id=$1 AND r.region=$2 AND r.kind='bot' AND r.name=$3 AND r.version=COALESCE($5, a.bot_version, '$LATEST')`

// RuntimeStatements are the runtime's per-turn statements into
// lexmodels' tables. They run as plain queries: on SQLite every
// connection keeps its statements compiled (internal/store), and pgx
// caches them per connection.
type RuntimeStatements struct{}

// PrepareRuntime returns the runtime's statements.
func PrepareRuntime(ctx context.Context, db *store.DB) (*RuntimeStatements, error) {
	return &RuntimeStatements{}, nil
}

// RecordUtterance is the package function RecordUtterance (rs may be
// nil).
func (rs *RuntimeStatements) RecordUtterance(ctx context.Context, tx *store.Tx, accountID, region, bot, botVersion, userID, text string, missed bool, at time.Time) error {
	return RecordUtterance(ctx, tx, accountID, region, bot, botVersion, userID, text, missed, at)
}

// Resolve is ResolveRuntime (rs may be nil).
func (rs *RuntimeStatements) Resolve(ctx context.Context, tx *store.Tx, accountID, region, bot, alias, version string) (*RuntimeBot, error) {
	var sessionVersion any
	if version != "" {
		sessionVersion = version
	}
	var aliasVersion, logs, status, reason, modelID sql.NullString
	row := tx.QueryRow(ctx, resolveQuery, accountID, region, bot, alias, sessionVersion)
	err := row.Scan(&aliasVersion, &logs, &status, &reason, &modelID)
	if err != nil {
		return nil, err
	}
	rb := &RuntimeBot{AliasVersion: latest, Version: version, Status: status.String, FailureReason: reason.String, ModelID: modelID.String}
	if alias != latest {
		if !aliasVersion.Valid {
			if !status.Valid && version == "" {
				return nil, botNotFound(bot)
			}
			return nil, awserr.New(http.StatusNotFound, codeNotFound, "There is no alias named %s for the bot named %s", alias, bot)
		}
		rb.AliasVersion = aliasVersion.String
		if logs.String != "" {
			rb.ConversationLogs = json.RawMessage(logs.String)
		}
	}
	if rb.Version == "" {
		rb.Version = rb.AliasVersion
	}
	if !status.Valid && alias == latest && version == "" {
		return nil, botNotFound(bot)
	}
	return rb, nil
}

func botNotFound(bot string) *awserr.Error {
	return awserr.New(http.StatusNotFound, codeNotFound, "The specified resource '%s' does not exist. Choose another resource.", bot)
}

// LoadRuntimeModel reads the compiled model of a bot version with its
// model ID; m is nil when none is stored.
func LoadRuntimeModel(ctx context.Context, tx *store.Tx, accountID, region, bot, version string) (m *build.Model, modelID string, err error) {
	var text string
	err = tx.QueryRow(ctx, `SELECT model, model_id FROM lex_models WHERE account_id=$1 AND region=$2 AND bot_name=$3 AND bot_version=$4`,
		accountID, region, bot, version).Scan(&text, &modelID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	m = new(build.Model)
	if err := json.Unmarshal([]byte(text), m); err != nil {
		return nil, "", err
	}
	return m, modelID, nil
}

// BotChildDirected reports whether a bot version is child-directed (the
// runtime records no utterance statistics for such bots).
func BotChildDirected(def json.RawMessage) bool {
	var d BotDef
	return json.Unmarshal(def, &d) == nil && d.ChildDirected
}
