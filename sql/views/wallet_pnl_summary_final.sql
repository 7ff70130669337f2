-- Per wallet: realized (resolved conditions), unrealized (open conditions marked to price) and total, micro-USDC
-- Int128. The two halves are stacked and summed by wallet, not joined, so neither side can repeat the other.
CREATE OR REPLACE VIEW wallet_pnl_summary_final${suffix} AS
SELECT wallet,
       sum(r) AS realized_pnl, sum(u) AS unrealized_pnl, realized_pnl + unrealized_pnl AS total_pnl,
       sum(mr) AS markets_resolved, sum(mo) AS markets_open
FROM
(
    SELECT wallet, realized_pnl AS r, toInt128(0) AS u, markets AS mr, toUInt64(0) AS mo
    FROM wallet_realized_pnl_final${suffix}
    UNION ALL
    SELECT wallet, toInt128(0), unrealized_pnl, toUInt64(0), toUInt64(1)
    FROM wallet_unrealized_pnl_v2
)
GROUP BY wallet
