-- Live rows of one raw event table (name fixed by harness.pnl.asof, bound as an identifier) from the given
-- transactions, up to {as_of}. The tables are ordered by tx hash, so this reads only those granules.
SELECT * FROM {table:Identifier} FINAL
WHERE tx_hash IN {txs:Array(String)} AND _deleted = 0 AND toUnixTimestamp(block_time) <= {as_of:UInt64}
