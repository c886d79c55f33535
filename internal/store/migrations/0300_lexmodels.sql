-- Lex V1 model building (internal/services/lexmodels).
--
-- Bots, intents and slot types, every version of each, one row per
-- (kind, name, version). version is '$LATEST' or a decimal number;
-- version_num is 0 for $LATEST so that listings sort $LATEST first. doc is
-- the JSON definition; content_hash identifies the definition for
-- "unchanged since the last published version". Bots carry their build
-- state: status, failure_reason, build_gen (bumped by every change that
-- invalidates a build), build_owner/build_lease_ms (the worker lease) and
-- build_ready_ms (when READY_BASIC_TESTING turns READY).
CREATE TABLE lex_resources (
    account_id     TEXT NOT NULL,
    region         TEXT NOT NULL,
    kind           TEXT NOT NULL,
    name           TEXT NOT NULL,
    version        TEXT NOT NULL,
    version_num    BIGINT NOT NULL,
    name_lower     TEXT NOT NULL,
    checksum       TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    doc            TEXT NOT NULL,
    content_hash   TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT '',
    failure_reason TEXT NOT NULL DEFAULT '',
    build_gen      BIGINT NOT NULL DEFAULT 0,
    build_owner    TEXT NOT NULL DEFAULT '',
    build_lease_ms BIGINT NOT NULL DEFAULT 0,
    build_ready_ms BIGINT NOT NULL DEFAULT 0,
    created_ms     BIGINT NOT NULL,
    updated_ms     BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, kind, name, version)
);
CREATE INDEX lex_resources_list ON lex_resources (account_id, region, kind, version_num, name);
CREATE INDEX lex_resources_lower ON lex_resources (account_id, region, kind, name_lower);
CREATE INDEX lex_resources_status ON lex_resources (status);

-- Per-name version high-water marks: numbers are never reused while the
-- resource exists; the row goes when the whole resource is deleted.
CREATE TABLE lex_version_counters (
    account_id   TEXT NOT NULL,
    region       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    last_version BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, kind, name)
);

-- Dependency edges: a bot version uses intent versions, an intent version
-- uses custom slot type versions. They answer ResourceInUseException and
-- find the bots a $LATEST change un-builds.
CREATE TABLE lex_refs (
    account_id   TEXT NOT NULL,
    region       TEXT NOT NULL,
    from_kind    TEXT NOT NULL,
    from_name    TEXT NOT NULL,
    from_version TEXT NOT NULL,
    to_kind      TEXT NOT NULL,
    to_name      TEXT NOT NULL,
    to_version   TEXT NOT NULL,
    PRIMARY KEY (account_id, region, from_kind, from_name, from_version, to_kind, to_name, to_version)
);
CREATE INDEX lex_refs_to ON lex_refs (account_id, region, to_kind, to_name, to_version);

CREATE TABLE lex_aliases (
    account_id        TEXT NOT NULL,
    region            TEXT NOT NULL,
    bot_name          TEXT NOT NULL,
    name              TEXT NOT NULL,
    name_lower        TEXT NOT NULL,
    bot_version       TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    checksum          TEXT NOT NULL,
    conversation_logs TEXT NOT NULL DEFAULT '',
    created_ms        BIGINT NOT NULL,
    updated_ms        BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, bot_name, name)
);

-- Compiled bot versions: the artefact the runtime loads.
CREATE TABLE lex_models (
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    bot_name    TEXT NOT NULL,
    bot_version TEXT NOT NULL,
    build_gen   BIGINT NOT NULL,
    model       TEXT NOT NULL,
    built_ms    BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, bot_name, bot_version)
);

CREATE TABLE lex_tags (
    account_id   TEXT NOT NULL,
    region       TEXT NOT NULL,
    resource_arn TEXT NOT NULL,
    key_lower    TEXT NOT NULL,
    tag_key      TEXT NOT NULL,
    tag_value    TEXT NOT NULL,
    PRIMARY KEY (account_id, region, resource_arn, key_lower)
);

-- Utterances the runtime heard (filled by the runtime; read by
-- GetUtterancesView, deleted by DeleteUtterances).
CREATE TABLE lex_utterances (
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    bot_name    TEXT NOT NULL,
    bot_version TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    utterance   TEXT NOT NULL,
    missed      BOOLEAN NOT NULL,
    uttered_ms  BIGINT NOT NULL
);
CREATE INDEX lex_utterances_view ON lex_utterances (account_id, region, bot_name, bot_version, missed, uttered_ms);
CREATE INDEX lex_utterances_user ON lex_utterances (account_id, region, bot_name, user_id);

-- StartImport jobs, run by the build worker under a lease.
CREATE TABLE lex_imports (
    account_id     TEXT NOT NULL,
    region         TEXT NOT NULL,
    import_id      TEXT NOT NULL,
    name           TEXT NOT NULL DEFAULT '',
    resource_type  TEXT NOT NULL,
    merge_strategy TEXT NOT NULL,
    status         TEXT NOT NULL,
    failure_reason TEXT NOT NULL DEFAULT '',
    payload        TEXT NOT NULL DEFAULT '',
    tags           TEXT NOT NULL DEFAULT '',
    owner          TEXT NOT NULL DEFAULT '',
    lease_ms       BIGINT NOT NULL DEFAULT 0,
    created_ms     BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, import_id)
);
CREATE INDEX lex_imports_status ON lex_imports (status);

-- Service secrets (the HMAC key of export download URLs).
CREATE TABLE lex_secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
