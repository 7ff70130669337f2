-- Per stage: each run's outcome on one data fingerprint, newest first. A run passed when it has its
-- stage_complete row passed and no failed or errored check on that fingerprint. started_on: the fingerprint the
-- stage was admitted on, from its passed stage_complete row's detail ('' when not recorded).
SELECT
    stage,
    run_id,
    fingerprint,
    max(watermark_block) AS block,
    max(finished_at) AS finished,
    countIf(outcome IN ('failed', 'error') AND check_name != 'stage_complete') AS bad,
    countIf(check_name = 'stage_complete' AND outcome = 'passed') AS complete,
    anyIf(JSONExtractString(detail, 'started_on'), check_name = 'stage_complete' AND outcome = 'passed')
        AS started_on
FROM gate_runs
WHERE stage IN {stages:Array(String)}
GROUP BY stage, run_id, fingerprint
ORDER BY finished DESC
