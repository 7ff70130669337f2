-- One wallet's place in one (period, metric) of the build's leaderboard: its value, how many rank before it
-- (earlier in the sort order (rank_key, wallet)) and how many are ranked in all: one read of that (period, metric)'s
-- slice of the primary key, two columns. No row when the wallet is not ranked there.
SELECT any(me.pnl), countIf((l.rank_key, l.wallet) < (me.rank_key, me.wallet)), count(), toUInt32(any(me.as_of))
FROM (SELECT rank_key, wallet, pnl, as_of FROM wallet_leaderboard
      WHERE period = {period:String} AND metric = {metric:String} AND wallet = {wallet:String} LIMIT 1) AS me
CROSS JOIN (SELECT rank_key, wallet FROM wallet_leaderboard
            WHERE period = {period:String} AND metric = {metric:String}) AS l
HAVING count() > 0
