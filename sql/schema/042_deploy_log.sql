-- Every view change with the definition it replaced, so rollback can restore it.
CREATE TABLE IF NOT EXISTS deploy_log
(
    deploy_id           String,
    action              Enum8('deploy' = 1, 'rollback' = 2),
    view_name           String,
    previous_definition String COMMENT 'empty when the view did not exist',
    new_definition      String,
    watermark_block     UInt64,
    code_version        String,
    at                  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (at, deploy_id, view_name)
