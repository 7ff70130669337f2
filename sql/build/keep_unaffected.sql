-- Incremental rebuild: carry over the rows of conditions the block range did not touch (table names are fixed by
-- harness.build, never user input).
INSERT INTO ${table}_new SELECT * FROM ${table} WHERE condition_id NOT IN {conditions:Array(String)}
