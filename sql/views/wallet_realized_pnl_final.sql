-- Realized P&L per wallet: the sum over its resolved conditions; markets = how many resolved conditions it touched.
CREATE OR REPLACE VIEW wallet_realized_pnl_final${suffix} AS
SELECT wallet, sum(realized_pnl) AS realized_pnl, count() AS markets
FROM realized_pnl_by_market_final${suffix}
GROUP BY wallet
