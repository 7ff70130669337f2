-- Checkpointed block ranges of one source that touch [lo, hi], per contract; coverage and gaps are computed from these.
SELECT contract, from_block, to_block
FROM ingest_checkpoints FINAL
WHERE source = {source:String} AND to_block >= {lo:UInt64} AND from_block <= {hi:UInt64}
ORDER BY contract, from_block, to_block
