-- Markets whose Gamma token ids (market_metadata.token_ids, by outcome index) differ from the ids token_map holds
-- for their condition (derived on chain from the condition and collateral, by outcome index). Only markets with
-- token ids whose condition token_map knows are compared; empty = every one agrees. Ids as decimal strings.
SELECT m.condition_id AS condition_id, m.gamma AS gamma, t.derived AS derived
FROM
(
    SELECT condition_id, arrayMap(x -> toString(x), token_ids) AS gamma
    FROM market_metadata FINAL
    WHERE length(token_ids) > 0
) AS m
INNER JOIN
(
    SELECT condition_id, arrayMap(x -> toString(x.2), arraySort(groupArray((outcome_index, token_id)))) AS derived
    FROM token_map FINAL
    WHERE condition_id IN (SELECT condition_id FROM market_metadata)
    GROUP BY condition_id
) AS t ON t.condition_id = m.condition_id
WHERE m.gamma != t.derived
ORDER BY condition_id
LIMIT {limit:UInt32}
