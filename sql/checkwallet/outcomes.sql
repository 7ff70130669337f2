-- check-wallet: per outcome of {conditions}, one wallet's net shares, its average-cost book (tracked shares, average
-- price, realized) and the mark: payout share when resolved (micro-USDC per share), else the market price, NULL when
-- unpriced.
SELECT t.condition_id, t.outcome_index, t.token_id, p.net_shares, a.amount, a.avg_price, a.realized,
       if(w.condition_id != '',
          toNullable(intDiv(toUInt256(w.payout_numerators[t.outcome_index + 1]) * 1000000,
                            w.payout_denominator)),
          if(mp.condition_id != '', toNullable(toUInt256(mp.price_micros)), NULL)) AS mark
FROM (SELECT token_id, condition_id, outcome_index FROM token_map FINAL
      WHERE condition_id IN {conditions:Array(String)}) AS t
LEFT JOIN (SELECT condition_id, outcome_index, net_shares FROM outcome_positions_v2 WHERE wallet = {wallet:String}) AS p
    ON p.condition_id = t.condition_id AND p.outcome_index = t.outcome_index
LEFT JOIN (SELECT token_id, amount, avg_price, realized FROM wallet_token_avgcost WHERE wallet = {wallet:String}) AS a
    ON a.token_id = t.token_id
LEFT JOIN (SELECT condition_id, payout_numerators, payout_denominator FROM winning_index) AS w
    ON w.condition_id = t.condition_id
LEFT JOIN (SELECT condition_id, outcome_index, price_micros FROM market_prices FINAL) AS mp
    ON mp.condition_id = t.condition_id AND mp.outcome_index = t.outcome_index
ORDER BY t.condition_id, t.outcome_index
SETTINGS join_use_nulls = 0
