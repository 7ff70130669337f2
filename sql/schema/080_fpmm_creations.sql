-- FixedProductMarketMakerCreation logs of the legacy AMM's factory (contracts.yaml fpmm_factory): which FPMM
-- contract trades which condition(s) in which collateral. Only logs from the factory's own address are decoded
-- into this table, so every fpmm here is one of Polymarket's (the pnl-subgraph's dynamic data sources); the
-- build reads FPMM trades and funding only for these, on condition_ids[1] (as the subgraph does), and never gives
-- an fpmm a P&L row.
CREATE TABLE IF NOT EXISTS fpmm_creations
(
    tx_hash      String,
    log_index    UInt32,
    block_number UInt64,
    block_time   DateTime('UTC'),
    factory            String COMMENT 'emitting factory, lower-case 0x',
    creator            String,
    fpmm               String COMMENT 'the new FixedProductMarketMaker, lower-case 0x',
    conditional_tokens String,
    collateral         String,
    condition_ids      Array(String) COMMENT 'lower-case 0x + 64 hex',
    fee                UInt256 COMMENT 'fee as a fraction of 1e18',
    _version     UInt64 COMMENT 'ingest version; a higher version replaces a lower one',
    _deleted     UInt8 DEFAULT 0 COMMENT '1 = retracted (log removed by a reorg)'
)
ENGINE = ReplacingMergeTree(_version, _deleted)
ORDER BY (tx_hash, log_index)
