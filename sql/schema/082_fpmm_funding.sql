-- FPMMFundingAdded / FPMMFundingRemoved logs, from any address (counted only for fpmm_creations' FPMMs).
-- add: amounts = amountsAdded (per outcome, what went into the pool; the largest is the collateral paid, the rest
-- of it came back as shares by ERC1155 transfer), shares = LP shares minted. remove: amounts = amountsRemoved (sent
-- to the funder by ERC1155 transfer), collateral_removed = collateralRemovedFromFeePool (the funder's fees, paid
-- in collateral), shares = LP shares burnt.
CREATE TABLE IF NOT EXISTS fpmm_funding
(
    tx_hash      String,
    log_index    UInt32,
    block_number UInt64,
    block_time   DateTime('UTC'),
    fpmm               String COMMENT 'emitting FPMM, lower-case 0x',
    funder             String,
    action             Enum8('add' = 1, 'remove' = 2),
    amounts            Array(UInt128),
    collateral_removed UInt128,
    shares             UInt128,
    _version     UInt64 COMMENT 'ingest version; a higher version replaces a lower one',
    _deleted     UInt8 DEFAULT 0 COMMENT '1 = retracted (log removed by a reorg)'
)
ENGINE = ReplacingMergeTree(_version, _deleted)
ORDER BY (tx_hash, log_index)
