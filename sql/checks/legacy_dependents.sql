-- Views and materialized views of the current database other than {skip} (the harness's own views), with their
-- definitions: adoption checks whether any of them reads a legacy table or, for a materialized view, writes TO
-- one. Bounded: one database's view definitions, no data.
SELECT name, engine, create_table_query
FROM system.tables
WHERE database = currentDatabase()
  AND engine IN ('View', 'MaterializedView', 'LiveView', 'WindowView')
  AND NOT startsWith(name, 'ui_wallet_pnl_summary')
  AND NOT arrayExists(v -> startsWith(name, v), {skip:Array(String)})
ORDER BY name
