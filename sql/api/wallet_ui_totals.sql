-- One wallet's average-cost (Polymarket UI, pnl-subgraph rules) totals, straight from the table the UI view sums
-- (a primary-key range); no row when the wallet has none.
SELECT sum(realized), sum(unrealized), sum(pnl)
FROM wallet_market_pnl_avgcost
WHERE wallet = {wallet:String}
HAVING count() > 0
