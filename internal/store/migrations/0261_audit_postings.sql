-- Audit: the lookup index as posting lists (internal/audit/index.go).
--
-- event_index had one B-tree entry per (event, attribute value): nine for
-- an IAM CreateUser event, ~42 us of CPU per event on two cores, half of
-- what auditing a call cost. The indexer writes many events at once, and
-- most attribute values repeat across them (ReadOnly, EventSource,
-- EventName, the caller's Username and AccessKeyId, ResourceType): it now
-- writes one event_postings row per distinct (scope, attribute, value,
-- time window) of a batch, holding every matching (sequence, time) pair of
-- the batch as a compact list. EventId, distinct for every event, gets a
-- narrow table of its own, event_ids.

-- One row per (scope, attr, value) per indexer batch and postingSpan-wide
-- time window (10 s, aligned): its entries' times all lie in that window,
-- so max_t - (any entry's time) < postingSpan, which is how lookups bound
-- their seek by a time window. attr is the one-letter code of event_index
-- (n EventName, r ReadOnly, u Username, s EventSource, k AccessKeyId,
-- t ResourceType, m ResourceName). max_t and max_seq are the largest time
-- and sequence among the entries, list their encoding (index.go: newest sequence first, each a delta
-- varint of sequence and of time, in URL-safe base64 digits). An empty
-- list is the single entry (max_t, max_seq). A resource's ARN is not a row
-- of its own: it is an entry in the row of its short name (the part after
-- the last '/' or ':'), tagged with the ARN; arns is then the JSON array of
-- the row's ARNs and every entry carries a third varint, its ARN's 1-based
-- index (0: the short name is the resource's whole ARN). arns is '' in
-- rows without tags (other attributes; rows carried over below, ARNs
-- among them, which lookups by ARN read too).
-- driver: sqlite
CREATE TABLE event_postings (
    scope   BIGINT NOT NULL,
    attr    TEXT NOT NULL,
    value   TEXT NOT NULL,
    max_t   BIGINT NOT NULL,
    max_seq BIGINT NOT NULL,
    list    TEXT NOT NULL,
    arns    TEXT NOT NULL,
    PRIMARY KEY (scope, attr, value, max_t, max_seq)
) WITHOUT ROWID;
-- driver: postgres
CREATE TABLE event_postings (
    scope   BIGINT NOT NULL,
    attr    TEXT NOT NULL,
    value   TEXT NOT NULL,
    max_t   BIGINT NOT NULL,
    max_seq BIGINT NOT NULL,
    list    TEXT NOT NULL,
    arns    TEXT NOT NULL,
    PRIMARY KEY (scope, attr, value, max_t, max_seq)
);

-- EventId: one row per indexed management event. Version 7 event IDs
-- are time-ordered, so a batch's rows land at the table's right edge.
-- driver: sqlite
CREATE TABLE event_ids (
    event_id TEXT NOT NULL,
    seq      BIGINT NOT NULL,
    PRIMARY KEY (event_id, seq)
) WITHOUT ROWID;
-- driver: postgres
CREATE TABLE event_ids (
    event_id TEXT NOT NULL,
    seq      BIGINT NOT NULL,
    PRIMARY KEY (event_id, seq)
);

-- purged: every event with seq <= purged has been deleted by retention
-- (the purge deletes a prefix of the sequence). Posting rows may still
-- list such events; lookups skip them.
ALTER TABLE audit_index_state ADD COLUMN purged BIGINT NOT NULL DEFAULT 0;

-- The existing index carries over entry by entry: a posting row of one
-- (empty list) per event_index entry.
INSERT INTO event_postings (scope, attr, value, max_t, max_seq, list, arns)
SELECT scope, attr, value, event_time_ms, seq, '', '' FROM event_index WHERE attr <> 'i';

INSERT INTO event_ids (event_id, seq) SELECT value, seq FROM event_index WHERE attr = 'i';

DROP TABLE event_index;
