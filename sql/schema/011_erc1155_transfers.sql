-- ConditionalTokens TransferSingle / TransferBatch, one row per (log, id); sub_index is the position in the batch.
CREATE TABLE IF NOT EXISTS erc1155_transfers
(
    tx_hash      String,
    log_index    UInt32,
    block_number UInt64,
    block_time   DateTime('UTC'),
    sub_index    UInt32,
    operator     String,
    from_addr    String,
    to_addr      String,
    token_id     UInt256,
    value        UInt128,
    _version     UInt64 COMMENT 'ingest version; a higher version replaces a lower one',
    _deleted     UInt8 DEFAULT 0 COMMENT '1 = retracted (log removed by a reorg)'
)
ENGINE = ReplacingMergeTree(_version, _deleted)
ORDER BY (tx_hash, log_index, sub_index)
