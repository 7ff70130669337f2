-- Activity (GET /wallets/{a}/activity) reads one wallet's rows of neg_risk_conversions, a table ordered by transaction: a
-- bloom-filter skip index on the wallet column(s) lets that read skip every granule without the wallet instead of
-- scanning the column (a whale's rows still cost what they are). New parts are indexed as they are written and
-- old ones as they merge; on a large existing table, ALTER TABLE neg_risk_conversions MATERIALIZE INDEX <name> builds it at once.
ALTER TABLE neg_risk_conversions
    ADD INDEX IF NOT EXISTS idx_stakeholder stakeholder TYPE bloom_filter(0.01) GRANULARITY 1
