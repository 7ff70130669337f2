-- One wallet's non-zero outcome positions, whether their condition is resolved, and the current price of the
-- outcome when market_prices has one (NULL otherwise).
SELECT
    p.condition_id AS condition_id,
    p.outcome_index AS outcome_index,
    p.net_shares AS net_shares,
    p.condition_id IN (SELECT condition_id FROM winning_index) AS resolved,
    if(pr.condition_id = '', NULL, pr.price_micros) AS price_micros
FROM outcome_positions_v2 AS p
LEFT JOIN
(
    SELECT condition_id, outcome_index, price_micros
    FROM market_prices FINAL
) AS pr ON pr.condition_id = p.condition_id AND pr.outcome_index = p.outcome_index
WHERE p.wallet = {wallet:String} AND p.net_shares != 0
ORDER BY condition_id, outcome_index
