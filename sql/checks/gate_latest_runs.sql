-- Per stage: each run's outcome counts at one watermark, newest first. A run passed when it has its
-- stage_complete row passed and no failed or errored check.
SELECT
    stage,
    run_id,
    watermark_block,
    max(finished_at) AS finished,
    countIf(outcome IN ('failed', 'error') AND check_name != 'stage_complete') AS bad,
    countIf(check_name = 'stage_complete' AND outcome = 'passed') AS complete
FROM gate_runs
WHERE stage IN {stages:Array(String)}
GROUP BY stage, run_id, watermark_block
ORDER BY finished DESC
