-- Realized P&L per (wallet, resolved condition), micro-USDC Int128. Positions are first reduced to one value per
-- (wallet, condition) - floor(sum(net_shares * numerator) / sum(numerators)), one floor - and only then combined
-- with the cashflow row of the same grain (UNION ALL + GROUP BY), so a cashflow is never repeated per outcome row.
CREATE OR REPLACE VIEW realized_pnl_by_market_final${suffix} AS
SELECT wallet, condition_id,
       sum(cash_part) AS cashflow, sum(value_part) AS value, cashflow + value AS realized_pnl
FROM
(
    SELECT wallet, condition_id, toInt128(0) AS cash_part,
           toInt128(intDiv(gross, den) - if(gross % den < 0, 1, 0)) AS value_part
    FROM
    (
        SELECT p.wallet AS wallet, p.condition_id AS condition_id, toInt256(any(w.payout_denominator)) AS den,
               sum(toInt256(p.net_shares) * toInt256(w.payout_numerators[p.outcome_index + 1])) AS gross
        FROM outcome_positions_v2 AS p
        INNER JOIN (SELECT condition_id, payout_numerators, payout_denominator FROM winning_index
                    WHERE payout_denominator > 0) AS w ON p.condition_id = w.condition_id
        GROUP BY wallet, condition_id
    )
    UNION ALL
    SELECT wallet, condition_id, cashflow, toInt128(0)
    FROM trade_cashflows_v3
    WHERE condition_id IN (SELECT condition_id FROM winning_index)
)
GROUP BY wallet, condition_id
