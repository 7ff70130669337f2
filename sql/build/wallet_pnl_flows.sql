-- The P&L history's flows (schema 150_wallet_pnl_flows.sql) per (wallet, condition, outcome, hour end), up to
-- {cutoff}: three parts, each the same attribution as the table it mirrors, with each row's block_time kept and
-- bucketed to the end of its hour (intDiv(time + 3599, 3600) * 3600, so block_time <= t):
--   shares: ERC1155 movements exactly as build/outcome_positions.sql (credit to, debit from; contracts, FPMMs, 0x0
--           and unmapped tokens left out);
--   cash:   build/trade_cashflows.sql's five sources (fills net of fees, fee refunds, CTF/adapter splits, merges
--           and redemptions, negRisk conversion shares, FPMM collateral), booked on outcome 0;
--   volume: the wallet's fills' collateral (usdc, the maker side as trade_cashflows counts fills), per outcome.
-- The cash part repeats trade_cashflows.sql's attribution with the time kept: tests/integration/test_history.py
-- checks that the flows sum to outcome_positions_v2 and trade_cashflows_v3 on every (wallet, condition), so an
-- edit of one without the other fails. {all:UInt8} = 0 limits to {conditions} (as a PREWHERE before FINAL where
-- the mirrored files do), for the incremental build. One aggregation over every source row (no per-part GROUP BY
-- first), and the fills read once for their cash (outcome 0) and volume (their outcome): issue 22.
INSERT INTO wallet_pnl_flows_new (wallet, condition_id, outcome_index, t, shares, cash, volume)
SELECT wallet, condition_id, outcome_index, t, sum(shares), sum(cash), sum(volume)
FROM
(
    SELECT side.1 AS wallet, m.condition_id AS condition_id, m.outcome_index AS outcome_index,
           toDateTime(intDiv(toUnixTimestamp(x.block_time) + 3599, 3600) * 3600, 'UTC') AS t,
           side.2 AS shares, toInt128(0) AS cash, toInt128(0) AS volume
    FROM
    (
        SELECT token_id, block_time, arrayJoin([(to_addr, toInt128(value)), (from_addr, -toInt128(value))]) AS side
        FROM erc1155_transfers FINAL
        PREWHERE {all:UInt8} = 1
              OR token_id IN (SELECT token_id FROM token_map WHERE condition_id IN {conditions:Array(String)})
        WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}
    ) AS x
    INNER JOIN (SELECT token_id, condition_id, outcome_index FROM token_map FINAL) AS m ON x.token_id = m.token_id
    WHERE side.1 NOT IN {excluded:Array(String)}
      AND side.1 NOT IN (SELECT fpmm FROM fpmm_creations FINAL WHERE _deleted = 0)
      AND ({all:UInt8} = 1 OR m.condition_id IN {conditions:Array(String)})

    UNION ALL

    SELECT f.wallet, m.condition_id, e.1,
           toDateTime(intDiv(toUnixTimestamp(f.block_time) + 3599, 3600) * 3600, 'UTC'),
           toInt128(0), e.2, e.3
    FROM (SELECT wallet, token_id, side, usdc, fee_usdc, block_time FROM trades_raw FINAL
          PREWHERE {all:UInt8} = 1
                OR token_id IN (SELECT token_id FROM token_map WHERE condition_id IN {conditions:Array(String)})
          WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}) AS f
    INNER JOIN (SELECT token_id, condition_id, outcome_index FROM token_map FINAL) AS m ON f.token_id = m.token_id
    ARRAY JOIN CAST(if(m.outcome_index = 0,
                       [(0, if(f.side = 'BUY', -toInt128(f.usdc), toInt128(f.usdc)) - toInt128(f.fee_usdc),
                         toInt128(f.usdc))],
                       [(m.outcome_index, 0, toInt128(f.usdc)),
                        (0, if(f.side = 'BUY', -toInt128(f.usdc), toInt128(f.usdc)) - toInt128(f.fee_usdc), 0)]),
                    'Array(Tuple(UInt8, Int128, Int128))') AS e
    WHERE f.wallet != '' AND f.wallet NOT IN {excluded:Array(String)}
      AND f.wallet NOT IN (SELECT fpmm FROM fpmm_creations FINAL WHERE _deleted = 0)

    UNION ALL

    SELECT wallet, condition_id, toUInt8(0), toDateTime(intDiv(toUnixTimestamp(bt) + 3599, 3600) * 3600, 'UTC'),
           toInt128(0), cash, toInt128(0)
    FROM
    (
        SELECT r.to_addr AS wallet, m.condition_id AS condition_id,
               if(r.token_id = 0, toInt128(r.refund), toInt128(0)) AS cash, r.block_time AS bt
        FROM
        (
            SELECT tx_hash, order_hash, to_addr, token_id, refund, block_time
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
               a.block_time
        FROM
        (
            SELECT tx_hash, stakeholder, condition_id, action, amount, payout, block_time
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
               toInt128(intDiv(c.total, c.k) + if(c.rank <= c.total % c.k, 1, 0)), c.block_time
        FROM
        (
            SELECT tx_hash, stakeholder, market_id, qi AS question_index, rank, total, k, block_time
            FROM
            (
                SELECT tx_hash, stakeholder, market_id, block_time, toUInt256(amount) * (bitCount(index_set) - 1) AS total,
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

        SELECT f.who, k.condition_id, f.cash, f.bt
        FROM
        (
            SELECT fpmm, trader AS who, if(side = 'BUY', -toInt128(usdc), toInt128(usdc)) AS cash, block_time AS bt
            FROM fpmm_trades FINAL
            PREWHERE {all:UInt8} = 1 OR fpmm IN (SELECT fpmm FROM fpmm_creations
                                                 WHERE lower(condition_ids[1]) IN {conditions:Array(String)})
            WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}
            UNION ALL
            SELECT fpmm, funder, if(action = 'add', -toInt128(arrayMax(arrayPushBack(amounts, toUInt128(0)))),
                                    toInt128(collateral_removed)), block_time
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
)
GROUP BY wallet, condition_id, outcome_index, t
