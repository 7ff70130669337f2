-- Open (unresolved) positions with no price for their outcome, after a build: they are valued at 0. Counted
-- against all open holdings in shares (micro-units; a share is worth at most 1 USDC, so shares bound the value
-- that may be missing). One row: unpriced positions, distinct unpriced outcomes, their shares, all open shares.
SELECT countIf(unpriced) AS positions, uniqExactIf((condition_id, outcome_index), unpriced) AS outcomes,
       sumIf(abs(net_shares), unpriced) AS unpriced_shares, sum(abs(net_shares)) AS open_shares
FROM
(
    SELECT condition_id, outcome_index, net_shares,
           (condition_id, outcome_index) NOT IN (SELECT condition_id, outcome_index FROM market_prices) AS unpriced
    FROM outcome_positions_v2
    WHERE net_shares != 0 AND condition_id NOT IN (SELECT condition_id FROM winning_index)
)
