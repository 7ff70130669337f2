-- check-wallet: one wallet's average-cost rows per condition (what ui_wallet_pnl_summary sums).
SELECT condition_id, resolved, realized, unrealized, pnl FROM wallet_market_pnl_avgcost WHERE wallet = {wallet:String}
