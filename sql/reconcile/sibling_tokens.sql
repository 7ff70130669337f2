-- Every outcome token of the conditions the given tokens belong to, with its condition and outcome: a wallet that
-- touched one outcome is also checked on the others (a missed transfer-in of the other side shows up).
SELECT token_id, condition_id, outcome_index
FROM token_map FINAL
WHERE condition_id IN (SELECT condition_id FROM token_map FINAL WHERE token_id IN {tokens:Array(UInt256)})
