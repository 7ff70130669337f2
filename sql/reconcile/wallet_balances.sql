-- Net ERC1155 balance per (wallet, token) at block {block}, from the raw transfers alone: what balanceOf(wallet,
-- token) on the node must equal when ingestion is complete and correct. Only the given wallets' rows are read: the
-- address filter is a PREWHERE before FINAL, sound because every version of a log carries the same addresses.
SELECT side.1 AS wallet, token_id, sum(side.2) AS balance
FROM
(
    SELECT token_id, arrayJoin([(to_addr, toInt256(value)), (from_addr, -toInt256(value))]) AS side
    FROM erc1155_transfers FINAL
    PREWHERE to_addr IN {wallets:Array(String)} OR from_addr IN {wallets:Array(String)}
    WHERE _deleted = 0 AND block_number <= {block:UInt64}
)
WHERE side.1 IN {wallets:Array(String)}
GROUP BY wallet, token_id
