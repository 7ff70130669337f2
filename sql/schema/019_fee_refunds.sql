-- FeeModule FeeRefunded, one row per log: the part of an order's exchange fee handed back to `to_addr` (the order's
-- maker). token_id 0 = collateral (reduces the fee paid in cash), else the shares' position id (the shares arrive
-- by an ERC1155 transfer, already counted in positions). order_hash joins the order's OrderFilled.
CREATE TABLE IF NOT EXISTS fee_refunds
(
    tx_hash      String,
    log_index    UInt32,
    block_number UInt64,
    block_time   DateTime('UTC'),
    module       LowCardinality(String) COMMENT 'the fee module that refunded (lower-case 0x)',
    order_hash   String,
    to_addr      String,
    token_id     UInt256,
    refund       UInt128,
    fee_charged  UInt256 COMMENT 'the operator''s intended fee for the order',
    _version     UInt64 COMMENT 'ingest version; a higher version replaces a lower one',
    _deleted     UInt8 DEFAULT 0 COMMENT '1 = retracted (log removed by a reorg)'
)
ENGINE = ReplacingMergeTree(_version, _deleted)
ORDER BY (tx_hash, log_index)
