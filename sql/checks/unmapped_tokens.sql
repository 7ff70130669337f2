-- Fills and ERC1155 transfers up to {cutoff} whose token is not in token_map (their market's preparation was
-- never ingested): the build would drop them silently. One row: fills, transfers, distinct tokens, and the first
-- five such tokens in chain order (as decimal strings). Empty result sets give zeros.
SELECT sum(f) AS fills, sum(t) AS transfers, count() AS tokens,
       arraySlice(arrayMap(x -> x.2, arraySort(groupArray((first, tok)))), 1, 5) AS first_tokens
FROM
(
    SELECT tok, countIf(kind = 'fill') AS f, countIf(kind = 'transfer') AS t, min((block_number, log_index)) AS first
    FROM
    (
        SELECT 'fill' AS kind, toString(token_id) AS tok, block_number, log_index
        FROM trades_raw FINAL
        WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}
          AND token_id NOT IN (SELECT token_id FROM token_map)
        UNION ALL
        SELECT 'transfer', toString(token_id), block_number, log_index
        FROM erc1155_transfers FINAL
        WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}
          AND token_id NOT IN (SELECT token_id FROM token_map)
    )
    GROUP BY tok
)
