-- Incremental rebuild: the live rows of conditions that are dirty (re-priced or re-resolved) but were not touched
-- by the block range, copied into the delta table, so the re-marking steps find every dirty condition's positions,
-- cashflows and book there. Their rows are unchanged (nothing in range touched them); run only when there are any.
INSERT INTO ${table}_delta_${run} SELECT * FROM ${table} WHERE condition_id IN {conditions:Array(String)}
