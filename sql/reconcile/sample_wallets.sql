-- A seeded, repeatable sample of wallets with a position row (contracts never have one), for a bounded check.
SELECT wallet
FROM (SELECT DISTINCT wallet FROM outcome_positions_v2)
ORDER BY cityHash64(wallet, {seed:UInt64}), wallet
LIMIT {k:UInt64}
