-- Lex models: GetBots/GetIntents/GetSlotTypes with nameContains walk the
-- names of one kind in name order and keep the ones that contain the
-- filter. The listing index now carries name_lower, so the filter reads it
-- from the index entry instead of computing lower(name) for every name.
DROP INDEX lex_resources_list;
CREATE INDEX lex_resources_list ON lex_resources (account_id, region, kind, version_num, name, name_lower);
-- The case-insensitive name check of every Put (name_lower = ?) must keep
-- seeking its own index: with name now in it, that index is covering too,
-- so SQLite does not prefer a scan of the listing index instead.
DROP INDEX lex_resources_lower;
CREATE INDEX lex_resources_lower ON lex_resources (account_id, region, kind, name_lower, name);
-- Version lookups (the latest number, the count, Get*Versions) seek the
-- rows of one resource by number; without this index SQLite walked
-- lex_resources_list over every numbered version of the kind.
CREATE INDEX lex_resources_versions ON lex_resources (account_id, region, kind, name, version_num);
