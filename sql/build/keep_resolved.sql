-- Incremental rebuild: carry over resolved (wallet, condition) rows the block range did not touch. A condition
-- whose resolution changed is touched (its resolution row lies in the range), so a copied row is still current;
-- open conditions are never copied (prices move without blocks): wallet_market_pnl.sql re-marks them all.
INSERT INTO wallet_market_pnl_new
SELECT * FROM wallet_market_pnl
WHERE resolved = 1
  AND condition_id NOT IN {conditions:Array(String)}
  AND condition_id IN (SELECT condition_id FROM winning_index_new)
