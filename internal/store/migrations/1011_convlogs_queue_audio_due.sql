-- Conversation logs: only audio rows are indexed by due time.
--
-- A text row is due when it is queued and is delivered (deleted) within a
-- pass or two, so the queue's text rows are few and found in seq order
-- (SQLite: the rowid; PostgreSQL: convlogs_queue_seq) with their due time
-- checked on the row. The due index (kind, next_ms, seq) was one more
-- B-tree insert and one more WAL page in every turn's commit, and one more
-- delete at delivery, for a lookup the seq order serves as well. Audio
-- rows (leased, claimed by a pass that usually finds none) keep a due
-- index of their own; the queries name kind = 'audio' literally so that
-- the partial index applies.
DROP INDEX convlogs_queue_due;
CREATE INDEX convlogs_queue_audio_due ON convlogs_queue (next_ms, seq) WHERE kind = 'audio';
