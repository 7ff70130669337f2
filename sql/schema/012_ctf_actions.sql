-- Splits, merges and redemptions, from ConditionalTokens and from the NegRiskAdapter (source tells which).
-- amount: split/merge size in shares; payout: collateral paid by a redemption; index_sets: partition or redeemed
-- sets; amounts: the adapter redemption's per-outcome amounts.
CREATE TABLE IF NOT EXISTS ctf_actions
(
    tx_hash      String,
    log_index    UInt32,
    block_number UInt64,
    block_time   DateTime('UTC'),
    source               LowCardinality(String) COMMENT 'ctf or neg_risk_adapter',
    action               Enum8('split' = 1, 'merge' = 2, 'redeem' = 3),
    stakeholder          String,
    collateral           String,
    parent_collection_id String,
    condition_id         String COMMENT 'lower-case 0x + 64 hex, normalised at ingest',
    index_sets           Array(UInt256),
    amounts              Array(UInt128),
    amount               UInt128,
    payout               UInt128,
    _version     UInt64 COMMENT 'ingest version; a higher version replaces a lower one',
    _deleted     UInt8 DEFAULT 0 COMMENT '1 = retracted (log removed by a reorg)'
)
ENGINE = ReplacingMergeTree(_version, _deleted)
ORDER BY (tx_hash, log_index)
