-- IAM users, roles and inline policies (internal/services/iam) and STS
-- sessions (internal/services/sts). Names are unique per account without
-- regard to case, as IAM's are: name_key is the lower-cased name.
-- Access keys of users and sessions live in access_keys (0001), with
-- principal_type 'IAMUser' (principal_name = user name), 'AssumedRole' or
-- 'SessionToken' (principal_name = role or user name).
CREATE TABLE iam_users (
    account_id TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    name       TEXT NOT NULL,
    user_id    TEXT NOT NULL UNIQUE,
    path       TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (account_id, name_key)
);

CREATE TABLE iam_roles (
    account_id           TEXT NOT NULL,
    name_key             TEXT NOT NULL,
    name                 TEXT NOT NULL,
    role_id              TEXT NOT NULL UNIQUE,
    path                 TEXT NOT NULL,
    trust_policy         TEXT NOT NULL,
    description          TEXT NOT NULL DEFAULT '',
    max_session_duration BIGINT NOT NULL,
    service_linked       TEXT NOT NULL DEFAULT '',
    created_ms           BIGINT NOT NULL,
    PRIMARY KEY (account_id, name_key)
);

-- Inline policies of users ('user') and roles ('role').
CREATE TABLE iam_inline_policies (
    account_id  TEXT NOT NULL,
    owner_kind  TEXT NOT NULL,
    owner_key   TEXT NOT NULL,
    policy_key  TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    document    TEXT NOT NULL,
    PRIMARY KEY (account_id, owner_kind, owner_key, policy_key)
);

-- STS sessions: one row per temporary access key. The session token is
-- sealed with the master key (bound to the access key ID).
CREATE TABLE sts_sessions (
    access_key_id  TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL,
    kind           TEXT NOT NULL,
    issuer_name    TEXT NOT NULL,
    issuer_id      TEXT NOT NULL,
    issuer_arn     TEXT NOT NULL,
    session_name   TEXT NOT NULL,
    token_sealed   TEXT NOT NULL,
    session_policy TEXT NOT NULL DEFAULT '',
    source_identity TEXT NOT NULL DEFAULT '',
    mfa            BOOLEAN NOT NULL DEFAULT FALSE,
    created_ms     BIGINT NOT NULL,
    expires_ms     BIGINT NOT NULL
);
CREATE INDEX sts_sessions_expiry ON sts_sessions (expires_ms);
