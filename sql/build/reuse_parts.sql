-- Incremental rebuild, first half of carrying rows over: the build table starts as the live table's parts, attached
-- as hard links (no row is read, sorted or written; the live table is untouched). build/reuse_delete.sql then
-- masks the rows that are recomputed. Table names are fixed by harness.pnl.build, never user input.
ALTER TABLE ${table}_new ATTACH PARTITION tuple() FROM ${table}
