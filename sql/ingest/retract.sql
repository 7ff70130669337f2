-- Retract rows of logs that left the canonical chain: same key, higher _version, _deleted = 1 (ReplacingMergeTree).
INSERT INTO {table:Identifier}
SELECT * REPLACE ({version:UInt64} AS _version, toUInt8(1) AS _deleted)
FROM {table:Identifier} FINAL
WHERE block_number BETWEEN {lo:UInt64} AND {hi:UInt64}
  AND (tx_hash, log_index) IN {gone:Array(Tuple(String, UInt32))}
