-- Content hashes of the fingerprinted tables, by a key that only a change of contents can change (table uuids,
-- the block ranges their parts cover, coalesced, and their last mutation): a later stage in another process reuses
-- the hash instead of re-reading every table (minutes at production size). Bookkeeping, never fingerprinted.
CREATE TABLE IF NOT EXISTS fingerprint_cache
(
    key         String,
    contents    String,
    computed_at DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree(computed_at)
ORDER BY key
