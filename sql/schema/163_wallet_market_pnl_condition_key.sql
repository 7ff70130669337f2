-- The recomputed conditions' rows masked by an 8-byte key instead of the condition id (see 160_outcome_positions_v2_condition_key.sql).
ALTER TABLE wallet_market_pnl
    ADD COLUMN IF NOT EXISTS condition_key UInt64 MATERIALIZED cityHash64(condition_id)
