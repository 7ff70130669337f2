-- How many markets the token check compares: those with Gamma token ids whose condition token_map knows.
SELECT count()
FROM market_metadata FINAL
WHERE length(token_ids) > 0 AND condition_id IN (SELECT condition_id FROM token_map)
