-- Change detector for the fingerprint cache, per table: every active part by name (partition, block range, merge
-- level and mutation), row count and checksum of its files. Any rewrite of a part changes its name or checksum:
-- an insert, a merge (including one that applies a TTL delete), a mutation, a lightweight delete or update,
-- DROP/ATTACH/REPLACE PARTITION, TRUNCATE. What the definition changes without touching a part (ALIAS, DEFAULT,
-- TTL, the engine) is in checks/fingerprint_ddl.
SELECT table,
       arraySort(groupArray((partition_id, name, rows, hash_of_all_files))) AS parts
FROM system.parts
WHERE database = currentDatabase() AND active AND table IN {tables:Array(String)}
GROUP BY table
ORDER BY table
