-- NegRiskAdapter QuestionPrepared: which question (and so which condition) sits at which index of a market.
CREATE TABLE IF NOT EXISTS neg_risk_questions
(
    tx_hash      String,
    log_index    UInt32,
    block_number UInt64,
    block_time   DateTime('UTC'),
    market_id      String,
    question_id    String,
    question_index UInt32,
    condition_id   String COMMENT 'keccak(adapter, question_id, 2), computed at decode',
    data           String,
    _version     UInt64 COMMENT 'ingest version; a higher version replaces a lower one',
    _deleted     UInt8 DEFAULT 0 COMMENT '1 = retracted (log removed by a reorg)'
)
ENGINE = ReplacingMergeTree(_version, _deleted)
ORDER BY (tx_hash, log_index)
