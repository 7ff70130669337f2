-- Conditions each given wallet has fills or splits/merges/redemptions in, at or below {block}: their tokens are
-- compared even when the wallet's share transfers are missing from the warehouse (the fault reconcile looks for).
SELECT DISTINCT w, condition_id FROM
(
    SELECT t.wallet AS w, m.condition_id AS condition_id
    FROM (SELECT wallet, token_id FROM trades_raw FINAL PREWHERE wallet IN {wallets:Array(String)}
          WHERE _deleted = 0 AND block_number <= {block:UInt64}) AS t
    INNER JOIN (SELECT token_id, condition_id FROM token_map FINAL) AS m ON t.token_id = m.token_id
    UNION ALL
    SELECT stakeholder, condition_id FROM ctf_actions FINAL PREWHERE stakeholder IN {wallets:Array(String)}
    WHERE _deleted = 0 AND block_number <= {block:UInt64}
)
