-- Average-cost P&L per (wallet, condition) from the freshly built book: realized as booked; unrealized per token =
-- tracked amount x (mark - average) / 1e6, truncated toward zero per token (as harness.pnl.avgcost.avg_cost_pnl), mark =
-- payout share (numerator x 1e6 / denominator, truncated) when resolved, else market_prices_new (unpriced = 0).
-- The marks are looked up per token (a UInt256 key, one join; issue 22) from a small table of every token's
-- resolved flag and mark: token_map's tokens and the FPMMs' LP shares (outcome 255, as in the book: never priced).
-- {all:UInt8} = 0 (incremental) limits it to {conditions} (build/dirty_conditions.sql); the rest is carried over.
INSERT INTO wallet_market_pnl_avgcost_new
    (wallet, condition_id, resolved, realized, unrealized, pnl, clamped_shares)
SELECT wallet, condition_id, max(res) AS resolved, sum(realized) AS r, sum(unreal) AS u, r + u, sum(clamped)
FROM
(
    SELECT a.wallet AS wallet, a.condition_id AS condition_id, k.res AS res, a.realized AS realized,
           a.clamped AS clamped, intDiv(a.amount * (k.mark - a.avg_price), toInt256(1000000)) AS unreal
    FROM (SELECT * FROM wallet_token_avgcost_new
          WHERE {all:UInt8} = 1 OR condition_id IN {conditions:Array(String)}) AS a
    LEFT JOIN
    (
        SELECT m.token_id AS token_id, w.condition_id != '' AS res,
               if(res, intDivOrZero(toInt256(if(m.outcome_index < length(w.payout_numerators),
                                                w.payout_numerators[m.outcome_index + 1], 0))
                                    * toInt256(1000000), toInt256(w.payout_denominator)),
                  toInt256(p.price_micros)) AS mark
        FROM
        (
            SELECT token_id, condition_id, outcome_index FROM token_map FINAL
            UNION ALL
            SELECT reinterpretAsUInt256(reverse(unhex(substring(fpmm, 3)))),
                   argMin(lower(condition_ids[1]), (block_number, log_index)), toUInt8(255)
            FROM fpmm_creations FINAL
            WHERE _deleted = 0 AND length(condition_ids) > 0
            GROUP BY fpmm
        ) AS m
        LEFT JOIN (SELECT condition_id, payout_numerators, payout_denominator FROM winning_index_new
                   WHERE payout_denominator > 0) AS w ON w.condition_id = m.condition_id
        LEFT JOIN (SELECT condition_id, outcome_index, price_micros FROM market_prices_new) AS p
            ON p.condition_id = m.condition_id AND p.outcome_index = m.outcome_index
    ) AS k ON k.token_id = a.token_id
)
GROUP BY wallet, condition_id
