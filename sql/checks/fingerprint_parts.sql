-- Change detector for the fingerprint cache, unchanged by merges: per table and partition, the block ranges its
-- active parts cover (coalesced in Python: a merge of parts 1..3 covers what parts 1, 2 and 3 did) and its newest mutation (a
-- mutated part's data_version is the mutation's number, above its own blocks). Inserts add blocks; ALTER UPDATE,
-- DELETE, TRUNCATE, DROP/ATTACH/REPLACE PARTITION change ranges or mutations; EXCHANGE and re-creation change uuid.
SELECT table,
       arraySort(groupArray((partition_id, min_block_number, max_block_number))) AS ranges,
       max(if(data_version > max_block_number, data_version, 0)) AS mutation
FROM system.parts
WHERE database = currentDatabase() AND active AND table IN {tables:Array(String)}
GROUP BY table
ORDER BY table
