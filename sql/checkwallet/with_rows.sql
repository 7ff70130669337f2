-- check-wallet: which of {wallets} have P&L rows (either method): the proxy rule answers with the first that has.
SELECT DISTINCT wallet FROM wallet_market_pnl WHERE wallet IN {wallets:Array(String)}
UNION DISTINCT
SELECT DISTINCT wallet FROM wallet_market_pnl_avgcost WHERE wallet IN {wallets:Array(String)}
