-- Lex V1 runtime (internal/services/lexruntime): the sweeper's index on a
-- coarse deadline instead of expires_ms.
--
-- expires_ms slides with every turn, so an index on it was rewritten by
-- every turn (an entry deleted and one inserted: two more B-tree pages in
-- every commit of the single SQLite writer). sweep_ms is expires_ms
-- rounded up to the minute and only ever raised, when a turn's new
-- expires_ms passes it: an active conversation moves its index entry
-- about once a minute. The sweeper deletes rows whose sweep_ms and
-- expires_ms have both passed; an expired session is invisible to the API
-- whatever the sweeper does, so the rounding only delays reclaiming it.
ALTER TABLE lex_sessions ADD COLUMN sweep_ms BIGINT NOT NULL DEFAULT 0;
UPDATE lex_sessions SET sweep_ms = expires_ms;
DROP INDEX lex_sessions_expiry;
CREATE INDEX lex_sessions_sweep ON lex_sessions (sweep_ms);
