-- Average-cost book per (wallet, token), Polymarket's pnl-subgraph rules, up to {cutoff}; harness.pnl.avgcost.avg_cost_pnl
-- is the oracle. Every event of a (wallet, token) becomes (kind, amount, price, block, log index) and one arrayFold
-- walks them in chain order over (amount, avg, realized, clamped), dividing like graph-ts (intDiv truncates;
-- intDivOrZero where the divisor is 0 only in a branch not taken, as ClickHouse may evaluate both):
--   1 buy   avg = (avg * amount + price * amt) / (amount + amt), amount += amt      (fills BUY, splits at 1/n)
--   2 sell  adj = min(amt, amount), realized += adj * (price - avg) / 1e6, amount -= adj, clamped += amt - adj
--           (fills SELL, merges at 1/n, adapter redemptions of their given amounts at the payout share)
--   3 sell at its own average (negRisk conversion: the NO legs, 0 realized)
--   4 sell the whole tracked amount at the payout share (CTF redemption, once the resolution came before it)
--   5 buy at the conversion's YES price (the YES legs)
-- The YES price needs the NO legs' averages at the conversion, so the NO tokens are folded once first (kind 3
-- records the average it sold at), then yesPrice = (noPrice * noCount - 1e6 * (noCount - 1)) / (questions -
-- noCount), noPrice = sum of NO averages / noCount, questions = the market's questions prepared before it.
-- {all:UInt8} = 0 (incremental) recomputes only the tokens of {conditions} (build/reuse_parts.sql and
-- reuse_delete.sql carry the rest over): affected_conditions already widens a negRisk market with a conversion in
-- range to all its questions. That filter is a PREWHERE, before FINAL (sound: all versions of a log share token and
-- condition), so an incremental rebuild does not merge the whole fill table.
-- Attribution, the one place it is decided here: a fill belongs to its maker, a split / merge / redemption to its
-- stakeholder, a conversion to its stakeholder; {excluded} addresses (contracts) are never wallets. When the
-- stakeholder is a V2 collateral adapter ({adapters}), the flow belongs to the non-contract address on the other side
-- of the adapter's share transfers in the same transaction (per condition; for a conversion, per transaction), as
-- in build/trade_cashflows.sql; with no such address the leg is internal.
-- Legacy AMM (harness.pnl.avgcost._fpmm, the pnl-subgraph's FixedProductMarketMakerMapping), for FPMMs of fpmm_creations
-- on their conditionIds[0], binary only: FPMMBuy / FPMMSell buy / sell at usdc * 1e6 / shares; funding added buys
-- the shares sent back at the other side's share of amountsAdded, and the LP shares (token = the FPMM address as a
-- number, outcome_index 255: never marked, so valued at 0) at (max amountsAdded - those shares' cost) / minted;
-- funding removed buys both amountsRemoved at the pool price and sells the burnt LP shares at
-- (collateralRemovedFromFeePool - those tokens' cost) / burnt. FPMMs are never wallets.
INSERT INTO wallet_token_avgcost_new
    (wallet, token_id, condition_id, outcome_index, amount, avg_price, realized, clamped)
WITH
    tm AS (SELECT token_id, condition_id, outcome_index FROM token_map FINAL),
    ntok AS (SELECT condition_id, toInt256(count()) AS n FROM token_map FINAL GROUP BY condition_id),
    fpmm_set AS (SELECT fpmm FROM fpmm_creations FINAL WHERE _deleted = 0),
    fpmm_k AS
    (
        SELECT fpmm, argMin(lower(condition_ids[1]), (block_number, log_index)) AS condition_id,
               reinterpretAsUInt256(reverse(unhex(substring(fpmm, 3)))) AS lp
        FROM fpmm_creations FINAL
        WHERE _deleted = 0 AND length(condition_ids) > 0
          AND ({all:UInt8} = 1 OR lower(condition_ids[1]) IN {conditions:Array(String)})
        GROUP BY fpmm
    ),
    ev_fpmm_trade AS
    (
        SELECT t.trader AS wallet, m.token_id AS token_id, t.block_number AS b, t.log_index AS l,
               toUInt8(if(t.side = 'BUY', 1, 2)) AS kind, toInt256(t.shares) AS amt,
               intDivOrZero(toInt256(t.usdc) * toInt256(1000000), toInt256(t.shares)) AS price
        FROM (SELECT * FROM fpmm_trades FINAL
              PREWHERE fpmm IN (SELECT fpmm FROM fpmm_k)
              WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64} AND shares > 0) AS t
        INNER JOIN fpmm_k AS k ON k.fpmm = t.fpmm
        INNER JOIN tm AS m ON m.condition_id = k.condition_id AND m.outcome_index = t.outcome_index
        WHERE t.trader NOT IN {excluded:Array(String)} AND t.trader NOT IN (SELECT fpmm FROM fpmm_set)
    ),
    fund AS
    (
        SELECT g.funder AS wallet, g.block_number AS b, g.log_index AS l, g.action = 'add' AS added, k.lp AS lp,
               m0.token_id AS t0, m1.token_id AS t1, toInt256(g.amounts[1]) AS a0, toInt256(g.amounts[2]) AS a1,
               toInt256(g.shares) AS sh, toInt256(g.collateral_removed) AS cr,
               -- funding added: the side sent back (o), its amount and price
               a0 > a1 AS o1, if(o1, a0 - a1, a1 - a0) AS back,
               intDivOrZero(if(o1, a0, a1) * toInt256(1000000), a0 + a1) AS back_price,
               -- funding removed: each outcome at the other side's share of the amounts
               intDivOrZero(a1 * toInt256(1000000), a0 + a1) AS p0,
               intDivOrZero(a0 * toInt256(1000000), a0 + a1) AS p1
        FROM (SELECT * FROM fpmm_funding FINAL
              PREWHERE fpmm IN (SELECT fpmm FROM fpmm_k)
              WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}) AS g
        INNER JOIN fpmm_k AS k ON k.fpmm = g.fpmm
        INNER JOIN tm AS m0 ON m0.condition_id = k.condition_id AND m0.outcome_index = 0
        INNER JOIN tm AS m1 ON m1.condition_id = k.condition_id AND m1.outcome_index = 1
        WHERE g.funder NOT IN {excluded:Array(String)} AND g.funder NOT IN (SELECT fpmm FROM fpmm_set)
          AND toInt256(g.amounts[1]) + toInt256(g.amounts[2]) > 0
    ),
    ev_fpmm AS
    (
        SELECT wallet, token_id, b, l, kind, amt, price FROM ev_fpmm_trade
        UNION ALL
        SELECT wallet, e.1 AS token_id, b, l, e.2 AS kind, e.3 AS amt, e.4 AS price
        FROM fund
        ARRAY JOIN CAST(if(added,
            arrayConcat([(if(o1, t1, t0), 1, back, back_price)],
                        if(sh > 0, [(lp, 1, sh, intDivOrZero((greatest(a0, a1) - intDiv(back * back_price,
                                                                                        toInt256(1000000)))
                                                             * toInt256(1000000), sh))], [])),
            arrayConcat([(t0, 1, a0, p0), (t1, 1, a1, p1)],
                        if(sh > 0, [(lp, 2, sh, intDivOrZero((cr - intDiv(p0 * a0, toInt256(1000000))
                                                                 - intDiv(p1 * a1, toInt256(1000000)))
                                                             * toInt256(1000000), sh))], []))),
            'Array(Tuple(UInt256, UInt8, Int256, Int256))') AS e
    ),
    adapter_legs AS
    (
        SELECT tx_hash, token_id, if(from_addr IN {adapters:Array(String)}, to_addr, from_addr) AS user
        FROM erc1155_transfers FINAL
        PREWHERE from_addr IN {adapters:Array(String)} OR to_addr IN {adapters:Array(String)}
        WHERE _deleted = 0 AND if(from_addr IN {adapters:Array(String)}, to_addr, from_addr)
                               NOT IN {excluded:Array(String)}
    ),
    adapter_users AS
    (
        SELECT x.tx_hash AS tx_hash, m.condition_id AS condition_id, min(x.user) AS user
        FROM adapter_legs AS x INNER JOIN tm AS m ON x.token_id = m.token_id
        GROUP BY x.tx_hash, m.condition_id
    ),
    adapter_tx_users AS (SELECT tx_hash, min(user) AS user FROM adapter_legs GROUP BY tx_hash),
    res AS
    (
        SELECT cid AS condition_id, argMin(payout_numerators, (block_number, log_index)) AS nums,
               min((block_number, log_index)) AS rpos
        FROM
        (
            SELECT if(startsWith(lower(condition_id), '0x'), lower(condition_id),
                      concat('0x', lower(condition_id))) AS cid, payout_numerators, block_number, log_index
            FROM condition_resolutions FINAL
            WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}
        )
        GROUP BY cid
    ),
    ev_fill AS
    (
        SELECT wallet, token_id, block_number AS b, log_index AS l, toUInt8(if(side = 'BUY', 1, 2)) AS kind,
               toInt256(shares) AS amt, intDivOrZero(toInt256(usdc) * toInt256(1000000), toInt256(shares)) AS price
        FROM trades_raw FINAL
        PREWHERE {all:UInt8} = 1
              OR token_id IN (SELECT token_id FROM token_map WHERE condition_id IN {conditions:Array(String)})
        WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64} AND shares > 0
          AND wallet NOT IN {excluded:Array(String)} AND token_id IN (SELECT token_id FROM tm)
    ),
    ev_ctf AS
    (
        SELECT a.who AS wallet, m.token_id AS token_id, a.block_number AS b, a.log_index AS l,
               toUInt8(multiIf(a.action = 'split', 1, a.action = 'merge', 2,
                               a.source = 'neg_risk_adapter' AND m.outcome_index < length(a.amounts), 2, 4)) AS kind,
               multiIf(a.action IN ('split', 'merge'), toInt256(a.amount),
                       a.source = 'neg_risk_adapter' AND m.outcome_index < length(a.amounts),
                       toInt256(a.amounts[m.outcome_index + 1]), toInt256(0)) AS amt,
               if(a.action IN ('split', 'merge'), intDivOrZero(toInt256(1000000), n.n),
                  intDivOrZero(toInt256(if(m.outcome_index < length(r.nums), r.nums[m.outcome_index + 1], 0))
                         * toInt256(1000000), toInt256(arraySum(r.nums)))) AS price
        FROM (SELECT c.source AS source, c.action AS action, c.amount AS amount, c.amounts AS amounts,
                     c.condition_id AS condition_id, c.block_number AS block_number, c.log_index AS log_index,
                     if(c.stakeholder IN {adapters:Array(String)}, u.user, c.stakeholder) AS who
              FROM (SELECT * FROM ctf_actions FINAL
                    PREWHERE {all:UInt8} = 1 OR condition_id IN {conditions:Array(String)}
                    WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}) AS c
              LEFT JOIN adapter_users AS u ON u.tx_hash = c.tx_hash AND u.condition_id = c.condition_id
              WHERE who != '' AND who NOT IN {excluded:Array(String)}
                AND who NOT IN (SELECT fpmm FROM fpmm_set)) AS a
        INNER JOIN tm AS m ON m.condition_id = a.condition_id
        INNER JOIN ntok AS n ON n.condition_id = a.condition_id
        LEFT JOIN res AS r ON r.condition_id = a.condition_id
        WHERE a.action IN ('split', 'merge')
           OR (a.action = 'redeem' AND r.condition_id != '' AND r.rpos < (a.block_number, a.log_index)
               AND arraySum(r.nums) > 0)
    ),
    conv_legs AS
    (
        -- every question of the market prepared before the conversion, with the conversion's leg on it
        SELECT c.stakeholder AS wallet, c.market_id AS market_id, c.b AS b, c.l AS l, toInt256(c.amount) AS amt,
               q.question_index AS i, count() OVER (PARTITION BY c.stakeholder, c.market_id, c.b, c.l) AS cnt,
               bitAnd(bitShiftRight(c.index_set, q.question_index), 1) = 1 AS is_no,
               q.condition_id AS qcid
        FROM (SELECT if(v.stakeholder IN {adapters:Array(String)}, u.user, v.stakeholder) AS stakeholder,
                     v.market_id AS market_id, v.index_set AS index_set, v.amount AS amount, v.b AS b, v.l AS l
              FROM (SELECT tx_hash, stakeholder, market_id, index_set, amount, block_number AS b, log_index AS l
                    FROM neg_risk_conversions FINAL
                    WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}
                      AND ({all:UInt8} = 1 OR market_id IN (SELECT market_id FROM neg_risk_questions
                                                            WHERE condition_id IN {conditions:Array(String)}))) AS v
              LEFT JOIN adapter_tx_users AS u ON u.tx_hash = v.tx_hash
              WHERE stakeholder != '' AND stakeholder NOT IN {excluded:Array(String)}) AS c
        INNER JOIN (SELECT market_id, question_index, argMin(condition_id, (block_number, log_index)) AS condition_id,
                           min((block_number, log_index)) AS qpos
                    FROM neg_risk_questions FINAL WHERE _deleted = 0
                    GROUP BY market_id, question_index) AS q ON q.market_id = c.market_id
        WHERE q.qpos < (c.b, c.l)
    ),
    legs AS
    (
        -- legs on questions 0 .. count-1 whose token exists: NO (outcome 1) sold, YES (outcome 0) bought
        SELECT g.wallet AS wallet, g.market_id AS market_id, g.b AS b, g.l AS l, g.amt AS amt, g.cnt AS cnt,
               g.is_no AS is_no, m.token_id AS token_id,
               countIf(g.is_no) OVER (PARTITION BY g.wallet, g.market_id, g.b, g.l) AS no_count
        FROM conv_legs AS g
        INNER JOIN tm AS m ON m.condition_id = g.qcid AND m.outcome_index = if(g.is_no, 1, 0)
        WHERE g.i < g.cnt
    ),
    ev_no AS
    (
        SELECT wallet, token_id, b, l, toUInt8(3) AS kind, amt, toInt256(0) AS price
        FROM legs WHERE is_no
    ),
    no_avgs AS
    (
        -- first pass over the NO tokens of conversions: the average each conversion sold at
        SELECT wallet, token_id, conv.1 AS b, conv.2 AS l, conv.3 AS avg
        FROM
        (
            SELECT wallet, token_id,
                   arrayFold((acc, e) -> if(e.1 = 1,
                       if(e.2 > 0, (acc.1 + e.2, intDivOrZero(acc.2 * acc.1 + e.3 * e.2, acc.1 + e.2), acc.3), acc),
                       (acc.1 - least(if(e.1 = 4, acc.1, e.2), acc.1), acc.2,
                        if(e.1 = 3, arrayPushBack(acc.3, (e.4, e.5, acc.2)), acc.3))),
                       arraySort(x -> (x.4, x.5), groupArray((kind, amt, price, b, l))),
                       CAST((0, 0, []), 'Tuple(Int256, Int256, Array(Tuple(UInt64, UInt32, Int256)))')).3 AS convs
            FROM
            (
                SELECT wallet, token_id, b, l, kind, amt, price FROM ev_fill
                UNION ALL SELECT wallet, token_id, b, l, kind, amt, price FROM ev_ctf
                UNION ALL SELECT wallet, token_id, b, l, kind, amt, price FROM ev_no
                UNION ALL SELECT wallet, token_id, b, l, kind, amt, price FROM ev_fpmm
            )
            WHERE (wallet, token_id) IN (SELECT wallet, token_id FROM ev_no)
            GROUP BY wallet, token_id
        )
        ARRAY JOIN convs AS conv
    ),
    yes_price AS
    (
        SELECT g.wallet AS wallet, g.market_id AS market_id, g.b AS b, g.l AS l,
               intDivOrZero(intDivOrZero(sum(a.avg), toInt256(any(g.no_count))) * toInt256(any(g.no_count))
                      - toInt256(1000000) * toInt256(any(g.no_count) - 1),
                      toInt256(any(g.cnt) - any(g.no_count))) AS price
        FROM legs AS g
        INNER JOIN no_avgs AS a ON a.wallet = g.wallet AND a.token_id = g.token_id AND a.b = g.b AND a.l = g.l
        WHERE g.is_no
        GROUP BY wallet, market_id, b, l
        HAVING any(g.cnt) > any(g.no_count)
    ),
    ev_yes AS
    (
        SELECT g.wallet AS wallet, g.token_id AS token_id, g.b AS b, g.l AS l, toUInt8(5) AS kind, g.amt AS amt,
               p.price AS price
        FROM legs AS g
        INNER JOIN yes_price AS p ON p.wallet = g.wallet AND p.market_id = g.market_id AND p.b = g.b AND p.l = g.l
        WHERE NOT g.is_no AND g.no_count > 0
    )
SELECT f.wallet, f.token_id, m.condition_id, m.outcome_index, f.st.1, f.st.2, f.st.3, f.st.4
FROM
(
    SELECT wallet, token_id,
           arrayFold((acc, e) -> if(e.1 IN (1, 5),
               if(e.2 > 0, (acc.1 + e.2, intDivOrZero(acc.2 * acc.1 + e.3 * e.2, acc.1 + e.2), acc.3, acc.4), acc),
               (acc.1 - least(if(e.1 = 4, acc.1, e.2), acc.1), acc.2,
                acc.3 + intDiv(least(if(e.1 = 4, acc.1, e.2), acc.1) * (if(e.1 = 3, acc.2, e.3) - acc.2),
                               toInt256(1000000)),
                acc.4 + if(e.1 = 4, acc.1, e.2) - least(if(e.1 = 4, acc.1, e.2), acc.1))),
               arraySort(x -> (x.4, x.5), groupArray((kind, amt, price, b, l))),
               CAST((0, 0, 0, 0), 'Tuple(Int256, Int256, Int256, Int256)')) AS st
    FROM
    (
        SELECT wallet, token_id, b, l, kind, amt, price FROM ev_fill
        UNION ALL SELECT wallet, token_id, b, l, kind, amt, price FROM ev_ctf
        UNION ALL SELECT wallet, token_id, b, l, kind, amt, price FROM ev_no
        UNION ALL SELECT wallet, token_id, b, l, kind, amt, price FROM ev_yes
        UNION ALL SELECT wallet, token_id, b, l, kind, amt, price FROM ev_fpmm
    )
    GROUP BY wallet, token_id
) AS f
INNER JOIN (SELECT token_id, condition_id, outcome_index FROM tm
            UNION ALL SELECT lp, condition_id, toUInt8(255) FROM fpmm_k) AS m ON m.token_id = f.token_id
