-- Prices imported from files (prices CSV, Gamma outcomePrices), micro-USDC per share, each dated. History is kept
-- (as_of is in the key), so a build with a cutoff uses the latest import at or before it; re-importing the same
-- file is a no-op. market_prices (derived in the build) applies them over the last fill prices.
CREATE TABLE IF NOT EXISTS imported_prices
(
    condition_id   String,
    outcome_index  UInt8,
    price_micros   UInt32,
    as_of          DateTime('UTC'),
    source         LowCardinality(String)
)
ENGINE = ReplacingMergeTree
ORDER BY (condition_id, outcome_index, as_of)
