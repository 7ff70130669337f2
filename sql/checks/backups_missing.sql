-- Backups the ledger lists whose archive table is gone, or no longer holds the rows it was verified with
-- (empty = every recorded backup can be restored). Bounded: one row per backed-up table in the ledger, and
-- system.tables read only for the archive databases the ledger names (metadata: total_rows, no data scanned).
SELECT b.backup_id, b.source_table, b.archive_db, b.archive_table, b.archive_rows, t.name != '' AS present,
       t.total_rows AS rows_now
FROM backups AS b
LEFT JOIN
(
    SELECT database, name, total_rows
    FROM system.tables
    WHERE database IN (SELECT DISTINCT archive_db FROM backups)
) AS t ON t.database = b.archive_db AND t.name = b.archive_table
WHERE t.name = '' OR t.total_rows IS NULL OR t.total_rows != b.archive_rows
ORDER BY b.at, b.archive_table
