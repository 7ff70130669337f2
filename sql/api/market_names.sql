-- Question, slug and outcome names of the given conditions (market_metadata is ordered by condition_id: a point
-- lookup each); conditions without metadata have no row.
SELECT condition_id, question, slug, outcomes
FROM market_metadata FINAL
WHERE condition_id IN {conditions:Array(String)}
