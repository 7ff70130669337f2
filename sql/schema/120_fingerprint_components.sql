-- The parts of each data fingerprint a gate recorded (one digest per fingerprinted table, the ingest runs, the
-- schema and the code), so a refused stage can name what changed since its gate passed. Bookkeeping, never
-- fingerprinted.
CREATE TABLE IF NOT EXISTS fingerprint_components
(
    fingerprint String,
    component   String,
    digest      String,
    recorded_at DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree(recorded_at)
ORDER BY (fingerprint, component)
