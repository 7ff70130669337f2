-- Backups the table lists whose archive table does not exist (empty = the backups table matches what exists).
SELECT backup_id, source_table, archive_db, archive_table
FROM backups
WHERE (archive_db, archive_table) NOT IN (SELECT database, name FROM system.tables)
ORDER BY at
