-- One row per ingested block range per (source, contract), written only after its rows are inserted.
-- Coverage and gaps are the union / complement of these ranges.
CREATE TABLE IF NOT EXISTS ingest_checkpoints
(
    source      LowCardinality(String),
    contract    String,
    from_block  UInt64,
    to_block    UInt64,
    logs        UInt64,
    run_id      String,
    written_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(written_at)
ORDER BY (source, contract, from_block, to_block)
