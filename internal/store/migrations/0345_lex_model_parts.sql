-- Lex models: extra parts of a bot version's build beside its artefact
-- (lex_models.model), compiled by other packages at build time — the
-- speech recogniser's grammar. model_id is the artefact's, so a part of an
-- older build is never taken for the current one.
CREATE TABLE lex_model_parts (
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    bot_name    TEXT NOT NULL,
    bot_version TEXT NOT NULL,
    part        TEXT NOT NULL,
    model_id    TEXT NOT NULL,
    data        TEXT NOT NULL,
    PRIMARY KEY (account_id, region, bot_name, bot_version, part)
);
