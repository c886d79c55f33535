-- Lex models: listings (internal/services/lexmodels/list.go).
--
-- The listing index covers a list item (name, status, description, dates):
-- a page of GetBots/GetIntents/GetSlotTypes reads index entries only, no
-- table row (whose doc can be kilobytes long).
DROP INDEX lex_resources_list;
CREATE INDEX lex_resources_list ON lex_resources (account_id, region, kind, version_num, name, name_lower, status, description, created_ms, updated_ms);

-- The generation of the set of $LATEST names of one kind in one account
-- and region: bumped in the transaction that creates or deletes a $LATEST
-- row. A listing that caches the names in memory (nameContains on SQLite)
-- reads it in its own transaction and trusts its cache only at the same
-- generation, so a change made through any connection or process is seen
-- at once. No row means generation 0.
CREATE TABLE lex_name_gens (
    account_id TEXT NOT NULL,
    region     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    gen        BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, kind)
);
