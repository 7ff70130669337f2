-- Incremental rebuild: the conditions whose P&L rows may differ from the live tables'. A (wallet, condition) row
-- depends only on that condition's positions and cashflows (changed only for {conditions}, the ones the block
-- range touched), its price per outcome and its resolution: so these are {conditions} plus every condition whose
-- market_prices or winning_index rows (just rebuilt whole into *_new) differ from the live ones, either way.
SELECT DISTINCT condition_id FROM
(
    SELECT arrayJoin({conditions:Array(String)}) AS condition_id
    UNION ALL
    SELECT condition_id FROM
    (
        (SELECT condition_id, outcome_index, price_micros FROM market_prices_new
         EXCEPT SELECT condition_id, outcome_index, price_micros FROM market_prices)
        UNION ALL
        (SELECT condition_id, outcome_index, price_micros FROM market_prices
         EXCEPT SELECT condition_id, outcome_index, price_micros FROM market_prices_new)
    )
    UNION ALL
    SELECT condition_id FROM
    (
        (SELECT condition_id, payout_numerators, payout_denominator FROM winning_index_new
         EXCEPT SELECT condition_id, payout_numerators, payout_denominator FROM winning_index)
        UNION ALL
        (SELECT condition_id, payout_numerators, payout_denominator FROM winning_index
         EXCEPT SELECT condition_id, payout_numerators, payout_denominator FROM winning_index_new)
    )
)
