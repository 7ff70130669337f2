-- Live log keys of one raw table inside a block window: compared with a re-fetch to find logs a reorg removed.
SELECT DISTINCT tx_hash, log_index
FROM {table:Identifier} FINAL
WHERE block_number BETWEEN {lo:UInt64} AND {hi:UInt64}
