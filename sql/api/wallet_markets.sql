-- One wallet's P&L per market: resolved markets from the per-market view (with their resolution time from
-- winning_index, 0 when unknown), open markets from wallet_unrealized_pnl_v2 (resolved_time 0).
SELECT condition_id, status, cashflow, value, pnl, resolved_time
FROM
(
    SELECT
        m.condition_id AS condition_id,
        'resolved' AS status,
        toInt128(m.cashflow) AS cashflow,
        toInt128(m.value) AS value,
        toInt128(m.realized_pnl) AS pnl,
        toUInt32(w.resolved_time) AS resolved_time
    FROM {market_view:Identifier} AS m
    LEFT JOIN
    (
        SELECT condition_id, min(resolved_time) AS resolved_time
        FROM winning_index
        GROUP BY condition_id
    ) AS w ON w.condition_id = m.condition_id
    WHERE m.wallet = {wallet:String}
    UNION ALL
    SELECT
        condition_id,
        'open' AS status,
        toInt128(cashflow) AS cashflow,
        toInt128(position_value) AS value,
        toInt128(unrealized_pnl) AS pnl,
        toUInt32(0) AS resolved_time
    FROM wallet_unrealized_pnl_v2
    WHERE wallet = {wallet:String}
)
ORDER BY status DESC, resolved_time, condition_id
