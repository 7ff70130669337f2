-- Derived: net shares per wallet, condition, outcome (base units). Rebuilt by harness.pnl.build.
CREATE TABLE IF NOT EXISTS outcome_positions_v2
(
    wallet        String,
    condition_id  String,
    outcome_index UInt8,
    net_shares    Int128
)
ENGINE = MergeTree
ORDER BY (wallet, condition_id, outcome_index)
