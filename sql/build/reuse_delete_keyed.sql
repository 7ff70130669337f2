-- Incremental rebuild, second half, for the tables with a condition_key (schema 160-166): as build/reuse_delete.sql,
-- but the mask is found by the 4-byte key instead of the 66-character id, so the mutation reads 4 bytes a row. The
-- keys are those of the dirty conditions, and the build has added every known condition that shares one to the
-- dirty set (build/condition_key_clashes.sql), so no row of a condition that is not recomputed is masked.
DELETE FROM ${table}_new WHERE condition_key IN {keys:Array(UInt32)}
