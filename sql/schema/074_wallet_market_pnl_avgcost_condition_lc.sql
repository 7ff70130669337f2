-- Derived tables store condition_id dictionary-encoded: a condition's 66-character hex id repeats on every wallet's
-- row, and as LowCardinality it is stored once per dictionary (bench/scale.py: these tables 3-5x smaller at 1M
-- fills, 10-30% smaller at 10M, where 20,000 conditions outgrow the 8,192-value dictionaries; no CPU cost).
-- Values and column name are unchanged; the tables the final views read keep String (the public view contract
-- types condition columns as String).
ALTER TABLE wallet_market_pnl_avgcost MODIFY COLUMN condition_id LowCardinality(String)
