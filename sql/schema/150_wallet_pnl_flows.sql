-- Derived: the P&L history's snapshots. Per (wallet, condition, outcome) and hour, what moved in that hour: shares
-- received (net, from ERC1155 transfers, as outcome_positions_v2), cash-flow collateral (as trade_cashflows_v3,
-- booked on outcome 0's row) and fill volume (collateral of the wallet's fills, on the filled outcome's row).
-- t is the end of the hour (the events have block_time <= t), so the running sums up to a point T (an hour
-- boundary) are the wallet's positions and cash flow as of T; the API marks them at the prices of T
-- (price_history) to draw /wallets/{a}/pnl/history. Rows exist only for hours with a flow: bounded by the raw
-- rows, never by wallets x hours. Rebuilt per condition by the incremental build, like the tables it mirrors.
CREATE TABLE IF NOT EXISTS wallet_pnl_flows
(
    wallet         String,
    condition_id   LowCardinality(String),
    outcome_index  UInt8,
    t              DateTime('UTC') COMMENT 'end of the hour of the flows (block_time <= t)',
    shares         Int128 COMMENT 'net shares received in the hour (micro-units)',
    cash           Int128 COMMENT 'cash-flow collateral in the hour (micro-USDC); outcome 0 rows only',
    volume         Int128 COMMENT 'collateral of the wallet''s fills in the hour (micro-USDC)'
)
ENGINE = MergeTree
ORDER BY (wallet, condition_id, outcome_index, t)
SETTINGS index_granularity = 1024
