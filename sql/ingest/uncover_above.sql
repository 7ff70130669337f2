-- The chain got shorter than what was ingested: checkpoints above the new head no longer prove anything.
DELETE FROM ingest_checkpoints WHERE source = {source:String} AND to_block > {hi:UInt64}
