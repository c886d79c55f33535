-- CloudWatch Logs (internal/services/logs).
--
-- Log groups per account and region; group_id is an application-chosen
-- random BIGINT so that a name can be reused at once after DeleteLogGroup
-- while the old group's blocks are purged in the background.
CREATE TABLE logs_groups (
    group_id            BIGINT PRIMARY KEY,
    account_id          TEXT NOT NULL,
    region              TEXT NOT NULL,
    name                TEXT NOT NULL,
    created_ms          BIGINT NOT NULL,
    retention_days      BIGINT NOT NULL DEFAULT 0,   -- 0: never expire
    kms_key_arn         TEXT NOT NULL DEFAULT '',
    dek_id              BIGINT NOT NULL DEFAULT 0,   -- data key for new blocks; 0: plaintext
    log_class           TEXT NOT NULL DEFAULT 'STANDARD',
    deletion_protection BOOLEAN NOT NULL DEFAULT FALSE,
    stored_bytes        BIGINT NOT NULL DEFAULT 0,
    tags                TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX logs_groups_name ON logs_groups (account_id, region, name);

-- Log streams. next_seq numbers every event of the stream in ingestion
-- order; (timestamp, seq) is an event's position.
CREATE TABLE logs_streams (
    stream_id      BIGINT PRIMARY KEY,
    group_id       BIGINT NOT NULL,
    name           TEXT NOT NULL,
    created_ms     BIGINT NOT NULL,
    first_event_ms BIGINT NOT NULL DEFAULT -1,  -- -1: no events yet
    last_event_ms  BIGINT NOT NULL DEFAULT -1,
    last_ingest_ms BIGINT NOT NULL DEFAULT -1,
    next_seq       BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX logs_streams_name ON logs_streams (group_id, name);
CREATE INDEX logs_streams_last ON logs_streams (group_id, last_event_ms, name);

-- Log events, stored in blocks: one block per accepted PutLogEvents batch
-- (events sorted by timestamp, consecutive seqs from first_seq). data is
-- the block codec's bytes (optionally AES-256-GCM under a data key);
-- bloom is a trigram Bloom filter over the messages that lets
-- FilterLogEvents skip blocks a pattern cannot match (empty: none). A
-- batch spans at most 24 hours, so max_ts - min_ts <= 86400000 bounds
-- range scans on min_ts. BYTEA is bytea on PostgreSQL; SQLite gives the
-- type NUMERIC affinity, which stores blob values unchanged.
CREATE TABLE logs_blocks (
    stream_id  BIGINT NOT NULL,
    first_seq  BIGINT NOT NULL,
    group_id   BIGINT NOT NULL,
    min_ts     BIGINT NOT NULL,
    max_ts     BIGINT NOT NULL,
    events     BIGINT NOT NULL,
    raw_bytes  BIGINT NOT NULL,
    ingest_ms  BIGINT NOT NULL,
    dek_id     BIGINT NOT NULL DEFAULT 0,
    flags      BIGINT NOT NULL DEFAULT 0,
    bloom      BYTEA NOT NULL,
    data       BYTEA NOT NULL,
    PRIMARY KEY (stream_id, first_seq)
);
CREATE INDEX logs_blocks_group_min ON logs_blocks (group_id, min_ts);
CREATE INDEX logs_blocks_group_max ON logs_blocks (group_id, max_ts);
CREATE INDEX logs_blocks_stream_min ON logs_blocks (stream_id, min_ts);
CREATE INDEX logs_blocks_stream_max ON logs_blocks (stream_id, max_ts);

-- Streams whose blocks the purge worker still has to delete (after
-- DeleteLogStream or DeleteLogGroup).
CREATE TABLE logs_trash (
    stream_id  BIGINT PRIMARY KEY,
    deleted_ms BIGINT NOT NULL
);

-- Data keys of KMS-encrypted log groups: 32 random bytes wrapped by the
-- group's KMS key (encryption context aws:logs:arn = the group's ARN).
CREATE TABLE logs_data_keys (
    dek_id      BIGINT PRIMARY KEY,
    group_id    BIGINT NOT NULL,
    account_id  TEXT NOT NULL,
    kms_key_arn TEXT NOT NULL,
    context_arn TEXT NOT NULL,
    wrapped     BYTEA NOT NULL,
    created_ms  BIGINT NOT NULL
);
CREATE INDEX logs_data_keys_group ON logs_data_keys (group_id);

-- Logs Insights queries: run in the background by whichever node holds
-- the lease; results kept as JSON until they expire.
CREATE TABLE logs_queries (
    query_id     TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL,
    region       TEXT NOT NULL,
    query_string TEXT NOT NULL,
    groups       TEXT NOT NULL,      -- JSON [{"id":..,"name":..}]
    start_ms     BIGINT NOT NULL,
    end_ms       BIGINT NOT NULL,
    row_limit    BIGINT NOT NULL,
    status       TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    lease_owner  TEXT NOT NULL DEFAULT '',
    lease_until  BIGINT NOT NULL DEFAULT 0,
    results      TEXT NOT NULL DEFAULT '',
    statistics   TEXT NOT NULL DEFAULT '',
    done_ms      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX logs_queries_status ON logs_queries (status, created_ms);
CREATE INDEX logs_queries_account ON logs_queries (account_id, region, status);
