-- Contracts (every address of contracts.yaml) that nonetheless have a P&L row: must be none.
SELECT DISTINCT wallet FROM wallet_market_pnl WHERE wallet IN {excluded:Array(String)} LIMIT 20
