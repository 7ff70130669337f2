-- Logs of known contracts whose (address, topic0) the decoder does not know, counted per ingest run.
-- getLogs asks for every topic of the known addresses, so a new event type shows up here instead of never.
CREATE TABLE IF NOT EXISTS ingest_unknown_events
(
    run_id      String,
    source      LowCardinality(String),
    address     String,
    topic0      String,
    logs        UInt64,
    recorded_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(recorded_at)
ORDER BY (source, run_id, address, topic0)
