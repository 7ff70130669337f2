-- One wallet's P&L per market, both halves from the one-grain P&L the summary view also reads, so totals and
-- breakdown cannot disagree: resolved markets through the per-market view (with its resolved_at, the resolution's
-- block time), open markets from wallet_market_pnl (resolved_time 0).
SELECT condition_id, status, cashflow, value, pnl, resolved_time
FROM
(
    SELECT
        condition_id,
        'resolved' AS status,
        toInt128(cashflow) AS cashflow,
        toInt128(value) AS value,
        toInt128(realized_pnl) AS pnl,
        toUInt32(resolved_at) AS resolved_time
    FROM {market_view:Identifier}
    WHERE wallet = {wallet:String}
    UNION ALL
    SELECT
        condition_id,
        'open' AS status,
        toInt128(cashflow) AS cashflow,
        toInt128(value) AS value,
        toInt128(pnl) AS pnl,
        toUInt32(0) AS resolved_time
    FROM wallet_market_pnl
    WHERE wallet = {wallet:String} AND resolved = 0
)
ORDER BY status DESC, resolved_time, condition_id
