-- The last live fill (by block, log index) at or before {cutoff} of each of {tokens}: all the oracle needs of
-- other wallets' fills to derive mark prices by its own rule. Every column, versions included, as stored.
SELECT *
FROM trades_raw FINAL
PREWHERE token_id IN {tokens:Array(UInt256)}
WHERE _deleted = 0 AND shares > 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}
ORDER BY token_id, block_number DESC, log_index DESC
LIMIT 1 BY token_id
