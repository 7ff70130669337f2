-- The condition_key (schema 160-166) of each of {conditions}, in order: computed by the engine with the expression
-- the derived tables materialize, so the build never re-implements the hash.
SELECT arrayMap(c -> xxHash32(c), {conditions:Array(String)})
