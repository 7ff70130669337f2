-- Kept for audit only: adding these to P&L would double count the maker-credited fills.
CREATE TABLE IF NOT EXISTS orders_matched
(
    tx_hash      String,
    log_index    UInt32,
    block_number UInt64,
    block_time   DateTime('UTC'),
    exchange          LowCardinality(String),
    taker_order_hash  String,
    taker_order_maker String,
    maker_asset_id    UInt256,
    taker_asset_id    UInt256,
    maker_amount      UInt128,
    taker_amount      UInt128,
    _version     UInt64 COMMENT 'ingest version; a higher version replaces a lower one',
    _deleted     UInt8 DEFAULT 0 COMMENT '1 = retracted (log removed by a reorg)'
)
ENGINE = ReplacingMergeTree(_version, _deleted)
ORDER BY (tx_hash, log_index)
