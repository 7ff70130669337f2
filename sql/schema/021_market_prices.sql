-- Derived (sql/queries/market_prices.sql, rebuilt by every build): price per outcome at the build's cutoff, in
-- micro-USDC per share (0..1000000), from the last fill or an import (source says which): no floats for money.
CREATE TABLE IF NOT EXISTS market_prices
(
    condition_id   String,
    outcome_index  UInt8,
    price_micros   UInt32,
    as_of          DateTime('UTC'),
    source         LowCardinality(String)
)
ENGINE = ReplacingMergeTree(as_of)
ORDER BY (condition_id, outcome_index)
