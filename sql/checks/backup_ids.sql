-- Backup ids already used: recorded in the backups table, or present as an archive table suffix.
SELECT backup_id FROM backups WHERE backup_id = {id:String}
UNION ALL
SELECT name FROM system.tables WHERE database = {adb:String} AND endsWith(name, concat('__', {id:String}))
