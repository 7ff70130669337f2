-- Derived: one row per resolved condition with its payout vector.
CREATE TABLE IF NOT EXISTS winning_index
(
    condition_id       String,
    payout_numerators  Array(UInt256),
    payout_denominator UInt256,
    winning_index      Int16 COMMENT 'index of the single full-payout outcome, -1 when split or none',
    resolved_block     UInt64,
    resolved_time      DateTime('UTC')
)
ENGINE = MergeTree
ORDER BY condition_id
