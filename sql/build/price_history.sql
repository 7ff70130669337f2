-- Marks over time (schema 151_price_history.sql) for every condition ({all:UInt8} = 1) or {conditions}, fills up to
-- {cutoff}: market_prices' rule (sql/queries/market_prices.sql) per hour instead of once, so the price of an
-- outcome at an hour boundary T, its latest row with t <= T, is what market_prices would say with cutoff T. Per hour
-- (t = its end): a binary condition's latest fill prices both outcomes (p, 1 - p); other conditions each outcome's
-- latest fill; price = collateral / shares, floored, at most 1. Imported prices go in at the end of the hour they
-- are dated in, source 'import' (the reader lets them override fills from then on).
INSERT INTO price_history_new (condition_id, outcome_index, t, price_micros, source)
WITH fills AS
(
    SELECT m.condition_id AS condition_id, m.outcome_index AS outcome_index, m.n AS n,
           t.block_number AS block_number, t.log_index AS log_index,
           toDateTime(intDiv(toUnixTimestamp(t.block_time) + 3599, 3600) * 3600, 'UTC') AS hour_end,
           least(intDivOrZero(toUInt256(t.usdc) * 1000000, toUInt256(t.shares)), 1000000) AS px
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
SELECT condition_id, toUInt8(o), hour_end, toUInt32(if(o = last.1, last.2, 1000000 - last.2)), 'fill'
FROM
(
    SELECT condition_id, hour_end, argMax((outcome_index, px), (block_number, log_index)) AS last
    FROM fills WHERE n = 2 GROUP BY condition_id, hour_end
)
ARRAY JOIN [0, 1] AS o
UNION ALL
SELECT condition_id, outcome_index, hour_end, toUInt32(argMax(px, (block_number, log_index))), 'fill'
FROM fills WHERE n != 2 GROUP BY condition_id, outcome_index, hour_end
UNION ALL
SELECT condition_id, outcome_index, toDateTime(intDiv(toUnixTimestamp(as_of) + 3599, 3600) * 3600, 'UTC') AS hour_end,
       argMax(price_micros, as_of), 'import'
FROM imported_prices FINAL
WHERE toUnixTimestamp(as_of) <= {cutoff:UInt64} AND ({all:UInt8} = 1 OR condition_id IN {conditions:Array(String)})
GROUP BY condition_id, outcome_index, hour_end
