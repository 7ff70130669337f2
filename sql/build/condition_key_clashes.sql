-- Incremental rebuild: known conditions, other than {conditions}, whose condition_key (xxHash32 of the id, schema
-- 160-166) equals one of theirs. Masking by key would drop their rows too, so the build recomputes them as well
-- (they join the dirty set: among a million conditions each recomputed one has a ~2e-4 chance of a clash).
-- Known = every condition a derived row can hold: token_map's (positions, cashflows, flows, the book) and the FPMM
-- markets' (their LP shares in the book); the derived tables' other rows are built from those.
SELECT DISTINCT condition_id FROM
(
    SELECT condition_id FROM token_map
    UNION ALL
    SELECT lower(condition_ids[1]) FROM fpmm_creations WHERE length(condition_ids) > 0
)
WHERE xxHash32(condition_id) IN (SELECT xxHash32(arrayJoin({conditions:Array(String)})))
  AND condition_id NOT IN {conditions:Array(String)}
