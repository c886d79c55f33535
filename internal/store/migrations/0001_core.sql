-- Accounts and their root credentials.
CREATE TABLE accounts (
    account_id TEXT PRIMARY KEY,
    alias      TEXT NOT NULL DEFAULT '',
    created_ms BIGINT NOT NULL
);

-- Access keys of every kind: root keys (principal_type 'Root'), IAM user
-- keys and STS session keys are added by later migrations' owners. The
-- secret is sealed with the master key (AES-256-GCM), never stored in clear.
CREATE TABLE access_keys (
    access_key_id  TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts(account_id),
    principal_type TEXT NOT NULL,
    principal_name TEXT NOT NULL DEFAULT '',
    secret_sealed  TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'Active',
    created_ms     BIGINT NOT NULL
);
CREATE INDEX access_keys_account ON access_keys (account_id, principal_type, principal_name);
