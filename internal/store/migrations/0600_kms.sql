-- KMS (internal/services/kms): symmetric keys with their policy and key
-- material sealed under the master key, and aliases per account and region.
CREATE TABLE kms_keys (
    key_id       TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL,
    region       TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    key_usage    TEXT NOT NULL,
    key_spec     TEXT NOT NULL,
    manager      TEXT NOT NULL,
    state        TEXT NOT NULL,
    policy       TEXT NOT NULL,
    material     TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    deletion_ms  BIGINT NOT NULL DEFAULT 0,
    tags         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX kms_keys_account ON kms_keys (account_id, region, key_id);

CREATE TABLE kms_aliases (
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    name        TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    created_ms  BIGINT NOT NULL,
    updated_ms  BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, name)
);
CREATE INDEX kms_aliases_key ON kms_aliases (key_id);
