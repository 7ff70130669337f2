-- How many wallets one (period, metric) of the build's leaderboard ranks.
SELECT count() FROM wallet_leaderboard WHERE period = {period:String} AND metric = {metric:String}
