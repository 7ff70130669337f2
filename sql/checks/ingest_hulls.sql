-- Per source, the hull of the block ranges its finished ingest runs asked for (market-preparation scans aside:
-- they cover only the contracts that prepare markets). Holes inside a hull are blocks a finished run skipped.
SELECT source, min(from_block) AS lo, max(to_block) AS hi, count() AS runs
FROM ingest_runs FINAL
WHERE status = 'done' AND to_block >= from_block AND NOT endsWith(source, ':preparations')
GROUP BY source
ORDER BY source
