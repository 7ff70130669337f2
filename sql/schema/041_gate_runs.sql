CREATE TABLE IF NOT EXISTS gate_runs
(
    run_id          String,
    stage           LowCardinality(String),
    check_name      String,
    outcome         Enum8('passed' = 1, 'failed' = 2, 'skipped' = 3, 'no_data' = 4, 'error' = 5),
    watermark_block UInt64,
    watermark_time  DateTime('UTC'),
    code_version    String,
    detail          String,
    started_at      DateTime64(3, 'UTC'),
    finished_at     DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (stage, finished_at, run_id, check_name)
