-- Incremental rebuild: an empty delta table for one run, with the live table's columns. A MergeTree (unsorted:
-- it is small, read whole, and dropped at the end of the run), never Memory: on a replicated server each request
-- may reach another replica, and a Memory table lives on one replica only.
CREATE TABLE ${table}_delta_${run} AS ${table} ENGINE = MergeTree ORDER BY tuple()
