-- One wallet's rows of the one-grain P&L table the final views read (a primary-key range: a granule or two).
-- The API derives its totals from these same rows (realized = resolved, unrealized = open), so totals and the
-- per-market breakdown cannot disagree; the dry run proves they equal the _test views.
SELECT condition_id, resolved, cashflow, value, pnl
FROM wallet_market_pnl
WHERE wallet = {wallet:String}
