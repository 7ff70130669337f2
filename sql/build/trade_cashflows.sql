-- Net collateral per (wallet, condition), micro-USDC. Fills are credited to the OrderFilled maker only (trades_raw
-- has one row per OrderFilled): BUY -usdc - fee_usdc, SELL +usdc - fee_usdc; a FeeModule refund (fee_refunds, joined
-- to its order by tx and order hash) gives collateral back (+refund, fees - refund) or, in shares, lowers
-- fee_shares (the shares themselves arrive by transfer, counted in positions). CTF/adapter splits -amount, merges
-- +amount, redemptions +payout; legs whose stakeholder is an exchange or the NegRiskAdapter are internal and skipped.
-- A V2 collateral adapter ({adapters}) emits no event of its own: its split/merge/redeem/convert belongs to the one
-- non-contract address on the other side of that adapter's share transfers in the same transaction (for the same
-- condition; for a conversion, any of the market's tokens); with no such address (an exchange's MINT routed
-- through the adapter) the leg is internal. A negRisk conversion returns amount * (popcount(index_set) - 1),
-- shared by the k = popcount(index_set) questions whose NO was given up (the collateral comes from them): each gets
-- floor(total / k), the first (total mod k) of them in question order one micro-USDC more, so the shares sum to
-- the total exactly and no question's row carries another question's cash.
-- Legacy AMM (FPMM) collateral, only for FPMMs the known factory created (fpmm_creations: the decoder reads
-- creations from the factory's address only), booked on the FPMM's
-- conditionIds[0]: a buy pays investmentAmount (fee included), a sell receives returnAmount, adding funding pays
-- the largest amountsAdded (the deposit), removing it receives collateralRemovedFromFeePool (harness.pnl.oracle.fpmm_cash);
-- the shares come by ERC1155 transfer (outcome_positions), and an FPMM, a contract, is never a wallet.
-- {all:UInt8} = 0 limits to {conditions}, as a PREWHERE before FINAL (sound: all versions of a log share token,
-- condition and addresses); _deleted is tested after FINAL.
INSERT INTO trade_cashflows_v3_new (wallet, condition_id, cashflow, fees, fee_shares)
SELECT wallet, condition_id, sum(cash) AS cashflow, sum(fee) AS fees, sum(fee_sh) AS fee_shares
FROM
(
    SELECT t.wallet AS wallet, m.condition_id AS condition_id,
           if(t.side = 'BUY', -toInt128(t.usdc), toInt128(t.usdc)) - toInt128(t.fee_usdc) AS cash,
           toInt128(t.fee_usdc) AS fee, toInt128(t.fee_shares) AS fee_sh
    FROM (SELECT * FROM trades_raw FINAL
          PREWHERE {all:UInt8} = 1
                OR token_id IN (SELECT token_id FROM token_map WHERE condition_id IN {conditions:Array(String)})
          WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}) AS t
    INNER JOIN (SELECT token_id, condition_id FROM token_map FINAL) AS m ON t.token_id = m.token_id

    UNION ALL

    SELECT r.to_addr, m.condition_id, if(r.token_id = 0, toInt128(r.refund), toInt128(0)),
           if(r.token_id = 0, -toInt128(r.refund), toInt128(0)), if(r.token_id = 0, toInt128(0), -toInt128(r.refund))
    FROM
    (
        SELECT tx_hash, order_hash, to_addr, token_id, refund
        FROM fee_refunds FINAL
        WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}
    ) AS r
    INNER JOIN
    (
        SELECT tx_hash, order_hash, any(token_id) AS token_id
        FROM trades_raw FINAL
        PREWHERE tx_hash IN (SELECT tx_hash FROM fee_refunds)
        WHERE _deleted = 0
        GROUP BY tx_hash, order_hash
    ) AS o ON r.tx_hash = o.tx_hash AND r.order_hash = o.order_hash
    INNER JOIN (SELECT token_id, condition_id FROM token_map FINAL) AS m ON o.token_id = m.token_id

    UNION ALL

    SELECT if(a.stakeholder IN {adapters:Array(String)}, u.user, a.stakeholder), a.condition_id,
           multiIf(a.action = 'split', -toInt128(a.amount), a.action = 'merge', toInt128(a.amount),
                   toInt128(a.payout)),
           toInt128(0), toInt128(0)
    FROM
    (
        SELECT tx_hash, stakeholder, condition_id, action, amount, payout
        FROM ctf_actions FINAL
        PREWHERE {all:UInt8} = 1 OR condition_id IN {conditions:Array(String)}
        WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}
    ) AS a
    LEFT JOIN
    (
        SELECT x.tx_hash AS tx_hash, m.condition_id AS condition_id, min(x.user) AS user
        FROM
        (
            SELECT tx_hash, token_id, if(from_addr IN {adapters:Array(String)}, to_addr, from_addr) AS user
            FROM erc1155_transfers FINAL
            PREWHERE from_addr IN {adapters:Array(String)} OR to_addr IN {adapters:Array(String)}
            WHERE _deleted = 0
        ) AS x
        INNER JOIN (SELECT token_id, condition_id FROM token_map FINAL) AS m ON x.token_id = m.token_id
        WHERE x.user NOT IN {excluded:Array(String)}
        GROUP BY x.tx_hash, m.condition_id
    ) AS u ON a.tx_hash = u.tx_hash AND a.condition_id = u.condition_id

    UNION ALL

    SELECT if(c.stakeholder IN {adapters:Array(String)}, cu.user, c.stakeholder), q.condition_id,
           toInt128(intDiv(c.total, c.k) + if(c.rank <= c.total % c.k, 1, 0)), toInt128(0), toInt128(0)
    FROM
    (
        SELECT tx_hash, stakeholder, market_id, qi AS question_index, rank, total, k
        FROM
        (
            SELECT tx_hash, stakeholder, market_id, toUInt256(amount) * (bitCount(index_set) - 1) AS total,
                   toUInt256(bitCount(index_set)) AS k,
                   arrayFilter(i -> bitAnd(bitShiftRight(index_set, i), toUInt256(1)) = 1, range(256)) AS qs
            FROM neg_risk_conversions FINAL
            WHERE _deleted = 0 AND index_set > 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}
        )
        ARRAY JOIN qs AS qi, arrayEnumerate(qs) AS rank
    ) AS c
    LEFT JOIN
    (
        SELECT tx_hash, min(if(from_addr IN {adapters:Array(String)}, to_addr, from_addr)) AS user
        FROM erc1155_transfers FINAL
        PREWHERE from_addr IN {adapters:Array(String)} OR to_addr IN {adapters:Array(String)}
        WHERE _deleted = 0 AND if(from_addr IN {adapters:Array(String)}, to_addr, from_addr)
                               NOT IN {excluded:Array(String)}
        GROUP BY tx_hash
    ) AS cu ON c.tx_hash = cu.tx_hash
    INNER JOIN
    (
        SELECT market_id, question_index, any(condition_id) AS condition_id
        FROM neg_risk_questions FINAL WHERE _deleted = 0
        GROUP BY market_id, question_index
    ) AS q ON c.market_id = q.market_id AND c.question_index = q.question_index

    UNION ALL

    SELECT f.who, k.condition_id, f.cash, toInt128(0), toInt128(0)
    FROM
    (
        SELECT fpmm, trader AS who, if(side = 'BUY', -toInt128(usdc), toInt128(usdc)) AS cash
        FROM fpmm_trades FINAL
        PREWHERE {all:UInt8} = 1 OR fpmm IN (SELECT fpmm FROM fpmm_creations
                                             WHERE lower(condition_ids[1]) IN {conditions:Array(String)})
        WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}
        UNION ALL
        SELECT fpmm, funder, if(action = 'add', -toInt128(arrayMax(arrayPushBack(amounts, toUInt128(0)))),
                                toInt128(collateral_removed))
        FROM fpmm_funding FINAL
        PREWHERE {all:UInt8} = 1 OR fpmm IN (SELECT fpmm FROM fpmm_creations
                                             WHERE lower(condition_ids[1]) IN {conditions:Array(String)})
        WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}
    ) AS f
    INNER JOIN
    (
        SELECT fpmm, argMin(lower(condition_ids[1]), (block_number, log_index)) AS condition_id
        FROM fpmm_creations FINAL
        WHERE _deleted = 0 AND length(condition_ids) > 0
        GROUP BY fpmm
    ) AS k ON f.fpmm = k.fpmm
)
WHERE wallet != '' AND wallet NOT IN {excluded:Array(String)}
  AND wallet NOT IN (SELECT fpmm FROM fpmm_creations FINAL WHERE _deleted = 0)
  AND ({all:UInt8} = 1 OR condition_id IN {conditions:Array(String)})
GROUP BY wallet, condition_id
