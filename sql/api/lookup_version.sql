-- What the API's per-condition caches (resolution times, market names) were read from, as one comparable value:
-- each table's active parts (a rebuild swaps winning_index in as new parts; ingest-markets adds parts) and its row
-- and byte totals (for a table without parts). Read once per watermark TTL; the caches are kept while it is equal.
SELECT
    (SELECT groupArraySorted(10)((table, toUInt64(max_time), parts, rows))
     FROM (SELECT table, max(modification_time) AS max_time, count() AS parts, sum(rows) AS rows
           FROM system.parts
           WHERE database = currentDatabase() AND active AND table IN ('winning_index', 'market_names')
           GROUP BY table)) AS parts,
    (SELECT groupArraySorted(10)((name, ifNull(total_rows, 0), ifNull(total_bytes, 0)))
     FROM system.tables
     WHERE database = currentDatabase() AND name IN ('winning_index', 'market_names')) AS tables
