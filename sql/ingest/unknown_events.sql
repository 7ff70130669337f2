-- Unknown (address, topic0) pairs of one source, summed over its runs: what the decoder does not read yet.
SELECT address, topic0, sum(logs) AS logs, count() AS runs
FROM ingest_unknown_events FINAL
WHERE source = {source:String}
GROUP BY address, topic0
ORDER BY logs DESC, address, topic0
