-- What a table's definition makes of its parts, per table: engine, uuid (EXCHANGE or re-creation), the whole
-- CREATE statement, the engine clause (sorting, TTL, settings; without the database name) and every column's
-- type, default kind and expression (ALIAS, DEFAULT, MATERIALIZED, EPHEMERAL).
SELECT t.name, t.engine, toString(t.uuid), t.create_table_query, t.engine_full,
       arraySort(groupArray((c.position, c.name, c.type, c.default_kind, c.default_expression))) AS columns
FROM system.tables AS t
LEFT JOIN (SELECT table, position, name, type, default_kind, default_expression
           FROM system.columns WHERE database = currentDatabase() AND table IN {tables:Array(String)}) AS c
    ON c.table = t.name
WHERE t.database = currentDatabase() AND t.name IN {tables:Array(String)}
GROUP BY t.name, t.engine, t.uuid, t.create_table_query, t.engine_full
ORDER BY t.name
