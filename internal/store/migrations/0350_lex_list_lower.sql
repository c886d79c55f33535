-- Lex models: GetBots/GetIntents/GetSlotTypes with nameContains walk the
-- names of one kind in name order and keep the ones that contain the
-- filter. The listing index now carries name_lower, so the filter reads it
-- from the index entry instead of computing lower(name) for every name.
DROP INDEX lex_resources_list;
CREATE INDEX lex_resources_list ON lex_resources (account_id, region, kind, version_num, name, name_lower);
