-- One row per ingest run (backfill, sync, files): the block range it was asked for and how it ended.
-- The hull of requested ranges is what the gap report checks against ingest_checkpoints.
CREATE TABLE IF NOT EXISTS ingest_runs
(
    run_id      String,
    source      LowCardinality(String),
    command     LowCardinality(String),
    from_block  UInt64,
    to_block    UInt64,
    status      Enum8('running' = 1, 'done' = 2, 'failed' = 3),
    logs        UInt64,
    detail      String,
    started_at  DateTime64(3, 'UTC'),
    updated_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (source, run_id)
