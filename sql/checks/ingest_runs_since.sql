-- Ingest runs (backfill, sync, files) started at or after a time: the ingest statistics of one stage run.
SELECT run_id, source, command, from_block, to_block, toString(status) AS status, logs, detail, started_at,
       updated_at
FROM ingest_runs FINAL
WHERE started_at >= {since:DateTime64(3, 'UTC')}
ORDER BY started_at, run_id
