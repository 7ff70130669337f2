-- token_map rows of the given tokens and of every token of the given conditions (a split or a redemption moves
-- every outcome of its condition, so the average-cost book needs all of them).
SELECT * FROM token_map FINAL
WHERE condition_id IN (SELECT condition_id FROM token_map WHERE token_id IN {tokens:Array(UInt256)})
   OR condition_id IN {conditions:Array(String)}
