-- Contracts (every address of contracts.yaml, and every FPMM the legacy AMM factory created) that nonetheless have
-- a P&L row: must be none.
SELECT DISTINCT wallet FROM wallet_market_pnl
WHERE wallet IN {excluded:Array(String)} OR wallet IN (SELECT fpmm FROM fpmm_creations FINAL WHERE _deleted = 0)
LIMIT 20
