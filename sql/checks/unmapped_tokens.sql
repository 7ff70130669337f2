-- Fills and ERC1155 transfers up to {cutoff} whose token is not in token_map (their market's preparation was
-- never ingested): the build would drop them silently. One row: fills, transfers, distinct tokens, and the first
-- five such tokens in chain order (as decimal strings). Empty result sets give zeros. The token test is a PREWHERE,
-- before FINAL (sound: every version of a log carries the same token): a build reads the token column of the raw
-- tables, not all their columns merged (a third of an incremental rebuild's time at 5M fills otherwise).
SELECT sum(f) AS fills, sum(t) AS transfers, count() AS tokens,
       arraySlice(arrayMap(x -> x.2, arraySort(groupArray((first, tok)))), 1, 5) AS first_tokens
FROM
(
    SELECT tok, countIf(kind = 'fill') AS f, countIf(kind = 'transfer') AS t, min((block_number, log_index)) AS first
    FROM
    (
        SELECT 'fill' AS kind, toString(token_id) AS tok, block_number, log_index
        FROM trades_raw FINAL
        PREWHERE token_id NOT IN (SELECT token_id FROM token_map)
        WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}
        UNION ALL
        SELECT 'transfer', toString(token_id), block_number, log_index
        FROM erc1155_transfers FINAL
        PREWHERE token_id NOT IN (SELECT token_id FROM token_map)
        WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}
    )
    GROUP BY tok
)
