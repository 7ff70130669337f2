-- Realized P&L per wallet: the sum over its resolved conditions (the rows realized_pnl_by_market_final shows, read
-- from the same table without its joins); markets = how many resolved conditions it touched. realized_pnl_usd is
-- exact Decimal(76, 6) = micro / 10^6 (harness/data/view_contract.yaml); realized_pnl the micro-USDC Int128.
CREATE OR REPLACE VIEW wallet_realized_pnl_final${suffix} AS
SELECT wallet, toDecimal256(realized_pnl, 6) / 1000000 AS realized_pnl_usd, sum(pnl) AS realized_pnl,
       count() AS markets
FROM wallet_market_pnl
WHERE resolved = 1
GROUP BY wallet
