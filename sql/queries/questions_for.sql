-- negRisk questions of the given markets (market structure: no time limit, like token_map).
SELECT * FROM neg_risk_questions FINAL WHERE _deleted = 0 AND market_id IN {markets:Array(String)}
