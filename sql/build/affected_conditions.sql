-- Conditions whose derived rows may change because of rows in a block range. Read without FINAL on purpose, so a
-- retracted (reorged) row still marks its condition. NegRisk questions and conversions touch every condition of
-- their market (conversion attribution depends on the market's question list). An FPMM's trades, funding and
-- creation touch its condition (conditionIds[0]). And a touched condition of a negRisk market with any conversion
-- touches every condition of that market: a conversion's YES legs are bought at a price made of the NO legs'
-- average costs on the market's other questions, so the book of one question cannot be walked again without the
-- others' rows (a sale today of a YES token a conversion made weeks ago was priced from NO averages of 0 before;
-- tests/property/test_avgcost_sql.py and, after a reorg re-fetch, tests/integration/test_reorg_refetch.py).
WITH touched AS
(
SELECT DISTINCT condition_id FROM
(
    SELECT m.condition_id AS condition_id
    FROM (SELECT DISTINCT token_id FROM trades_raw
          WHERE block_number BETWEEN {from_block:UInt64} AND {to_block:UInt64}) AS t
    INNER JOIN token_map AS m ON t.token_id = m.token_id
    UNION ALL
    SELECT m.condition_id
    FROM (SELECT DISTINCT token_id FROM erc1155_transfers
          WHERE block_number BETWEEN {from_block:UInt64} AND {to_block:UInt64}) AS e
    INNER JOIN token_map AS m ON e.token_id = m.token_id
    UNION ALL
    SELECT condition_id FROM ctf_actions WHERE block_number BETWEEN {from_block:UInt64} AND {to_block:UInt64}
    UNION ALL
    SELECT condition_id FROM condition_preparations
    WHERE block_number BETWEEN {from_block:UInt64} AND {to_block:UInt64}
    UNION ALL
    SELECT condition_id FROM condition_resolutions
    WHERE block_number BETWEEN {from_block:UInt64} AND {to_block:UInt64}
    UNION ALL
    SELECT q.condition_id
    FROM neg_risk_questions AS q
    WHERE q.market_id IN (
        SELECT market_id FROM neg_risk_conversions
        WHERE block_number BETWEEN {from_block:UInt64} AND {to_block:UInt64}
        UNION ALL
        SELECT market_id FROM neg_risk_questions
        WHERE block_number BETWEEN {from_block:UInt64} AND {to_block:UInt64})
    UNION ALL
    SELECT lower(condition_ids[1]) FROM fpmm_creations
    WHERE length(condition_ids) > 0 AND fpmm IN (
        SELECT fpmm FROM fpmm_trades WHERE block_number BETWEEN {from_block:UInt64} AND {to_block:UInt64}
        UNION ALL
        SELECT fpmm FROM fpmm_funding WHERE block_number BETWEEN {from_block:UInt64} AND {to_block:UInt64}
        UNION ALL
        SELECT fpmm FROM fpmm_creations WHERE block_number BETWEEN {from_block:UInt64} AND {to_block:UInt64})
)
)
SELECT condition_id FROM touched
UNION DISTINCT
SELECT q.condition_id
FROM neg_risk_questions AS q
WHERE q.market_id IN (SELECT market_id FROM neg_risk_questions WHERE condition_id IN (SELECT condition_id FROM touched))
  AND q.market_id IN (SELECT market_id FROM neg_risk_conversions)
