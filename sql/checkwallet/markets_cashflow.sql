-- check-wallet: one wallet's cash-flow rows per condition (what the final views sum).
SELECT condition_id, resolved, cashflow, value, pnl FROM wallet_market_pnl WHERE wallet = {wallet:String}
