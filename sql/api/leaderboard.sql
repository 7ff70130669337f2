-- The top {limit} wallets of one (period, metric) of the build's leaderboard (schema 096): a read of the first
-- granules of its sort order (rank_key = -pnl, then wallet), so its cost does not grow with the number of wallets.
SELECT wallet, pnl, toUInt32(as_of) AS as_of
FROM wallet_leaderboard
WHERE period = {period:String} AND metric = {metric:String}
ORDER BY rank_key, wallet
LIMIT {limit:UInt32}
SETTINGS optimize_read_in_order = 1, max_threads = 1
