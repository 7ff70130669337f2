-- Question, slug and outcome names of the given conditions, read through market_names' primary key
-- (condition_id IN the request's few conditions, whatever the number of markets); conditions without metadata
-- have no row.
SELECT condition_id, any(question) AS question, any(slug) AS slug, any(outcomes) AS outcomes
FROM market_names
WHERE condition_id IN {conditions:Array(String)}
GROUP BY condition_id
