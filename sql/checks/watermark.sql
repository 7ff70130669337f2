-- Data watermark: the highest block (and its time) present in any raw event table.
SELECT
    max(block_number) AS block,
    toUInt32(max(block_time)) AS time
FROM
(
    SELECT block_number, block_time FROM trades_raw FINAL
    UNION ALL SELECT block_number, block_time FROM erc1155_transfers FINAL
    UNION ALL SELECT block_number, block_time FROM ctf_actions FINAL
    UNION ALL SELECT block_number, block_time FROM condition_resolutions FINAL
    UNION ALL SELECT block_number, block_time FROM neg_risk_conversions FINAL
)
