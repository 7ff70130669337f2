-- The floor (issue 22 goal 1): every wallet's cash-flow and average-cost P&L in ONE statement over the raw tables,
-- written from the protocol rules (shared/domain, harness.pnl.oracle), not from sql/build/. Bench only. It covers
-- the event families bench_build.generate writes: fills, ERC1155 transfers, CTF splits / merges / redemptions,
-- resolutions, imported prices, token_map (no negRisk conversions, fee refunds, V2 collateral adapters or FPMMs:
-- bench_floor.py checks those tables are empty). Amounts are Int128: on-chain collateral and shares are below 1e17
-- micro-units, so an amount times a micro price (< 1e24) stays far inside Int128.
-- Shape: one GROUP BY (wallet, token) over every event (net shares, cash, and the average-cost fold over that
-- token's events in chain order), then one per (wallet, condition) with the marks, then one per wallet.
INSERT INTO floor_wallet_pnl (wallet, realized, unrealized, ui_realized, ui_unrealized)
WITH
    tm AS (SELECT token_id, condition_id, outcome_index FROM token_map FINAL),
    ctoks AS (SELECT condition_id, arrayMap(x -> x.2, arraySort(groupArray((outcome_index, token_id)))) AS toks
              FROM tm GROUP BY condition_id),
    res AS (SELECT cid, argMin(payout_numerators, (block_number, log_index)) AS nums,
                   min((block_number, log_index)) AS rpos
            FROM (SELECT if(startsWith(lower(condition_id), '0x'), lower(condition_id),
                            concat('0x', lower(condition_id))) AS cid, payout_numerators, block_number, log_index
                  FROM condition_resolutions FINAL
                  WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64})
            GROUP BY cid),
    fills AS (SELECT wallet, token_id, side, shares, usdc, fee_usdc, block_number, log_index
              FROM trades_raw FINAL
              WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}),
    -- marks: a binary condition's latest fill prices both outcomes (p, 1 - p), other conditions each outcome's own
    -- latest fill; price = usdc / shares floored, at most 1; the latest import at or before the cutoff overrides
    tokpx AS (SELECT m.condition_id AS cid, m.outcome_index AS o, f.px AS px, f.pos AS pos,
                     length(c.toks) AS n
              FROM (SELECT token_id, argMax(least(intDiv(toUInt256(usdc) * 1000000, toUInt256(shares)), 1000000),
                                            (block_number, log_index)) AS px,
                           max((block_number, log_index)) AS pos
                    FROM fills WHERE shares > 0 GROUP BY token_id) AS f
              INNER JOIN tm AS m ON m.token_id = f.token_id
              INNER JOIN ctoks AS c ON c.condition_id = m.condition_id),
    marks AS (SELECT cid, o, argMax(px, prio) AS price
              FROM (SELECT cid, o, toInt128(px) AS px, 0 AS prio FROM tokpx WHERE n != 2
                    UNION ALL
                    SELECT cid, toUInt8(arrayJoin([0, 1])) AS o, toInt128(if(o = last.1, last.2, 1000000 - last.2)),
                           0
                    FROM (SELECT cid, argMax((o, px), pos) AS last FROM tokpx WHERE n = 2 GROUP BY cid)
                    UNION ALL
                    SELECT condition_id, outcome_index, toInt128(argMax(price_micros, as_of)), 1
                    FROM imported_prices FINAL WHERE toUnixTimestamp(as_of) <= {cutoff:UInt64}
                    GROUP BY condition_id, outcome_index)
              GROUP BY cid, o),
    nonwallets AS (SELECT fpmm FROM fpmm_creations FINAL WHERE _deleted = 0),
    -- every event as (wallet, token, shares, cash, book event); book kind 0 = none, 1 buy, 2 sell, 4 sell all
    ev AS (SELECT side.1 AS wallet, token_id, side.2 AS sh, toInt128(0) AS cash, toUInt8(0) AS kind,
                  toInt128(0) AS amt, toInt128(0) AS price, toUInt64(0) AS b, toUInt32(0) AS l
           FROM erc1155_transfers FINAL
           ARRAY JOIN [(to_addr, toInt128(value)), (from_addr, -toInt128(value))] AS side
           WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}
           UNION ALL
           SELECT wallet, token_id, toInt128(0),
                  if(side = 'BUY', -toInt128(usdc), toInt128(usdc)) - toInt128(fee_usdc),
                  toUInt8(if(shares = 0, 0, if(side = 'BUY', 1, 2))), toInt128(shares),
                  toInt128(intDivOrZero(toUInt256(usdc) * 1000000, toUInt256(shares))), block_number, log_index
           FROM fills
           UNION ALL
           SELECT a.stakeholder, tok, toInt128(0),
                  if(i = 1, multiIf(a.action = 'split', -toInt128(a.amount), a.action = 'merge', toInt128(a.amount),
                                    toInt128(a.payout)), toInt128(0)),
                  toUInt8(multiIf(a.action = 'split', 1, a.action = 'merge', 2,
                                  r.cid != '' AND r.rpos < (a.block_number, a.log_index) AND arraySum(r.nums) > 0, 4,
                                  0)),
                  toInt128(a.amount),
                  toInt128(if(a.action = 'redeem',
                              intDivOrZero(toUInt256(if(i <= length(r.nums), r.nums[i], 0)) * 1000000,
                                           arraySum(r.nums)),
                              intDiv(1000000, length(c.toks)))),
                  a.block_number, a.log_index
           FROM (SELECT stakeholder, condition_id, action, amount, payout, block_number, log_index
                 FROM ctf_actions FINAL
                 WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}) AS a
           INNER JOIN ctoks AS c ON c.condition_id = a.condition_id
           LEFT JOIN res AS r ON r.cid = a.condition_id
           ARRAY JOIN c.toks AS tok, arrayEnumerate(c.toks) AS i),
    book AS (SELECT wallet, token_id, sum(sh) AS net, sum(cash) AS cash_sum,
                    arrayFold((acc, e) -> if(e.3 = 1,
                        if(e.4 > 0, (acc.1 + e.4, intDiv(acc.2 * acc.1 + e.5 * e.4, acc.1 + e.4), acc.3, acc.4), acc),
                        (acc.1 - least(if(e.3 = 4, acc.1, e.4), acc.1), acc.2,
                         acc.3 + intDiv(least(if(e.3 = 4, acc.1, e.4), acc.1) * (e.5 - acc.2), 1000000),
                         acc.4 + if(e.3 = 4, acc.1, e.4) - least(if(e.3 = 4, acc.1, e.4), acc.1))),
                        arraySort(groupArrayIf((b, l, kind, amt, price), kind > 0)),
                        CAST((0, 0, 0, 0), 'Tuple(Int128, Int128, Int128, Int128)')) AS st
             FROM ev
             WHERE wallet != '' AND wallet NOT IN {excluded:Array(String)} AND wallet NOT IN nonwallets
             GROUP BY wallet, token_id),
    per_tok AS (SELECT k.wallet AS wallet, m.condition_id AS cid, r.cid != '' AS resolved,
                       toInt128(arraySum(r.nums)) AS den,
                       if(m.outcome_index < length(r.nums), toInt128(r.nums[m.outcome_index + 1]), 0) AS num,
                       k.cash_sum AS cash, k.net * if(resolved, num, p.price) AS g, k.st.3 AS ui_real,
                       intDiv(k.st.1 * (if(resolved AND den > 0, intDivOrZero(num * 1000000, den), p.price) - k.st.2),
                              1000000) AS ui_unreal
                FROM book AS k
                INNER JOIN tm AS m ON m.token_id = k.token_id
                LEFT JOIN res AS r ON r.cid = m.condition_id
                LEFT JOIN marks AS p ON p.cid = m.condition_id AND p.o = m.outcome_index),
    -- one floor per (wallet, condition): resolved by the payout (nothing when the payout is all zero), open at
    -- the marks (an unpriced outcome is worth 0)
    per_market AS (SELECT wallet, any(resolved) AS res, any(den) AS d, sum(cash) AS cf, sum(g) AS gross,
                          sum(ui_real) AS uir, sum(ui_unreal) AS uiu,
                          cf + if(res, if(d > 0, intDivOrZero(gross, d) - if(moduloOrZero(gross, d) < 0, 1, 0), 0),
                                  intDiv(gross, 1000000) - if(gross % 1000000 < 0, 1, 0)) AS pnl
                   FROM per_tok GROUP BY wallet, cid)
SELECT wallet, sumIf(pnl, res), sumIf(pnl, NOT res), sum(uir), sum(uiu)
FROM per_market
GROUP BY wallet
