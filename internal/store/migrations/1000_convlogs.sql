-- Lex conversation logs (internal/convlogs).
--
-- convlogs_dests are the destinations queue rows go to, one per
-- group_key (kind, account, region, role, source, destination, and the
-- resourcePrefix for text or the SSE-KMS key for audio): written once by
-- the first turn that logs there, never changed.
CREATE TABLE convlogs_dests (
    group_key   TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    bot_name    TEXT NOT NULL,
    bot_alias   TEXT NOT NULL,
    role_arn    TEXT NOT NULL,
    source_arn  TEXT NOT NULL,
    destination TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    kms_key     TEXT NOT NULL
);

-- convlogs_queue is the durable delivery queue, filled in the transaction
-- that commits the turns: a text row holds the documents of the turns
-- committed together for one destination (docs of them; body is the
-- base64 of the S2-compressed lines "<turn ms>\t<document>\n"), an audio
-- row one turn's audio (body is its base64, object_key and content_type
-- its S3 key and Content-Type). id is the (first) turn's time, request ID
-- and kind. Text rows are taken (deleted) by the transaction that appends
-- their documents to the log group; audio rows are leased (lease_owner,
-- lease_until_ms) while their object is written. next_ms is when the row
-- may next be tried (backoff after a failed delivery). Only the delivery
-- order is indexed; the rare scans by age (expiry) and by alias (Status)
-- read the queue, which is small unless a destination has been failing
-- for long.
CREATE TABLE convlogs_queue (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    group_key      TEXT NOT NULL,
    object_key     TEXT NOT NULL DEFAULT '',
    content_type   TEXT NOT NULL DEFAULT '',
    body           TEXT NOT NULL,
    docs           BIGINT NOT NULL,
    turn_ms        BIGINT NOT NULL,
    enqueued_ms    BIGINT NOT NULL,
    attempts       BIGINT NOT NULL DEFAULT 0,
    next_ms        BIGINT NOT NULL,
    last_error     TEXT NOT NULL DEFAULT '',
    lease_owner    TEXT NOT NULL DEFAULT '',
    lease_until_ms BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX convlogs_queue_due ON convlogs_queue (kind, next_ms, id);

-- Delivery status per alias and log type: what Status reports (counters
-- of delivered and dropped entries and of failed delivery attempts, the
-- last delivery and the last error).
CREATE TABLE convlogs_status (
    account_id       TEXT NOT NULL,
    region           TEXT NOT NULL,
    bot_name         TEXT NOT NULL,
    bot_alias        TEXT NOT NULL,
    log_type         TEXT NOT NULL,
    destination      TEXT NOT NULL,
    delivered        BIGINT NOT NULL DEFAULT 0,
    failed           BIGINT NOT NULL DEFAULT 0,
    dropped          BIGINT NOT NULL DEFAULT 0,
    last_delivery_ms BIGINT NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    last_error_ms    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, region, bot_name, bot_alias, log_type)
);
