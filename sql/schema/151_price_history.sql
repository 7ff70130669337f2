-- Derived: marks over time for the P&L history, by market_prices' own rule (sql/queries/market_prices.sql) kept
-- per hour: for each hour with fills, the price its last fill sets (a binary condition's two outcomes from its
-- latest fill, p and 1 - p; other conditions each outcome's own last fill), and every imported price at the end of
-- the hour it is dated in (source = 'import', which overrides fills from then on, as in market_prices). The price
-- of an outcome at T is its latest row with t <= T (imports first): so the price at the data's end is
-- market_prices'. Rows: at most one per outcome and hour with fills, plus the imports.
CREATE TABLE IF NOT EXISTS price_history
(
    condition_id   LowCardinality(String),
    outcome_index  UInt8,
    t              DateTime('UTC') COMMENT 'end of the hour (fills with block_time <= t; imports dated <= t)',
    price_micros   UInt32,
    source         LowCardinality(String) COMMENT 'fill or import'
)
ENGINE = MergeTree
ORDER BY (condition_id, outcome_index, t)
SETTINGS index_granularity = 1024
