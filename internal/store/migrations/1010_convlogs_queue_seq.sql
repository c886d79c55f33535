-- Conversation logs: queue rows are identified by seq, an integer the
-- database assigns, instead of their text id.
--
-- On SQLite the queue is rebuilt with seq as its rowid (INTEGER PRIMARY
-- KEY) and no index on id: a text id primary key is a B-tree of its own
-- beside the table, so every queued row was three B-tree inserts (table,
-- id, due order) and three dirty pages in the turn's commit, and three
-- deletes when delivered; now two. id stays as a column (the first turn's
-- time, request ID and kind, for people reading the queue). PostgreSQL
-- keeps its table and gains the column, unique.

-- driver: sqlite
CREATE TABLE convlogs_queue_new (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL,
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
-- driver: sqlite
INSERT INTO convlogs_queue_new (id, kind, group_key, object_key, content_type, body, docs, turn_ms, enqueued_ms, attempts, next_ms,
    last_error, lease_owner, lease_until_ms)
SELECT id, kind, group_key, object_key, content_type, body, docs, turn_ms, enqueued_ms, attempts, next_ms,
    last_error, lease_owner, lease_until_ms FROM convlogs_queue ORDER BY next_ms, id;
-- driver: sqlite
DROP TABLE convlogs_queue;
-- driver: sqlite
ALTER TABLE convlogs_queue_new RENAME TO convlogs_queue;

-- driver: postgres
ALTER TABLE convlogs_queue ADD COLUMN seq BIGSERIAL;
-- driver: postgres
CREATE UNIQUE INDEX convlogs_queue_seq ON convlogs_queue (seq);
-- driver: postgres
DROP INDEX convlogs_queue_due;

CREATE INDEX convlogs_queue_due ON convlogs_queue (kind, next_ms, seq);
