-- Audit: records stored a block per transaction (internal/audit/blocks.go).
--
-- On SQLite the bytes an event adds to its commit cost more than anything
-- else auditing does: every page goes to the WAL at commit and again to
-- the database file at checkpoint. The records a transaction writes
-- together (a group commit's, a committer batch's) share most of their
-- text (the caller's identity, the user agent, the keys), so they are now
-- stored compressed together, in event_blocks rows of up to 16 records
-- (internal/audit/blocks.go), and their events rows keep an empty record. Rows written before (and every
-- row on PostgreSQL, and a transaction's single event) keep the record in
-- events.record.
--
-- A block holds the records of first_seq..last_seq, every one of them;
-- data is its encoding (blocks.go). Retention deletes a block once it has
-- deleted its last event.
-- driver: sqlite
CREATE TABLE event_blocks (
    last_seq  INTEGER PRIMARY KEY,
    first_seq BIGINT NOT NULL,
    data      BLOB NOT NULL
);
-- driver: postgres
CREATE TABLE event_blocks (
    last_seq  BIGINT PRIMARY KEY,
    first_seq BIGINT NOT NULL,
    data      BYTEA NOT NULL
);
