-- Derived: average-cost (UI-comparable) P&L per (wallet, condition), beside the cash-flow wallet_market_pnl:
-- realized from the book, unrealized = tracked shares x (mark - average), mark = payout share when resolved, else
-- the market price (unpriced = 0). The ui_wallet_pnl_summary view sums it per wallet.
CREATE TABLE IF NOT EXISTS wallet_market_pnl_avgcost
(
    wallet          String,
    condition_id    String,
    resolved        UInt8,
    realized        Int128,
    unrealized      Int128,
    pnl             Int128 COMMENT 'realized + unrealized',
    clamped_shares  Int128
)
ENGINE = MergeTree
ORDER BY (wallet, condition_id)
SETTINGS index_granularity = 1024
