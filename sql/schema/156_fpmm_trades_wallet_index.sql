-- Activity (GET /wallets/{a}/activity) reads one wallet's rows of fpmm_trades, a table ordered by transaction: a
-- bloom-filter skip index on the wallet column(s) lets that read skip every granule without the wallet instead of
-- scanning the column (a whale's rows still cost what they are). New parts are indexed as they are written and
-- old ones as they merge; on a large existing table, ALTER TABLE fpmm_trades MATERIALIZE INDEX <name> builds it at once.
ALTER TABLE fpmm_trades
    ADD INDEX IF NOT EXISTS idx_trader trader TYPE bloom_filter(0.01) GRANULARITY 1
