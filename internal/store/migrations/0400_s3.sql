-- S3 endpoint (internal/services/s3): buckets with their owner, region,
-- policy and default encryption; objects live in the object store.
CREATE TABLE s3_buckets (
    name        TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL,
    region      TEXT NOT NULL,
    created_ms  BIGINT NOT NULL,
    policy      TEXT NOT NULL DEFAULT '',
    encryption  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX s3_buckets_account ON s3_buckets (account_id, name);

-- Multipart uploads in progress; parts are staged in the parts store.
CREATE TABLE s3_uploads (
    upload_id    TEXT PRIMARY KEY,
    bucket       TEXT NOT NULL,
    object_key   TEXT NOT NULL,
    account_id   TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    options      TEXT NOT NULL
);
CREATE INDEX s3_uploads_bucket ON s3_uploads (bucket, object_key);
