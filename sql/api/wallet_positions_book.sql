-- One wallet's positions per (condition, outcome): its average-cost book (wallet_token_avgcost: tracked shares,
-- average price, realized) beside the shares it holds on chain (outcome_positions_v2), the mark and the payout.
-- unrealized is the build's own rule (build/wallet_market_pnl_avgcost.sql), per token: tracked x (mark - average)
-- / 1e6 truncated toward zero, mark = payout share when resolved (denominator > 0), else market_prices (unpriced
-- = 0); so realized + unrealized summed over these rows is the wallet's average-cost (UI) total. Rows whose book
-- and holding are both empty are left out (they add 0). Every table is read on its primary-key range for the
-- wallet or for the wallet's conditions only.
WITH
    book AS
    (
        SELECT condition_id, outcome_index, amount, avg_price, realized
        FROM wallet_token_avgcost WHERE wallet = {wallet:String} AND (amount != 0 OR realized != 0)
    ),
    held AS
    (
        SELECT condition_id, outcome_index, net_shares
        FROM outcome_positions_v2 WHERE wallet = {wallet:String} AND net_shares != 0
    ),
    conds AS (SELECT condition_id FROM book UNION DISTINCT SELECT condition_id FROM held)
SELECT cid, oi, held_shares, amount, avg_price, realized, resolved, payout, mark, price_micros,
       toInt256(realized) + intDiv(toInt256(amount) * (mark - toInt256(avg_price)), toInt256(1000000)) AS pnl
FROM
(
    SELECT k.condition_id AS cid, k.outcome_index AS oi, toInt128(coalesce(h.net_shares, 0)) AS held_shares,
           toInt256(coalesce(b.amount, 0)) AS amount, toInt256(coalesce(b.avg_price, 0)) AS avg_price,
           toInt256(coalesce(b.realized, 0)) AS realized,
           w.condition_id IS NOT NULL AS resolved,
           if(w.payout_denominator > 0,
              intDivOrZero(toInt256(if(k.outcome_index < length(w.payout_numerators),
                                       w.payout_numerators[k.outcome_index + 1], 0)) * toInt256(1000000),
                           toInt256(w.payout_denominator)),
              NULL) AS payout,
           p.price_micros AS price_micros,
           toInt256(coalesce(payout, p.price_micros, 0)) AS mark
    FROM
    (
        SELECT DISTINCT condition_id, outcome_index
        FROM (SELECT condition_id, outcome_index FROM book UNION ALL SELECT condition_id, outcome_index FROM held)
    ) AS k
    LEFT JOIN book AS b ON b.condition_id = k.condition_id AND b.outcome_index = k.outcome_index
    LEFT JOIN held AS h ON h.condition_id = k.condition_id AND h.outcome_index = k.outcome_index
    LEFT JOIN (SELECT condition_id, payout_numerators, payout_denominator FROM winning_index
               WHERE condition_id IN (SELECT condition_id FROM conds)) AS w ON w.condition_id = k.condition_id
    LEFT JOIN (SELECT condition_id, outcome_index, price_micros FROM market_prices FINAL
               WHERE condition_id IN (SELECT condition_id FROM conds)) AS p
        ON p.condition_id = k.condition_id AND p.outcome_index = k.outcome_index
)
ORDER BY cid, oi
SETTINGS join_use_nulls = 1
