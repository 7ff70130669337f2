-- Derived: P&L per (wallet, condition), resolved and open, micro-USDC. Built last from the other four derived
-- tables (positions reduced to one value per wallet and condition before meeting the cashflow row), so the final
-- views are plain reads of one table ordered by wallet: a wallet lookup touches a granule or two, and small
-- granules (1024 rows) keep what it decompresses small.
CREATE TABLE IF NOT EXISTS wallet_market_pnl
(
    wallet        String,
    condition_id  String,
    resolved      UInt8 COMMENT '1 = condition in winning_index (value at payout), 0 = open (value at price)',
    cashflow      Int128,
    value         Int128 COMMENT 'floor(sum(net_shares * payout or price)), one floor per wallet and condition',
    pnl           Int128 COMMENT 'cashflow + value: realized when resolved, unrealized when open'
)
ENGINE = MergeTree
ORDER BY (wallet, condition_id)
SETTINGS index_granularity = 1024
