-- One wallet's activity, newest first, {limit} rows before the cursor ({before_block}, {before_log},
-- {before_sub}) (block, log index, sub index; 2^63 = from the newest): fills (OrderFilled as maker, and FPMM
-- buys / sells), CTF splits, merges and redemptions (as stakeholder), negRisk conversions, and plain transfers of
-- shares between the wallet and another address that is not a protocol contract ({excluded}) or an FPMM (the
-- share moves of fills, splits and the like are not repeated). Each source is read with the wallet test as a
-- PREWHERE before FINAL (sound: every version of a log names the same addresses), which the bloom-filter indexes
-- (schema 152-156) turn into a read of the granules holding the wallet. Flows a V2 collateral adapter routed for
-- the wallet are booked to the adapter by the contracts' events, so they do not show here.
SELECT type, side, toUInt32(toUnixTimestamp(block_time)) AS time, block_number, log_index, sub_index, tx_hash,
       condition_id, outcome_index, market_id, shares, price, usdc, fee
FROM
(
    SELECT 'fill' AS type, toString(t.side) AS side, t.block_time AS block_time, t.block_number AS block_number,
           t.log_index AS log_index, toUInt32(0) AS sub_index, t.tx_hash AS tx_hash, m.condition_id AS condition_id,
           toNullable(m.outcome_index) AS outcome_index, '' AS market_id, toInt128(t.shares) AS shares,
           toNullable(toInt128(least(intDivOrZero(t.usdc * 1000000, t.shares), 1000000))) AS price,
           toInt128(t.usdc) AS usdc, toInt128(t.fee_usdc) AS fee
    FROM (SELECT * FROM trades_raw FINAL PREWHERE wallet = {wallet:String} WHERE _deleted = 0
          AND (block_number, log_index) < ({before_block:UInt64}, {before_log:UInt64})) AS t
    LEFT JOIN (SELECT token_id, condition_id, outcome_index FROM token_map FINAL) AS m ON m.token_id = t.token_id

    UNION ALL

    SELECT 'fill', toString(x.side), x.block_time, x.block_number, x.log_index, 0, x.tx_hash, k.condition_id,
           toNullable(x.outcome_index), '', toInt128(x.shares),
           toNullable(toInt128(least(intDivOrZero(x.usdc * 1000000, x.shares), 1000000))),
           toInt128(x.usdc), toInt128(x.fee)
    FROM (SELECT * FROM fpmm_trades FINAL PREWHERE trader = {wallet:String} WHERE _deleted = 0
          AND (block_number, log_index) < ({before_block:UInt64}, {before_log:UInt64})) AS x
    LEFT JOIN (SELECT fpmm, argMin(lower(condition_ids[1]), (block_number, log_index)) AS condition_id
               FROM fpmm_creations FINAL WHERE _deleted = 0 AND length(condition_ids) > 0 GROUP BY fpmm) AS k
        ON k.fpmm = x.fpmm

    UNION ALL

    SELECT multiIf(action = 'split', 'split', action = 'merge', 'merge', 'redemption'), '', block_time,
           block_number, log_index, 0, tx_hash, condition_id, NULL, '',
           toInt128(if(action = 'redeem', arraySum(amounts), amount)), NULL,
           toInt128(if(action = 'redeem', payout, amount)), toInt128(0)
    FROM ctf_actions FINAL PREWHERE stakeholder = {wallet:String}
    WHERE _deleted = 0 AND (block_number, log_index) < ({before_block:UInt64}, {before_log:UInt64})

    UNION ALL

    SELECT 'conversion', '', block_time, block_number, log_index, 0, tx_hash, '', NULL, market_id,
           toInt128(amount), NULL, toInt128(toUInt256(amount) * (bitCount(index_set) - 1)), toInt128(0)
    FROM neg_risk_conversions FINAL PREWHERE stakeholder = {wallet:String}
    WHERE _deleted = 0 AND (block_number, log_index) < ({before_block:UInt64}, {before_log:UInt64})

    UNION ALL

    SELECT 'transfer', if(x.to_addr = {wallet:String}, 'IN', 'OUT'), x.block_time, x.block_number, x.log_index,
           x.sub_index, x.tx_hash, m.condition_id, toNullable(m.outcome_index), '',
           if(x.to_addr = {wallet:String}, toInt128(x.value), -toInt128(x.value)), NULL, toInt128(0), toInt128(0)
    FROM (SELECT * FROM erc1155_transfers FINAL PREWHERE from_addr = {wallet:String} OR to_addr = {wallet:String}
          WHERE _deleted = 0 AND from_addr != to_addr
            AND (block_number, log_index, sub_index) < ({before_block:UInt64}, {before_log:UInt64}, {before_sub:UInt64})
            AND from_addr NOT IN {excluded:Array(String)} AND to_addr NOT IN {excluded:Array(String)}
            AND from_addr NOT IN (SELECT fpmm FROM fpmm_creations) AND to_addr NOT IN (SELECT fpmm FROM fpmm_creations)
         ) AS x
    LEFT JOIN (SELECT token_id, condition_id, outcome_index FROM token_map FINAL) AS m ON m.token_id = x.token_id
)
ORDER BY block_number DESC, log_index DESC, sub_index DESC
LIMIT {limit:UInt32}
