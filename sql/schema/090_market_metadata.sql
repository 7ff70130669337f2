-- Market metadata from Gamma's markets API (python -m harness ingest-markets FILE): names for the API, the
-- dashboard and the per-market view, and Gamma's own token ids, which a check compares with token_map (the ids the
-- harness derives from the chain). condition_id in the harness's join form (0x + 64 lower-case hex, as token_map
-- and every derived table hold it); condition_id_norm is the plan's form (no 0x). Re-loading a file replaces its
-- rows (ReplacingMergeTree on the load's version), so a load is idempotent and a newer dump wins.
CREATE TABLE IF NOT EXISTS market_metadata
(
    condition_id        String,
    condition_id_norm   String ALIAS substring(condition_id, 3),
    question            String,
    slug                String,
    outcomes            Array(String),
    token_ids           Array(UInt256),
    end_date            Nullable(DateTime('UTC')),
    neg_risk            UInt8,
    neg_risk_market_id  String,
    question_id         String,
    gamma_id            String,
    source              LowCardinality(String),
    _version            UInt64
)
ENGINE = ReplacingMergeTree(_version)
ORDER BY condition_id
