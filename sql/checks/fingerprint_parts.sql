-- Cheap change detector for the fingerprint cache: the active parts of the fingerprinted tables (any insert,
-- mutation, merge or exchange changes this; equal parts mean equal contents).
SELECT table, name, rows, hash_of_all_files
FROM system.parts
WHERE database = currentDatabase() AND active AND table IN {tables:Array(String)}
ORDER BY table, name
