-- Resolution block time of the given conditions (winning_index is ordered by condition_id: a point lookup each).
SELECT condition_id, toUInt32(resolved_time) FROM winning_index WHERE condition_id IN {conditions:Array(String)}
