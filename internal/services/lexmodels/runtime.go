package lexmodels

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"

	"lextrail/internal/awserr"
	"lextrail/internal/services/lexmodels/build"
	"lextrail/internal/store"
)

// The Go API the runtime (package lexruntime) reads bots through. It only
// reads; the runtime's one write into lexmodels' tables is
// RecordUtterance.

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
// the account and region. version, when not empty, is the version an
// existing session is bound to; it is used instead of the alias's current
// one. A missing bot or alias is a 404 NotFoundException with the real
// service's messages; a missing version returns Status "".
func ResolveRuntime(ctx context.Context, tx *store.Tx, accountID, region, bot, alias, version string) (*RuntimeBot, error) {
	sc := scope{accountID, region}
	rb := &RuntimeBot{AliasVersion: latest}
	if alias != latest {
		var logs string
		err := tx.QueryRow(ctx, `SELECT bot_version, conversation_logs FROM lex_aliases WHERE account_id=$1 AND region=$2 AND bot_name=$3 AND name=$4`,
			accountID, region, bot, alias).Scan(&rb.AliasVersion, &logs)
		if errors.Is(err, sql.ErrNoRows) {
			ok, err := exists(ctx, tx, sc, kindBot, bot, latest)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, botNotFound(bot)
			}
			return nil, awserr.New(http.StatusNotFound, codeNotFound, "There is no alias named %s for the bot named %s", alias, bot)
		}
		if err != nil {
			return nil, err
		}
		if logs != "" {
			rb.ConversationLogs = json.RawMessage(logs)
		}
	}
	rb.Version = version
	if rb.Version == "" {
		rb.Version = rb.AliasVersion
	}
	err := tx.QueryRow(ctx, `SELECT r.status, r.failure_reason, COALESCE(m.model_id, '') FROM lex_resources r
		LEFT JOIN lex_models m ON m.account_id=r.account_id AND m.region=r.region AND m.bot_name=r.name AND m.bot_version=r.version
		WHERE r.account_id=$1 AND r.region=$2 AND r.kind='bot' AND r.name=$3 AND r.version=$4`,
		accountID, region, bot, rb.Version).Scan(&rb.Status, &rb.FailureReason, &rb.ModelID)
	if errors.Is(err, sql.ErrNoRows) {
		if alias == latest {
			return nil, botNotFound(bot)
		}
		return rb, nil // the session's version was deleted
	}
	if err != nil {
		return nil, err
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
