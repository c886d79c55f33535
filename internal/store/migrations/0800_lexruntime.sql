-- Lex V1 runtime (internal/services/lexruntime).
--
-- model_id identifies a compiled model's content (hex SHA-256 of the
-- artefact the build worker stored), so the runtime's cache of loaded
-- models is keyed by what was built: a rebuild, or a bot deleted and
-- re-created with a reused version number, changes it. The build worker
-- sets it on the model row and, in the same statement that records the
-- build's status, on the bot version's lex_resources row, which the
-- runtime reads on every turn (reading it from lex_models would walk the
-- model text's overflow pages). Models built before this migration get an
-- ID from their build generation.
ALTER TABLE lex_models ADD COLUMN model_id TEXT NOT NULL DEFAULT '';
ALTER TABLE lex_resources ADD COLUMN model_id TEXT NOT NULL DEFAULT '';
UPDATE lex_models SET model_id = 'gen-' || build_gen;
UPDATE lex_resources SET model_id = 'gen-' || build_gen WHERE kind = 'bot' AND status IN ('READY', 'READY_BASIC_TESTING');

-- Conversations, one row per (account, region, bot, alias, userId).
-- bot_version is fixed when the session starts; model_id is the model it
-- started on (a $LATEST rebuild ends $LATEST sessions). state is the JSON
-- dialog state (package dialog). turn is bumped by every write: writers
-- compare-and-swap on it, so overlapping requests for one session from
-- several nodes cannot both commit (the loser answers 409). expires_ms is
-- the sliding idle deadline (last activity + idleSessionTTLInSeconds).
CREATE TABLE lex_sessions (
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    bot_name    TEXT NOT NULL,
    bot_alias   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    bot_version TEXT NOT NULL,
    model_id    TEXT NOT NULL,
    state       TEXT NOT NULL,
    turn        BIGINT NOT NULL,
    started_ms  BIGINT NOT NULL,
    updated_ms  BIGINT NOT NULL,
    expires_ms  BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, bot_name, bot_alias, user_id)
);
CREATE INDEX lex_sessions_expiry ON lex_sessions (expires_ms);
