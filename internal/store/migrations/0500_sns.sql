-- SNS (internal/services/sns): topics, their subscriptions, the per-topic
-- message log that deliveries read, and the certificate messages are
-- signed with.
--
-- msg_seq is the topic's last message number. Publish takes the next one
-- with UPDATE ... SET msg_seq = msg_seq + 1 RETURNING msg_seq in the
-- transaction that inserts the message; the row lock is held until commit
-- (PostgreSQL) or writers are serialized (SQLite), so message numbers of a
-- topic commit in order and a subscription's cursor never skips a message
-- that commits late.
CREATE TABLE sns_topics (
    arn         TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_ms  BIGINT NOT NULL,
    attributes  TEXT NOT NULL DEFAULT '{}',
    tags        TEXT NOT NULL DEFAULT '[]',
    msg_seq     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sns_topics_account ON sns_topics (account_id, region, arn);

-- A subscription is also its own delivery queue: status 'pending' waits
-- for confirmation (confirm_due: the SubscriptionConfirmation still has to
-- be sent; confirm_gen counts the requests to send it, so that a Subscribe
-- made while one is being sent is not lost), status 'confirmed' delivers the topic's messages with seq >
-- cursor_seq in order. attempts / next_attempt_ms are the retry state of
-- the head message (or of the confirmation); lease_owner / lease_until_ms
-- say which lextrail process delivers for it now. The confirmation token
-- is kept as its SHA-256 (token_hash, for ConfirmSubscription) and sealed
-- with the master key (token_sealed, for the confirmation message).
CREATE TABLE sns_subscriptions (
    arn              TEXT PRIMARY KEY,
    topic_arn        TEXT NOT NULL,
    account_id       TEXT NOT NULL,
    region           TEXT NOT NULL,
    protocol         TEXT NOT NULL,
    endpoint         TEXT NOT NULL,
    status           TEXT NOT NULL,
    token_hash       TEXT NOT NULL,
    token_sealed     TEXT NOT NULL,
    token_expires_ms BIGINT NOT NULL,
    base_url         TEXT NOT NULL,
    attributes       TEXT NOT NULL DEFAULT '{}',
    auth_unsubscribe BOOLEAN NOT NULL DEFAULT FALSE,
    confirmed_auth   BOOLEAN NOT NULL DEFAULT FALSE,
    created_ms       BIGINT NOT NULL,
    confirm_due      BOOLEAN NOT NULL DEFAULT FALSE,
    confirm_gen      BIGINT NOT NULL DEFAULT 0,
    cursor_seq       BIGINT NOT NULL DEFAULT 0,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_ms  BIGINT NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    delivered        BIGINT NOT NULL DEFAULT 0,
    dropped          BIGINT NOT NULL DEFAULT 0,
    lease_owner      TEXT NOT NULL DEFAULT '',
    lease_until_ms   BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX sns_subscriptions_endpoint ON sns_subscriptions (topic_arn, protocol, endpoint);
CREATE INDEX sns_subscriptions_topic ON sns_subscriptions (topic_arn, arn);
CREATE INDEX sns_subscriptions_account ON sns_subscriptions (account_id, region, arn);
CREATE INDEX sns_subscriptions_token ON sns_subscriptions (topic_arn, token_hash);
CREATE INDEX sns_subscriptions_due ON sns_subscriptions (next_attempt_ms);

-- Published messages, kept until every confirmed subscription of the topic
-- has moved past them. subject is NULL when the message has none;
-- attributes is the JSON of the message attributes;
-- structure is '' or 'json' (MessageStructure).
CREATE TABLE sns_messages (
    topic_arn    TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    message_id   TEXT NOT NULL,
    published_ms BIGINT NOT NULL,
    subject      TEXT,
    message      TEXT NOT NULL,
    structure    TEXT NOT NULL,
    attributes   TEXT NOT NULL,
    PRIMARY KEY (topic_arn, seq)
);

-- The RSA key and self-signed X.509 certificate messages are signed with
-- (one row, name 'current'; the private key sealed with the master key).
-- cert_id names the certificate file served at SigningCertURL.
CREATE TABLE sns_signing_keys (
    name        TEXT PRIMARY KEY,
    cert_id     TEXT NOT NULL,
    cert_pem    TEXT NOT NULL,
    key_sealed  TEXT NOT NULL,
    created_ms  BIGINT NOT NULL
);
