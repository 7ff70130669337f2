-- The time of a wallet's first flow (the P&L history's start for range=all); no row for a wallet without flows.
SELECT toUInt64(toUnixTimestamp(min(t))) FROM wallet_pnl_flows WHERE wallet = {wallet:String} HAVING count() > 0
