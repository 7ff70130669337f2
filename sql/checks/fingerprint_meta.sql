-- What besides table contents a gate depends on: every ingest run so far and the schema files applied.
SELECT
    (SELECT toString(uniqExact(run_id)) || '/' || toString(max(started_at)) FROM ingest_runs) AS ingests,
    (SELECT arrayStringConcat(groupArray(f || ':' || c), ',')
     FROM (SELECT file AS f, argMax(checksum, applied_at) AS c FROM schema_version GROUP BY file ORDER BY file))
        AS schema
