-- Incremental rebuild: conditions whose imported prices (up to {cutoff}) no longer match the live market_prices.
-- A condition's price rows depend on its fills (changed only if the block range touched it) and on its latest
-- import per outcome, which overrides the fill price (queries/market_prices.sql): so an untouched condition keeps
-- its live price rows unless the latest import of an outcome differs from the live imported row, either way (a new
-- or re-dated import, or a live imported row with no import behind it any more).
SELECT DISTINCT condition_id FROM
(
    (SELECT condition_id, outcome_index, argMax(price_micros, as_of), max(as_of), toString(argMax(source, as_of))
     FROM imported_prices FINAL
     WHERE toUnixTimestamp(as_of) <= {cutoff:UInt64}
     GROUP BY condition_id, outcome_index
     EXCEPT
     SELECT condition_id, outcome_index, price_micros, as_of, toString(source) FROM market_prices
     WHERE source != 'fill')
    UNION ALL
    (SELECT condition_id, outcome_index, price_micros, as_of, toString(source) FROM market_prices
     WHERE source != 'fill'
     EXCEPT
     SELECT condition_id, outcome_index, argMax(price_micros, as_of), max(as_of), toString(argMax(source, as_of))
     FROM imported_prices FINAL
     WHERE toUnixTimestamp(as_of) <= {cutoff:UInt64}
     GROUP BY condition_id, outcome_index)
)
