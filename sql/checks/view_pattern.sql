-- One view column's format on a bounded sample: rows read, rows whose (non-NULL) value does not match the
-- pattern (RE2), and one such value. NULLs pass: match() of NULL is NULL, which countIf does not count.
SELECT count(), countIf(NOT match({column:Identifier}, {pattern:String})),
       toString(anyIf({column:Identifier}, NOT match({column:Identifier}, {pattern:String})))
FROM (SELECT {column:Identifier} FROM {view:Identifier} LIMIT {n:UInt64})
