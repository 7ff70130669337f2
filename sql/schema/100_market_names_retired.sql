-- Retires 091's market_names, a Join-engine table: a replicated server (ClickHouse Cloud) keeps a Join table's
-- hash on each replica apart, and a request may land on a replica that never saw the rows (issue 20). 101 creates
-- market_names again as a MergeTree keyed by condition_id; harness.warehouse.schema skips 091 on a new warehouse, since this
-- file drops its table later in the order.
DROP TABLE IF EXISTS market_names SYNC
