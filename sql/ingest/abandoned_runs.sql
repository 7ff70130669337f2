-- Ingest runs still marked running. Read under the writer lease, when no ingest can be running: each of these
-- died (SIGKILL, power loss) before it could mark itself failed.
SELECT run_id, source, command, from_block, to_block, logs, started_at
FROM ingest_runs FINAL
WHERE status = 'running'
