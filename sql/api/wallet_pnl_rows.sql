-- Everything /wallets/{a}/pnl reads, in one statement (a request's fixed cost is mostly the engine's per-query
-- time, so one query instead of two): the wallet's rows of wallet_market_pnl, the one-grain table the final views
-- read (ui = 0), then at most one row of its average-cost totals from wallet_market_pnl_avgcost (ui = 1).
-- Both are primary-key ranges of tables ordered by wallet.
SELECT condition_id, resolved, cashflow, value, pnl, 0 AS ui
FROM wallet_market_pnl
WHERE wallet = {wallet:String}
UNION ALL
SELECT '', 0, sum(realized), sum(unrealized), sum(pnl), 1
FROM wallet_market_pnl_avgcost
WHERE wallet = {wallet:String}
HAVING count() > 0
