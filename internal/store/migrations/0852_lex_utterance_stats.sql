-- Lex V1 utterance statistics (GetUtterancesView) as per-day counts.
--
-- lex_utterances had one row per runtime turn: three B-tree inserts (the
-- table and two indexes) and their WAL pages in every turn's commit, and a
-- table that grew by one row per turn. The runtime now aggregates turns in
-- memory (lexmodels.UtteranceStats) and adds them about once a second to
-- one row per (bot version, detected/missed, utterance, user, UTC day):
-- n turns, the first and last at which it was heard. GetUtterancesView
-- sums a version's rows whose last_ms is inside the 15-day window;
-- DeleteUtterances deletes a user's rows. WITHOUT ROWID on SQLite: the
-- primary key is the table, so an upsert touches two B-trees, not three.
-- driver: sqlite
CREATE TABLE lex_utterance_stats (
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    bot_name    TEXT NOT NULL,
    bot_version TEXT NOT NULL,
    missed      BOOLEAN NOT NULL,
    utterance   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    day_ms      BIGINT NOT NULL,
    n           BIGINT NOT NULL,
    first_ms    BIGINT NOT NULL,
    last_ms     BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, bot_name, bot_version, missed, utterance, user_id, day_ms)
) WITHOUT ROWID;
-- driver: postgres
CREATE TABLE lex_utterance_stats (
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    bot_name    TEXT NOT NULL,
    bot_version TEXT NOT NULL,
    missed      BOOLEAN NOT NULL,
    utterance   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    day_ms      BIGINT NOT NULL,
    n           BIGINT NOT NULL,
    first_ms    BIGINT NOT NULL,
    last_ms     BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, bot_name, bot_version, missed, utterance, user_id, day_ms)
);
CREATE INDEX lex_utterance_stats_user ON lex_utterance_stats (account_id, region, bot_name, user_id);
INSERT INTO lex_utterance_stats (account_id, region, bot_name, bot_version, missed, utterance, user_id, day_ms, n, first_ms, last_ms)
    SELECT account_id, region, bot_name, bot_version, missed, utterance, user_id, uttered_ms - uttered_ms % 86400000, COUNT(*), MIN(uttered_ms), MAX(uttered_ms)
    FROM lex_utterances GROUP BY account_id, region, bot_name, bot_version, missed, utterance, user_id, uttered_ms - uttered_ms % 86400000;
DROP TABLE lex_utterances;
