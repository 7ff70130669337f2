-- Open (unresolved) conditions marked to market_prices (built just before): value = floor(sum(net_shares * price_micros) / 1e6), one
-- floor per (wallet, condition); an unpriced outcome is worth 0. Reads the freshly built *_new tables, so it is
-- always consistent with them.
-- One aggregation: each position's gross value (shares x price) and each cashflow row are summed per (wallet,
-- condition) together, the floor taken after (issue 22); resolved conditions are left out of both inputs first.
-- {all:UInt8} = 0 (incremental) limits it to {conditions} (build/dirty_conditions.sql); the rest is carried over.
INSERT INTO wallet_unrealized_pnl_v2_new (wallet, condition_id, position_value, cashflow, unrealized_pnl)
SELECT wallet, condition_id,
       toInt128(intDiv(sum(gross), 1000000) - if(sum(gross) % 1000000 < 0, 1, 0)) AS position_value,
       sum(cash) AS cashflow_sum,
       position_value + cashflow_sum AS unrealized_pnl
FROM
(
    SELECT p.wallet AS wallet, p.condition_id AS condition_id,
           toInt256(p.net_shares) * toInt256(pr.price_micros) AS gross, toInt128(0) AS cash
    FROM (SELECT * FROM outcome_positions_v2_new
          WHERE ({all:UInt8} = 1 OR condition_id IN {conditions:Array(String)})
            AND condition_id NOT IN (SELECT condition_id FROM winning_index_new)) AS p
    LEFT JOIN (SELECT condition_id, outcome_index, price_micros FROM market_prices_new) AS pr
        ON p.condition_id = pr.condition_id AND p.outcome_index = pr.outcome_index
    UNION ALL
    SELECT wallet, condition_id, toInt256(0), cashflow FROM trade_cashflows_v3_new
    WHERE ({all:UInt8} = 1 OR condition_id IN {conditions:Array(String)})
      AND condition_id NOT IN (SELECT condition_id FROM winning_index_new)
)
GROUP BY wallet, condition_id
