-- The incremental rebuild masks the recomputed conditions' rows of each derived table (build/reuse_delete_keyed.sql).
-- Its predicate on the 66-character condition id cost a read of that column over the whole table (2.4 CPU-s for
-- wallet_pnl_flows' 8.8M rows at 5M fills, bench/bench_floor.py); on a 4-byte key it costs ~0.5. The key is a
-- 32-bit hash, so other conditions may share a recomputed condition's key: the build adds every known condition that
-- does to the recomputed ones (build/condition_key_clashes.sql), so a clash costs a recomputation, never a row.
-- MATERIALIZED: computed on insert, never selected by *, so no statement that writes or reads the table changes.
-- 32 bits, not 64: ~10% less to write (the key is random, so incompressible) and half the disk; with a million
-- conditions a day of 10,000 recomputed ones meets ~2 clashes.
ALTER TABLE outcome_positions_v2
    ADD COLUMN IF NOT EXISTS condition_key UInt32 MATERIALIZED xxHash32(condition_id)
