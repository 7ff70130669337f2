-- The outcome tokens of the given conditions.
SELECT token_id FROM token_map FINAL WHERE condition_id IN {conditions:Array(String)}
