-- The hull of every block range requested of one source (backfills and syncs): gaps inside it are holes.
SELECT min(from_block), max(to_block), count()
FROM ingest_runs FINAL
WHERE source = {source:String} AND to_block >= from_block
