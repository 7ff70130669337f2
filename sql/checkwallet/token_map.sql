-- check-wallet: token id, condition and outcome of every token of {conditions}.
SELECT token_id, condition_id, outcome_index FROM token_map FINAL WHERE condition_id IN {conditions:Array(String)}
