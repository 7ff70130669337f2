-- NegRiskAdapter PositionsConverted: NO shares of the questions in index_set become collateral + YES elsewhere.
CREATE TABLE IF NOT EXISTS neg_risk_conversions
(
    tx_hash      String,
    log_index    UInt32,
    block_number UInt64,
    block_time   DateTime('UTC'),
    stakeholder  String,
    market_id    String,
    index_set    UInt256,
    amount       UInt128,
    _version     UInt64 COMMENT 'ingest version; a higher version replaces a lower one',
    _deleted     UInt8 DEFAULT 0 COMMENT '1 = retracted (log removed by a reorg)'
)
ENGINE = ReplacingMergeTree(_version, _deleted)
ORDER BY (tx_hash, log_index)
