-- Column names and types of the given views in the current database (the view contract's type check).
SELECT table, name, type
FROM system.columns
WHERE database = currentDatabase() AND table IN {views:Array(String)}
ORDER BY table, position
