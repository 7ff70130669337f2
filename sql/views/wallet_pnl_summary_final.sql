-- Per wallet: realized (resolved conditions), unrealized (open conditions marked to price) and total, as exact
-- Decimal(76, 6) USD (= micro / 10^6, harness/data/view_contract.yaml) beside the micro-USDC Int128 sums, from one
-- table ordered by wallet (a lookup by wallet reads a granule or two).
CREATE OR REPLACE VIEW wallet_pnl_summary_final${suffix} AS
SELECT wallet,
       toDecimal256(realized_pnl, 6) / 1000000 AS realized_pnl_usd,
       toDecimal256(unrealized_pnl, 6) / 1000000 AS unrealized_pnl_usd,
       toDecimal256(total_pnl, 6) / 1000000 AS total_pnl_usd,
       sumIf(pnl, resolved = 1) AS realized_pnl, sumIf(pnl, resolved = 0) AS unrealized_pnl,
       realized_pnl + unrealized_pnl AS total_pnl,
       countIf(resolved = 1) AS markets_resolved, countIf(resolved = 0) AS markets_open
FROM wallet_market_pnl
GROUP BY wallet
