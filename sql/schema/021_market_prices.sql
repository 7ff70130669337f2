-- Current price per outcome for open conditions, in micro-USDC per share (0..1000000): no floats for money.
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
