-- FPMMBuy / FPMMSell logs, from any address (FPMM addresses are learnt from fpmm_creations; the build joins on it,
-- so a log of an FPMM some other factory made is kept here but never counted). BUY: the trader paid usdc
-- (investmentAmount, fee included) for shares (outcomeTokensBought); SELL: the trader got usdc (returnAmount, net
-- of the fee) for shares (outcomeTokensSold). The shares themselves move by ERC1155 transfer (erc1155_transfers).
CREATE TABLE IF NOT EXISTS fpmm_trades
(
    tx_hash      String,
    log_index    UInt32,
    block_number UInt64,
    block_time   DateTime('UTC'),
    fpmm          String COMMENT 'emitting FPMM, lower-case 0x',
    trader        String COMMENT 'buyer or seller, lower-case 0x',
    side          Enum8('BUY' = 0, 'SELL' = 1),
    outcome_index UInt8,
    usdc          UInt128 COMMENT 'investmentAmount (BUY) or returnAmount (SELL), micro-USDC',
    fee           UInt128 COMMENT 'feeAmount, micro-USDC (inside usdc for a BUY, on top of it for a SELL)',
    shares        UInt128 COMMENT 'outcomeTokensBought / outcomeTokensSold',
    _version     UInt64 COMMENT 'ingest version; a higher version replaces a lower one',
    _deleted     UInt8 DEFAULT 0 COMMENT '1 = retracted (log removed by a reorg)'
)
ENGINE = ReplacingMergeTree(_version, _deleted)
ORDER BY (tx_hash, log_index)
