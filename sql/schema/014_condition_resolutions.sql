CREATE TABLE IF NOT EXISTS condition_resolutions
(
    tx_hash      String,
    log_index    UInt32,
    block_number UInt64,
    block_time   DateTime('UTC'),
    condition_id       String,
    oracle             String,
    question_id        String,
    outcome_slot_count UInt32,
    payout_numerators  Array(UInt256),
    _version     UInt64 COMMENT 'ingest version; a higher version replaces a lower one',
    _deleted     UInt8 DEFAULT 0 COMMENT '1 = retracted (log removed by a reorg)'
)
ENGINE = ReplacingMergeTree(_version, _deleted)
ORDER BY (tx_hash, log_index)
