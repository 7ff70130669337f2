-- Per wallet, Polymarket's average-cost P&L (what its UI shows; pnl-subgraph rules), micro-USDC, beside the
-- cash-flow wallet_pnl_summary_final: realized, unrealized (tracked shares at the price or payout) and total.
-- Served beside the final views, so it changes like them: under a suffix for build, validate and dry run, and
-- under its own name only through a gated deploy (recorded in deploy_log, restored by rollback).
CREATE OR REPLACE VIEW ui_wallet_pnl_summary${suffix} AS
SELECT wallet, sum(realized) AS ui_realized_pnl, sum(unrealized) AS ui_unrealized_pnl, sum(pnl) AS ui_total_pnl,
       sum(clamped_shares) AS ui_clamped_shares
FROM wallet_market_pnl_avgcost
GROUP BY wallet
