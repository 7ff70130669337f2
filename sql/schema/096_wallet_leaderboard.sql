-- Derived: the leaderboard, pre-ranked at build time from the tables the final views read (wallet_market_pnl,
-- winning_index, wallet_market_pnl_avgcost), one row per (period, metric, wallet) that has rows in the period.
-- period: 'all' (every condition: the summary views' figures), '7d' / '30d' (conditions resolved in the period
-- ending at as_of, plus, for total and ui_total, the open conditions marked to price). metric: 'total' and
-- 'realized' (cash-flow, micro-USDC), 'ui_total' (average cost). Ordered so the top N of one (period, metric)
-- is a read of the first granules, whatever the number of wallets.
CREATE TABLE IF NOT EXISTS wallet_leaderboard
(
    period  LowCardinality(String),
    metric  LowCardinality(String),
    rank_key Int128 COMMENT '-pnl: ascending order = best first',
    wallet  String,
    pnl     Int128 COMMENT 'micro-USDC',
    as_of   DateTime('UTC') COMMENT 'end of the periods: newest ingested block time, or the cutoff when earlier'
)
ENGINE = MergeTree
ORDER BY (period, metric, rank_key, wallet)
SETTINGS index_granularity = 1024
