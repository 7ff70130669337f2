-- Incremental rebuild, last step per table: the dirty conditions' recomputed rows (the delta) added to the build
-- table that build/reuse_parts.sql and reuse_delete.sql filled with the live rows of every other condition.
INSERT INTO ${table}_new SELECT * FROM ${table}_delta_${run}
