-- Audit: the lookup index is filled after commit (internal/audit/index.go).
--
-- Until now every event carried its LookupEvents index entries in the
-- transaction that wrote it: six indexes on events plus one event_attrs
-- row (with two indexes) per resource attribute, 9 to 17 B-tree inserts
-- in the writer's critical section, about three quarters of an event's
-- cost. They are replaced by event_index, filled in batches by an indexer
-- up to audit_index_state.upto. Lookups read event_index for the events at
-- or below upto and the events above it (the tail, kept short) directly
-- from events, so an event is found as soon as its transaction commits.
-- EventId is indexed there too: the unique index on events.event_id was one
-- more B-tree insert (and page per commit) in the writer's critical section
-- for a random version-7 UUID that needs no uniqueness check.

-- On SQLite, events is rebuilt with seq as its rowid (INTEGER PRIMARY
-- KEY: an insert learns its number from the statement's result instead of
-- a RETURNING query, and the tail and the index join are rowid seeks) and
-- the resources column ahead of the record (reading it never walks a large
-- record's overflow pages); audit_counter likewise. This copies the
-- history once (minutes for ten million events). PostgreSQL keeps its
-- tables and gains the column.

-- driver: sqlite
CREATE TABLE audit_counter_new (
    id INTEGER PRIMARY KEY,
    n  BIGINT NOT NULL
);
-- driver: sqlite
INSERT INTO audit_counter_new (id, n) SELECT id, n FROM audit_counter;
-- driver: sqlite
DROP TABLE audit_counter;
-- driver: sqlite
ALTER TABLE audit_counter_new RENAME TO audit_counter;

-- resources: the event's multi-valued lookup attributes as a JSON array
-- of strings, each a one-letter code (t or m, below) followed by the
-- value, NULL when it has none. The indexer and tail lookups read them
-- from here.
-- driver: sqlite
CREATE TABLE events_new (
    seq           INTEGER PRIMARY KEY,
    event_id      TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    account_id    TEXT NOT NULL,
    region        TEXT NOT NULL,
    event_time_ms BIGINT NOT NULL,
    category      TEXT NOT NULL,
    read_only     TEXT NOT NULL,
    event_name    TEXT NOT NULL,
    event_source  TEXT NOT NULL,
    username      TEXT NOT NULL,
    access_key_id TEXT NOT NULL,
    resources     TEXT,
    record        TEXT NOT NULL
);
-- driver: sqlite
INSERT INTO events_new (seq, event_id, request_id, account_id, region, event_time_ms, category, read_only, event_name, event_source, username, access_key_id, resources, record)
SELECT e.seq, e.event_id, e.request_id, e.account_id, e.region, e.event_time_ms, e.category, e.read_only, e.event_name, e.event_source, e.username, e.access_key_id,
    (SELECT NULLIF(json_group_array(CASE a.attr WHEN 'ResourceType' THEN 't' ELSE 'm' END || a.value), '[]') FROM event_attrs a WHERE a.seq = e.seq),
    e.record
FROM events e ORDER BY e.seq;
-- driver: sqlite
DROP TABLE events;
-- driver: sqlite
ALTER TABLE events_new RENAME TO events;

-- driver: postgres
ALTER TABLE events ADD COLUMN resources TEXT;
-- driver: postgres
ALTER TABLE events DROP CONSTRAINT events_event_id_key;
-- driver: postgres
UPDATE events SET resources = sub.r FROM (
    SELECT seq, json_agg((CASE attr WHEN 'ResourceType' THEN 't' ELSE 'm' END) || value ORDER BY attr, value)::text AS r
    FROM event_attrs GROUP BY seq
) sub WHERE events.seq = sub.seq;
-- driver: postgres
DROP INDEX events_recent;
-- driver: postgres
DROP INDEX events_by_name;
-- driver: postgres
DROP INDEX events_by_readonly;
-- driver: postgres
DROP INDEX events_by_user;
-- driver: postgres
DROP INDEX events_by_source;
-- driver: postgres
DROP INDEX events_by_key;

-- audit_scopes numbers the (account, region) pairs that event_index is
-- keyed by (a short integer instead of both strings in every entry).
-- Written only under the audit_index_state row lock.
-- driver: sqlite
CREATE TABLE audit_scopes (
    id         INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    UNIQUE (account_id, region)
);
-- driver: postgres
CREATE TABLE audit_scopes (
    id         BIGINT PRIMARY KEY,
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    UNIQUE (account_id, region)
);

-- upto: every management event with seq <= upto has its event_index
-- entries, none above it has any. The indexer, inline indexing and the
-- retention purge lock this row (UPDATE ... SET upto = upto) first.
-- driver: sqlite
CREATE TABLE audit_index_state (
    id   INTEGER PRIMARY KEY,
    upto BIGINT NOT NULL
);
-- driver: postgres
CREATE TABLE audit_index_state (
    id   BIGINT PRIMARY KEY,
    upto BIGINT NOT NULL
);
INSERT INTO audit_index_state (id, upto) VALUES (1, 0);

-- One entry per (management event, lookup attribute value). attr is a
-- one-letter code: i EventId, n EventName, r ReadOnly (also the unfiltered lookup:
-- the 'true' and 'false' ranges merged), u Username, s EventSource,
-- k AccessKeyId, t ResourceType, m ResourceName (a resource's ARN and its
-- short name). Empty values have no entry.
-- driver: sqlite
CREATE TABLE event_index (
    scope         BIGINT NOT NULL,
    attr          TEXT NOT NULL,
    value         TEXT NOT NULL,
    event_time_ms BIGINT NOT NULL,
    seq           BIGINT NOT NULL,
    PRIMARY KEY (scope, attr, value, event_time_ms, seq)
) WITHOUT ROWID;
-- driver: postgres
CREATE TABLE event_index (
    scope         BIGINT NOT NULL,
    attr          TEXT NOT NULL,
    value         TEXT NOT NULL,
    event_time_ms BIGINT NOT NULL,
    seq           BIGINT NOT NULL,
    PRIMARY KEY (scope, attr, value, event_time_ms, seq)
);

-- The existing history: its scopes ...
INSERT INTO audit_scopes (id, account_id, region)
SELECT ROW_NUMBER() OVER (ORDER BY account_id, region), account_id, region
FROM (SELECT DISTINCT account_id, region FROM events WHERE category = 'Management') d;

-- ... and its index entries (resource attributes straight from event_attrs).
INSERT INTO event_index (scope, attr, value, event_time_ms, seq)
SELECT s.id, x.attr, x.value, x.event_time_ms, x.seq FROM (
    SELECT account_id, region, 'i' AS attr, event_id AS value, event_time_ms, seq FROM events WHERE category = 'Management'
    UNION ALL SELECT account_id, region, 'n', event_name, event_time_ms, seq FROM events WHERE category = 'Management'
    UNION ALL SELECT account_id, region, 'r', read_only, event_time_ms, seq FROM events WHERE category = 'Management'
    UNION ALL SELECT account_id, region, 'u', username, event_time_ms, seq FROM events WHERE category = 'Management' AND username <> ''
    UNION ALL SELECT account_id, region, 's', event_source, event_time_ms, seq FROM events WHERE category = 'Management' AND event_source <> ''
    UNION ALL SELECT account_id, region, 'k', access_key_id, event_time_ms, seq FROM events WHERE category = 'Management' AND access_key_id <> ''
    UNION ALL SELECT account_id, region, CASE attr WHEN 'ResourceType' THEN 't' ELSE 'm' END, value, event_time_ms, seq FROM event_attrs
) x JOIN audit_scopes s ON s.account_id = x.account_id AND s.region = x.region
WHERE x.value <> '';

UPDATE audit_index_state SET upto = (SELECT n FROM audit_counter WHERE id = 1) WHERE id = 1;

DROP TABLE event_attrs;
