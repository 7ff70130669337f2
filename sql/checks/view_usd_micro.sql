-- A USD column against its micro-USDC column on a bounded sample: rows read, rows where usd * 10^6 != micro (an
-- exact Decimal/integer comparison), and one such pair.
SELECT count(), countIf({usd:Identifier} * 1000000 != {micro:Identifier}),
       anyIf(concat(toString({usd:Identifier}), ' vs ', toString({micro:Identifier})),
             {usd:Identifier} * 1000000 != {micro:Identifier})
FROM (SELECT {usd:Identifier}, {micro:Identifier} FROM {view:Identifier} LIMIT {n:UInt64})
