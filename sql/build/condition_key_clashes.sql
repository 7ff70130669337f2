-- Incremental rebuild: known conditions, other than {conditions}, whose condition_key (cityHash64 of the id, schema
-- 160-166) equals one of theirs. Masking by key would drop their rows too, so the build recomputes them as well
-- (they join the dirty set; a 64-bit clash is ~1e-8 likely among a million conditions, but never assumed away).
-- Known = every condition a derived row can hold: token_map's (positions, cashflows, flows, the book) and the FPMM
-- markets' (their LP shares in the book); the derived tables' other rows are built from those.
SELECT DISTINCT condition_id FROM
(
    SELECT condition_id FROM token_map
    UNION ALL
    SELECT lower(condition_ids[1]) FROM fpmm_creations WHERE length(condition_ids) > 0
)
WHERE cityHash64(condition_id) IN (SELECT cityHash64(arrayJoin({conditions:Array(String)})))
  AND condition_id NOT IN {conditions:Array(String)}
