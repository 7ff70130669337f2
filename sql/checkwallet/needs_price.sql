-- check-wallet: open conditions in which one of {wallets} holds shares (cash-flow) or tracked shares (average
-- cost), unless imported prices cover every outcome, with the newest fill block already ingested for their tokens
-- (0 when none): the fills that price them lie between that block and the end of the range.
SELECT h.condition_id, max(ifNull(f.b, 0))
FROM
(
    SELECT DISTINCT condition_id FROM
    (
        SELECT condition_id FROM outcome_positions_v2 WHERE wallet IN {wallets:Array(String)} AND net_shares != 0
        UNION ALL
        SELECT condition_id FROM wallet_token_avgcost WHERE wallet IN {wallets:Array(String)} AND amount != 0
    )
    WHERE condition_id NOT IN (SELECT condition_id FROM winning_index)
) AS h
LEFT JOIN (SELECT condition_id, count() AS n FROM token_map FINAL GROUP BY condition_id) AS o
    ON o.condition_id = h.condition_id
LEFT JOIN (SELECT condition_id, uniqExact(outcome_index) AS n FROM imported_prices FINAL GROUP BY condition_id) AS i
    ON i.condition_id = h.condition_id
LEFT JOIN
(
    SELECT m.condition_id AS condition_id, max(t.block_number) AS b
    FROM (SELECT token_id, block_number FROM trades_raw FINAL WHERE _deleted = 0 AND shares > 0) AS t
    INNER JOIN (SELECT token_id, condition_id FROM token_map FINAL) AS m ON m.token_id = t.token_id
    GROUP BY m.condition_id
) AS f ON f.condition_id = h.condition_id
WHERE ifNull(i.n, 0) < ifNull(o.n, 1)
GROUP BY h.condition_id
