-- Trails (internal/trail): CloudTrail trail configurations and the state of
-- their delivery to S3, SNS notices and digests.
--
-- trails has one row per trail, live or deleted-but-draining. live_name is
-- the name while the trail exists and the row's id once it is deleted, so
-- a deleted trail's remaining events and final digest can still be
-- delivered while its name is already free again. config is the trail's
-- settings as JSON (trail.Config); tags its tags as JSON.
--
-- Delivery state: cursor_seq is the events.seq up to which the trail's
-- events have been delivered (advanced in the same transaction as the
-- trail_files rows that record the delivery); next_batch numbers delivery
-- batches; lease_owner/lease_until_ms is the worker that may work on the
-- trail (several lextrail processes on one PostgreSQL take turns by
-- lease); flush_ms asks for a delivery now (lextrail trail flush).
-- digest_epoch_ms is when the current digest chain began (logging started
-- or validation enabled; 0: no digests). When a chain ends (logging
-- stopped, validation disabled) digest_closing_ms keeps its epoch and
-- digest_cut_seq the events.seq of the last event it covers: its final
-- digest waits until the cursor has passed the cut.
-- The latest_* columns are GetTrailStatus, epoch ms, 0 = never; the
-- *_error columns the last attempt's error code ('' after a success).
CREATE TABLE trails (
    id                             TEXT PRIMARY KEY,
    account_id                     TEXT NOT NULL,
    home_region                    TEXT NOT NULL,
    name                           TEXT NOT NULL,
    live_name                      TEXT NOT NULL,
    arn                            TEXT NOT NULL,
    multi_region                   BOOLEAN NOT NULL,
    config                         TEXT NOT NULL,
    tags                           TEXT NOT NULL DEFAULT '[]',
    created_ms                     BIGINT NOT NULL,
    deleted                        BOOLEAN NOT NULL DEFAULT FALSE,
    logging                        BOOLEAN NOT NULL DEFAULT FALSE,
    start_logging_ms               BIGINT NOT NULL DEFAULT 0,
    stop_logging_ms                BIGINT NOT NULL DEFAULT 0,
    digest_epoch_ms                BIGINT NOT NULL DEFAULT 0,
    digest_closing_ms              BIGINT NOT NULL DEFAULT 0,
    digest_cut_seq                 BIGINT NOT NULL DEFAULT 0,
    cursor_seq                     BIGINT NOT NULL DEFAULT 0,
    next_batch                     BIGINT NOT NULL DEFAULT 1,
    window_ms                      BIGINT NOT NULL DEFAULT 0,
    lease_owner                    TEXT NOT NULL DEFAULT '',
    lease_until_ms                 BIGINT NOT NULL DEFAULT 0,
    flush_ms                       BIGINT NOT NULL DEFAULT 0,
    latest_delivery_ms             BIGINT NOT NULL DEFAULT 0,
    latest_delivery_attempt_ms     BIGINT NOT NULL DEFAULT 0,
    latest_delivery_error          TEXT NOT NULL DEFAULT '',
    latest_notification_ms         BIGINT NOT NULL DEFAULT 0,
    latest_notification_attempt_ms BIGINT NOT NULL DEFAULT 0,
    latest_notification_error      TEXT NOT NULL DEFAULT '',
    latest_digest_ms               BIGINT NOT NULL DEFAULT 0,
    latest_digest_attempt_ms       BIGINT NOT NULL DEFAULT 0,
    latest_digest_error            TEXT NOT NULL DEFAULT '',
    UNIQUE (account_id, home_region, live_name)
);
CREATE INDEX trails_arn ON trails (arn);

-- Logging periods in sequence terms: the trail delivers the events with
-- start_after < seq <= stop_seq (stop_seq 0: still logging).
CREATE TABLE trail_segments (
    trail_id    TEXT NOT NULL,
    start_after BIGINT NOT NULL,
    stop_seq    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (trail_id, start_after)
);

-- The delivery batch being delivered (at most one per trail): the events
-- after seq_lo up to seq_hi, with the trail's settings frozen in spec, so
-- that a retry after a failure or a crash writes the same objects under
-- the same keys.
CREATE TABLE trail_batches (
    trail_id        TEXT NOT NULL,
    batch_no        BIGINT NOT NULL,
    planned_ms      BIGINT NOT NULL,
    seq_lo          BIGINT NOT NULL,
    seq_hi          BIGINT NOT NULL,
    spec            TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (trail_id, batch_no)
);

-- Delivered log files: the delivery record. hash is the hex SHA-256 of the
-- uncompressed file; digest_epoch_ms the chain that must list it (0:
-- none); digest_end_ms the digest that lists it (0: not yet). notified
-- is whether its SNS notice went out (true when the trail has no topic).
CREATE TABLE trail_files (
    trail_id        TEXT NOT NULL,
    bucket          TEXT NOT NULL,
    object_key      TEXT NOT NULL,
    region          TEXT NOT NULL,
    batch_no        BIGINT NOT NULL,
    events          BIGINT NOT NULL,
    hash            TEXT NOT NULL,
    oldest_ms       BIGINT NOT NULL,
    newest_ms       BIGINT NOT NULL,
    delivered_ms    BIGINT NOT NULL,
    topic_arn       TEXT NOT NULL DEFAULT '',
    notified        BOOLEAN NOT NULL,
    digest_epoch_ms BIGINT NOT NULL,
    digest_end_ms   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (trail_id, bucket, object_key)
);
CREATE INDEX trail_files_digest ON trail_files (trail_id, region, digest_epoch_ms, digest_end_ms);
CREATE INDEX trail_files_notify ON trail_files (trail_id, notified);

-- Digest chains, one per trail and source region. epoch_ms is the chain's
-- digest_epoch_ms and its first digest's start; last_* describe the newest
-- digest written; pending_* a digest being written (its files are claimed
-- with digest_end_ms = pending_end_ms); closed once the final digest is
-- written.
CREATE TABLE trail_chains (
    trail_id       TEXT NOT NULL,
    region         TEXT NOT NULL,
    epoch_ms       BIGINT NOT NULL,
    closed         BOOLEAN NOT NULL DEFAULT FALSE,
    last_end_ms    BIGINT NOT NULL DEFAULT 0,
    last_bucket    TEXT NOT NULL DEFAULT '',
    last_key       TEXT NOT NULL DEFAULT '',
    last_hash      TEXT NOT NULL DEFAULT '',
    last_signature TEXT NOT NULL DEFAULT '',
    pending_end_ms BIGINT NOT NULL DEFAULT 0,
    pending_bucket TEXT NOT NULL DEFAULT '',
    pending_key    TEXT NOT NULL DEFAULT '',
    pending_final  BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (trail_id, region)
);

-- Digest signing keys, per region, one per rotation generation: valid from
-- valid_from_ms to valid_to_ms. public_der is base64 of the PKCS#1
-- RSAPublicKey; private_sealed the PKCS#1 private key sealed with the
-- master key (internal/secrets).
CREATE TABLE trail_signing_keys (
    region         TEXT NOT NULL,
    generation     BIGINT NOT NULL,
    fingerprint    TEXT NOT NULL,
    public_der     TEXT NOT NULL,
    private_sealed TEXT NOT NULL,
    valid_from_ms  BIGINT NOT NULL,
    valid_to_ms    BIGINT NOT NULL,
    created_ms     BIGINT NOT NULL,
    PRIMARY KEY (region, generation)
);
