CREATE TABLE IF NOT EXISTS backups
(
    backup_id     String,
    source_db     String,
    source_table  String,
    archive_db    String,
    archive_table String,
    source_rows   UInt64,
    archive_rows  UInt64,
    verified      UInt8,
    reason        String,
    at            DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (at, backup_id, source_table)
