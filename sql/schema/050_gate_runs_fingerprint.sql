-- Gates bind to the data they judged: a content fingerprint of the raw and derived tables, the schema and the
-- code (harness.gates.data_fingerprint). A stage counts only for the fingerprint its checks ran on, and only
-- when all its checks ran in one pytest session (the session column), whatever run id it was given.
ALTER TABLE gate_runs ADD COLUMN IF NOT EXISTS fingerprint String DEFAULT '', ADD COLUMN IF NOT EXISTS session String DEFAULT ''
