-- Imported prices (prices CSV, Gamma outcomePrices) of the given conditions, every dated row: the oracle applies
-- its own as-of rule.
SELECT * FROM imported_prices WHERE condition_id IN {conditions:Array(String)}
