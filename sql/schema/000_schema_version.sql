-- Which schema files have been applied, with a checksum so drift is visible.
CREATE TABLE IF NOT EXISTS schema_version
(
    version     UInt32,
    file        String,
    checksum    String,
    applied_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version
