-- Per (wallet, condition) P&L from the freshly built *_new tables. Resolved: value = floor(sum(net_shares *
-- numerator) / sum(numerators)), one floor per (wallet, condition): each position's gross (shares x numerator) and
-- the single cashflow row are stacked (UNION ALL) and summed per (wallet, condition) in one aggregation, the floor
-- taken after (issue 22), so a cashflow is never repeated per outcome row. Open conditions come from
-- wallet_unrealized_pnl_v2_new (same rule, marked to price).
-- {all:UInt8} = 0 (incremental) limits both halves to {conditions} (build/dirty_conditions.sql: touched, re-priced
-- or re-resolved); build/reuse_parts.sql + reuse_delete.sql carry the rest over.
INSERT INTO wallet_market_pnl_new (wallet, condition_id, resolved, cashflow, value, pnl)
SELECT wallet, condition_id, 1, sum(cash_part) AS cf,
       toInt128(if(max(den) > 0, intDivOrZero(sum(gross), max(den)) - if(moduloOrZero(sum(gross), max(den)) < 0, 1, 0),
                   0)) AS val,
       cf + val
FROM
(
    SELECT p.wallet AS wallet, p.condition_id AS condition_id, toInt128(0) AS cash_part,
           toInt256(w.payout_denominator) AS den,
           toInt256(p.net_shares) * toInt256(w.payout_numerators[p.outcome_index + 1]) AS gross
    FROM (SELECT * FROM outcome_positions_v2_new
          WHERE {all:UInt8} = 1 OR condition_id IN {conditions:Array(String)}) AS p
    INNER JOIN (SELECT condition_id, payout_numerators, payout_denominator FROM winning_index_new
                WHERE payout_denominator > 0) AS w ON p.condition_id = w.condition_id
    UNION ALL
    SELECT wallet, condition_id, cashflow, toInt256(0), toInt256(0)
    FROM trade_cashflows_v3_new
    WHERE condition_id IN (SELECT condition_id FROM winning_index_new)
      AND ({all:UInt8} = 1 OR condition_id IN {conditions:Array(String)})
)
GROUP BY wallet, condition_id
UNION ALL
SELECT wallet, condition_id, 0, cashflow, position_value, unrealized_pnl FROM wallet_unrealized_pnl_v2_new
WHERE {all:UInt8} = 1 OR condition_id IN {conditions:Array(String)}
