-- Per wallet, Polymarket's average-cost P&L (what its UI shows; pnl-subgraph rules), micro-USDC, beside the
-- cash-flow wallet_pnl_summary_final: realized, unrealized (tracked shares at the price or payout) and total.
CREATE OR REPLACE VIEW ui_wallet_pnl_summary AS
SELECT wallet, sum(realized) AS ui_realized_pnl, sum(unrealized) AS ui_unrealized_pnl, sum(pnl) AS ui_total_pnl,
       sum(clamped_shares) AS ui_clamped_shares
FROM wallet_market_pnl_avgcost
GROUP BY wallet
