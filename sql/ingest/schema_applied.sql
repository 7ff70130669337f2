-- Schema files recorded as applied, with their latest checksum: commands skip re-applying an up-to-date schema.
SELECT file, argMax(checksum, applied_at) FROM schema_version GROUP BY file
