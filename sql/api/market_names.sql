-- Question, slug and outcome names of the given conditions, probed in the market_names lookup (one hash probe
-- each, whatever the number of markets); conditions without metadata have no row.
SELECT c AS condition_id,
       joinGet('market_names', 'question', c) AS question,
       joinGet('market_names', 'slug', c) AS slug,
       joinGet('market_names', 'outcomes', c) AS outcomes
FROM (SELECT arrayJoin({conditions:Array(String)}) AS c)
WHERE joinGetOrNull('market_names', 'slug', c) IS NOT NULL
