SELECT stage, check_name, outcome, watermark_block, watermark_time, code_version, detail, started_at, finished_at,
       fingerprint, session
FROM gate_runs
WHERE run_id = {run_id:String}
ORDER BY finished_at, check_name
