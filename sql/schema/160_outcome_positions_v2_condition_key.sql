-- The incremental rebuild masks the recomputed conditions' rows of each derived table (build/reuse_delete_keyed.sql).
-- Its predicate on the 66-character condition id cost a read of that column over the whole table (2.4 CPU-s for
-- wallet_pnl_flows' 8.8M rows at 5M fills, bench/bench_floor.py); on this 8-byte key it costs 0.5. The key is a
-- 64-bit hash, so the build checks that no other known condition shares a recomputed condition's key before it uses
-- it (harness.pnl.build.condition_keys) and masks by the id otherwise. MATERIALIZED: computed on insert, never
-- selected by *, so no statement that writes or reads the table changes.
ALTER TABLE outcome_positions_v2
    ADD COLUMN IF NOT EXISTS condition_key UInt64 MATERIALIZED cityHash64(condition_id)
