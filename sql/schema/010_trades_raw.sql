-- One row per OrderFilled, credited to its maker only (the taker leg has its own OrderFilled).
-- side: BUY = maker paid collateral for shares; SELL = maker gave shares for collateral.
-- V1: fee is taken from the proceeds asset (BUY: shares, SELL: collateral). V2: fee always in collateral.
CREATE TABLE IF NOT EXISTS trades_raw
(
    tx_hash      String,
    log_index    UInt32,
    block_number UInt64,
    block_time   DateTime('UTC'),
    exchange     LowCardinality(String),
    order_hash   String,
    wallet       String COMMENT 'OrderFilled.maker, lower-case 0x',
    counterparty String COMMENT 'OrderFilled.taker',
    side         Enum8('BUY' = 0, 'SELL' = 1),
    token_id     UInt256,
    shares       UInt128 COMMENT 'gross outcome shares, 6 decimals',
    usdc         UInt128 COMMENT 'gross collateral, micro-USDC',
    fee_shares   UInt128 DEFAULT 0,
    fee_usdc     UInt128 DEFAULT 0,
    _version     UInt64 COMMENT 'ingest version; a higher version replaces a lower one',
    _deleted     UInt8 DEFAULT 0 COMMENT '1 = retracted (log removed by a reorg)'
)
ENGINE = ReplacingMergeTree(_version, _deleted)
ORDER BY (tx_hash, log_index)
