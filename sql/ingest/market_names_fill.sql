-- Rewrite the market_names lookup from the latest row of every market in market_metadata.
INSERT INTO market_names (condition_id, question, slug, outcomes)
SELECT condition_id, question, slug, outcomes
FROM market_metadata FINAL
