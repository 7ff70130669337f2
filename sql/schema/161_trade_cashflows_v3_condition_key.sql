-- The recomputed conditions' rows masked by a 4-byte key instead of the condition id (see 160_outcome_positions_v2_condition_key.sql).
ALTER TABLE trade_cashflows_v3
    ADD COLUMN IF NOT EXISTS condition_key UInt32 MATERIALIZED xxHash32(condition_id)
