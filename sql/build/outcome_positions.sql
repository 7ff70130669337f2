-- Net shares per (wallet, condition, outcome) from ERC1155 movements only. Transfers already carry fills (with share
-- fees), splits, merges, redemptions, conversions and wallet-to-wallet moves, so nothing is added from the other
-- tables (that would count twice). Each transfer is one credit to `to` and one debit from `from`; contracts, the
-- legacy AMM's FPMMs (fpmm_creations: they hold the pools' shares) and 0x0 are not wallets. Tokens missing from token_map are skipped. {all:UInt8} = 0 limits to {conditions}: that filter
-- is a PREWHERE, applied before FINAL collapses versions, which is sound because every version of a log carries the
-- same token (and keeps an incremental rebuild from merging the whole table); _deleted is tested after FINAL.
INSERT INTO outcome_positions_v2_new (wallet, condition_id, outcome_index, net_shares)
SELECT side.1 AS wallet, m.condition_id AS condition_id, m.outcome_index AS outcome_index, sum(side.2) AS net_shares
FROM
(
    SELECT token_id, arrayJoin([(to_addr, toInt128(value)), (from_addr, -toInt128(value))]) AS side
    FROM erc1155_transfers FINAL
    PREWHERE {all:UInt8} = 1
          OR token_id IN (SELECT token_id FROM token_map WHERE condition_id IN {conditions:Array(String)})
    WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}
) AS t
INNER JOIN (SELECT token_id, condition_id, outcome_index FROM token_map FINAL) AS m ON t.token_id = m.token_id
WHERE side.1 NOT IN {excluded:Array(String)}
  AND side.1 NOT IN (SELECT fpmm FROM fpmm_creations FINAL WHERE _deleted = 0)
  AND ({all:UInt8} = 1 OR m.condition_id IN {conditions:Array(String)})
GROUP BY wallet, condition_id, outcome_index
