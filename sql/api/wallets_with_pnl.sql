-- Which of the given wallets have P&L rows (a primary-key lookup each in wallet_market_pnl): used to pick the proxy
-- wallet an EOA's lookup answers with.
SELECT DISTINCT wallet FROM wallet_market_pnl WHERE wallet IN {wallets:Array(String)}
