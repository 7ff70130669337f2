-- Rewrite the market_names lookup from the latest row of every market in market_metadata: one row per condition
-- (the per-market view joins it with an ALL join, so a second row would repeat a P&L row).
INSERT INTO market_names (condition_id, question, slug, outcomes)
SELECT condition_id, question, slug, outcomes
FROM market_metadata FINAL
LIMIT 1 BY condition_id
