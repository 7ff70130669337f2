-- Price per outcome at {cutoff}, micro-USDC per share, for every condition ({all:UInt8} = 1) or {conditions}:
-- the last on-chain fill at or before the cutoff (V1, V2 and negRisk OrderFilled alike: price = collateral /
-- shares, gross of fees, floored). A binary condition's two outcomes are priced together from its latest fill
-- (p for the traded outcome, 1 - p for the other), since a fill on either outcome prices both; other conditions
-- take each outcome's own last fill. An imported price (prices CSV, Gamma outcomePrices) dated at or before the
-- cutoff overrides the fill price of its outcome. Outcomes with neither stay unpriced (no row).
WITH fills AS
(
    SELECT m.condition_id AS condition_id, m.outcome_index AS outcome_index, m.n AS n,
           t.block_number AS block_number, t.log_index AS log_index, t.block_time AS block_time,
           least(intDiv(toUInt256(t.usdc) * 1000000, toUInt256(t.shares)), 1000000) AS px
    FROM (SELECT token_id, usdc, shares, block_number, log_index, block_time FROM trades_raw FINAL
          PREWHERE {all:UInt8} = 1
                OR token_id IN (SELECT token_id FROM token_map WHERE condition_id IN {conditions:Array(String)})
          WHERE _deleted = 0 AND shares > 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}) AS t
    INNER JOIN (SELECT tm.token_id AS token_id, tm.condition_id AS condition_id, tm.outcome_index AS outcome_index,
                       c.n AS n
                FROM (SELECT token_id, condition_id, outcome_index FROM token_map FINAL) AS tm
                INNER JOIN (SELECT condition_id, count() AS n FROM token_map FINAL GROUP BY condition_id) AS c
                    ON tm.condition_id = c.condition_id) AS m
        ON t.token_id = m.token_id
)
SELECT condition_id, outcome_index, argMax(price_micros, prio) AS price_micros, argMax(as_of, prio) AS as_of,
       argMax(source, prio) AS source
FROM
(
    SELECT condition_id, toUInt8(o) AS outcome_index,
           toUInt32(if(o = last.1, last.2, 1000000 - last.2)) AS price_micros, last.3 AS as_of,
           'fill' AS source, 0 AS prio
    FROM
    (
        SELECT condition_id, argMax((outcome_index, px, block_time), (block_number, log_index)) AS last
        FROM fills WHERE n = 2 GROUP BY condition_id
    )
    ARRAY JOIN [0, 1] AS o
    UNION ALL
    SELECT condition_id, outcome_index, toUInt32(argMax(px, (block_number, log_index))),
           argMax(block_time, (block_number, log_index)), 'fill', 0
    FROM fills WHERE n != 2 GROUP BY condition_id, outcome_index
    UNION ALL
    SELECT condition_id, outcome_index, argMax(price_micros, as_of), max(as_of), argMax(source, as_of), 1
    FROM imported_prices FINAL
    WHERE toUnixTimestamp(as_of) <= {cutoff:UInt64}
      AND ({all:UInt8} = 1 OR condition_id IN {conditions:Array(String)})
    GROUP BY condition_id, outcome_index
)
GROUP BY condition_id, outcome_index
