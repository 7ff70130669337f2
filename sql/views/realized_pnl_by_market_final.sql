-- Realized P&L per (wallet, resolved condition), micro-USDC Int128: value = floor(sum(net_shares * numerator) /
-- sum(numerators)). The grain work (positions reduced to one row per wallet and condition before meeting the
-- cashflow, never a cashflow repeated per outcome row) happens in sql/build/wallet_market_pnl.sql.
CREATE OR REPLACE VIEW realized_pnl_by_market_final${suffix} AS
SELECT wallet, condition_id, cashflow, value, pnl AS realized_pnl
FROM wallet_market_pnl
WHERE resolved = 1
