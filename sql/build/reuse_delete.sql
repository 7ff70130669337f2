-- Incremental rebuild, second half: drop the recomputed conditions' rows from the build table that
-- build/reuse_parts.sql filled. A lightweight DELETE writes a row mask per part (readers skip masked rows, merges
-- drop them later) instead of rewriting every column, so it costs a read of condition_id, not a copy.
DELETE FROM ${table}_new WHERE condition_id IN {conditions:Array(String)}
