-- The names of market_metadata's markets as an in-memory hash (Join engine) for joinGet: the per-market view and
-- the API probe it once per row. A LEFT JOIN against market_metadata would hash every market on every query (a
-- one-wallet read of realized_pnl_by_market_final went from 19 ms to 190 ms with 300,000 markets on chDB; 8 ms
-- with joinGet). Rewritten from market_metadata FINAL after every load (harness.ingest.metadata.refresh_names); a later
-- row for a key replaces the earlier one.
CREATE TABLE IF NOT EXISTS market_names
(
    condition_id  String,
    question      String,
    slug          String,
    outcomes      Array(String)
)
ENGINE = Join(ANY, LEFT, condition_id)
SETTINGS join_any_take_last_row = 1
