-- Per wallet: realized (resolved conditions), unrealized (open conditions marked to price) and total, micro-USDC
-- Int128, from one table ordered by wallet (a lookup by wallet reads a granule or two).
CREATE OR REPLACE VIEW wallet_pnl_summary_final${suffix} AS
SELECT wallet,
       sumIf(pnl, resolved = 1) AS realized_pnl, sumIf(pnl, resolved = 0) AS unrealized_pnl,
       realized_pnl + unrealized_pnl AS total_pnl,
       countIf(resolved = 1) AS markets_resolved, countIf(resolved = 0) AS markets_open
FROM wallet_market_pnl
GROUP BY wallet
