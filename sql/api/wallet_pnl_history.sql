-- One wallet's cash-flow P&L per condition at the points {points} (ascending unix times on hour boundaries; a
-- last point of 2^32 means "everything": the build's own state), from its flows (wallet_pnl_flows: a primary-key
-- range) and the marks of its conditions (price_history: primary-key ranges). Per (condition, outcome) the shares
-- and cash as of T are the running sums of the flows with t <= T; a condition resolved at T (resolved_time <= T)
-- is valued at its payout, floor(sum(shares x numerator) / denominator) (0 when the denominator is 0), else at the
-- price of T, floor(sum(shares x price) / 1e6), price = the latest import with t <= T, else the latest fill price
-- (unpriced = 0): the rules of build/wallet_market_pnl.sql and wallet_unrealized.sql applied at T.
-- Bounded: a condition is evaluated only at the points inside its life, from its first flow to the end of its
-- hour of resolution or of its last flow, whichever is later (open conditions: to the last point); after that its
-- P&L cannot change, so one row kind = 'end' (at that end) carries it and the caller adds it to every later point.
-- Rows: kind 'at' (T, condition, pnl, resolved at T) and kind 'end' (end time, condition, pnl, 1).
WITH
    f AS
    (
        SELECT condition_id AS c, outcome_index AS o, toUInt64(toUnixTimestamp(t)) AS t, shares, cash
        FROM wallet_pnl_flows WHERE wallet = {wallet:String}
    ),
    cum AS
    (
        SELECT c, o, t, sum(shares) OVER w AS sh, sum(cash) OVER w AS cf
        FROM f
        WINDOW w AS (PARTITION BY c, o ORDER BY t ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    ),
    res AS
    (
        SELECT condition_id AS c, toUInt64(toUnixTimestamp(resolved_time)) AS rt, payout_numerators AS nums,
               payout_denominator AS den
        FROM winning_index WHERE condition_id IN (SELECT c FROM f)
    ),
    life AS
    (
        SELECT l.c AS c, l.first_t AS first_t,
               if(r.c = '', toUInt64(8589934592), greatest(l.last_t, intDiv(r.rt + 3599, 3600) * 3600)) AS end_t
        FROM (SELECT c, min(t) AS first_t, max(t) AS last_t FROM f GROUP BY c) AS l
        LEFT JOIN res AS r ON r.c = l.c
    ),
    grid AS
    (
        SELECT k.c AS c, k.o AS o, T, T = l.end_t AS is_end
        FROM (SELECT DISTINCT c, o FROM f) AS k
        INNER JOIN life AS l ON l.c = k.c
        ARRAY JOIN arrayConcat(arrayFilter(x -> x >= l.first_t AND x < l.end_t,
                                           arrayMap(x -> toUInt64(x), {points:Array(UInt64)})),
                               if(l.end_t < 8589934592, [l.end_t], [])) AS T
    ),
    ph AS
    (
        SELECT condition_id AS c, outcome_index AS o, toUInt64(toUnixTimestamp(t)) AS t, price_micros,
               source = 'import' AS imported
        FROM price_history WHERE condition_id IN (SELECT c FROM f)
    ),
    marked AS
    (
        SELECT g.c AS c, g.o AS o, g.T AS T, g.is_end AS is_end, s.sh AS sh, s.cf AS cf, fp.price_micros AS fill_px,
               ip.price_micros AS import_px, ip.imported AS has_import
        FROM grid AS g
        ASOF LEFT JOIN cum AS s ON s.c = g.c AND s.o = g.o AND s.t <= g.T
        ASOF LEFT JOIN (SELECT * FROM ph WHERE NOT imported) AS fp ON fp.c = g.c AND fp.o = g.o AND fp.t <= g.T
        ASOF LEFT JOIN (SELECT * FROM ph WHERE imported) AS ip ON ip.c = g.c AND ip.o = g.o AND ip.t <= g.T
    )
SELECT if(is_end, 'end', 'at') AS kind, T, c, toInt128(cash + value) AS pnl, resolved
FROM
(
    SELECT m.c AS c, m.T AS T, m.is_end AS is_end, sum(toInt256(m.cf)) AS cash,
           r.c != '' AND r.rt <= m.T AS resolved, any(r.den) AS den,
           if(resolved,
              sum(toInt256(m.sh) * toInt256(if(m.o < length(r.nums), r.nums[m.o + 1], 0))),
              sum(toInt256(m.sh) * toInt256(if(m.has_import, m.import_px, m.fill_px)))) AS gross,
           toInt256(if(resolved, den, 1000000)) AS d,
           if(d = 0, toInt256(0), intDiv(gross, d) - if(gross % d < 0, 1, 0)) AS value
    FROM marked AS m
    LEFT JOIN res AS r ON r.c = m.c
    GROUP BY m.c, m.T, m.is_end, r.c, r.rt
)
ORDER BY T, c
