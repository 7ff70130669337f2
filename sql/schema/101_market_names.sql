-- The names of market_metadata's markets, one row per condition_id (rewritten from market_metadata FINAL after
-- every load: harness.ingest.metadata.refresh_names), keyed by condition_id: the per-market view reads it with a direct
-- join (join_algorithm = 'direct': each block of the view's rows looks its conditions up through this primary key,
-- no hash of every market per query) and the API with condition_id IN (...). A MergeTree, so every replica of a
-- replicated server holds the same rows (091 was a Join table, retired by 100).
CREATE TABLE IF NOT EXISTS market_names
(
    condition_id  String,
    question      String,
    slug          String,
    outcomes      Array(String)
)
ENGINE = MergeTree
ORDER BY condition_id
SETTINGS index_granularity = 256
