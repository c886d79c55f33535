-- Audit: CloudTrail event history (internal/audit).
--
-- audit_counter is the one-row event sequence. Writers take their numbers
-- with UPDATE ... SET n = n + k RETURNING n inside the transaction that
-- inserts the events, as late as possible; on PostgreSQL the row lock is
-- then held until commit, so sequence order is commit order and a reader
-- with a cursor (seq > last) can never skip an event that commits late.
CREATE TABLE audit_counter (
    id BIGINT PRIMARY KEY,
    n  BIGINT NOT NULL
);
INSERT INTO audit_counter (id, n) VALUES (1, 0);

-- One row per event. record is the CloudTrail record as compact JSON.
-- event_time_ms is the record's eventTime (whole seconds) in epoch ms.
-- category is 'Management' or 'Data'; only management events are looked
-- up. The single-valued LookupEvents attributes are columns with their
-- own indexes (EventId uses the unique index on event_id); multi-valued
-- ones (ResourceType, ResourceName) live in event_attrs.
CREATE TABLE events (
    seq           BIGINT PRIMARY KEY,
    event_id      TEXT NOT NULL UNIQUE,
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
    record        TEXT NOT NULL
);
CREATE INDEX events_recent ON events (account_id, region, category, event_time_ms DESC, seq DESC);
CREATE INDEX events_by_name ON events (account_id, region, category, event_name, event_time_ms DESC, seq DESC);
CREATE INDEX events_by_readonly ON events (account_id, region, category, read_only, event_time_ms DESC, seq DESC);
CREATE INDEX events_by_user ON events (account_id, region, category, username, event_time_ms DESC, seq DESC);
CREATE INDEX events_by_source ON events (account_id, region, category, event_source, event_time_ms DESC, seq DESC);
CREATE INDEX events_by_key ON events (account_id, region, category, access_key_id, event_time_ms DESC, seq DESC);

-- Multi-valued lookup attributes: one row per (event, attribute value).
-- attr is 'ResourceType' or 'ResourceName' (a resource's name and its ARN
-- are both indexed as ResourceName). Only management events have rows.
CREATE TABLE event_attrs (
    account_id    TEXT NOT NULL,
    region        TEXT NOT NULL,
    attr          TEXT NOT NULL,
    value         TEXT NOT NULL,
    event_time_ms BIGINT NOT NULL,
    seq           BIGINT NOT NULL
);
CREATE INDEX event_attrs_lookup ON event_attrs (account_id, region, attr, value, event_time_ms DESC, seq DESC);
CREATE INDEX event_attrs_seq ON event_attrs (seq);
