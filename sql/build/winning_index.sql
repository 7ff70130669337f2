-- One row per resolved condition (the first resolution up to the cutoff): payout vector, its sum, and the index of
-- the single full-payout outcome (-1 for a split payout). Condition ids are normalised here once (lower-case 0x).
INSERT INTO winning_index_new
    (condition_id, payout_numerators, payout_denominator, winning_index, resolved_block, resolved_time)
SELECT cid AS condition_id,
       argMin(payout_numerators, (block_number, log_index)) AS nums,
       arraySum(nums) AS den,
       if(length(arrayFilter(x -> x > 0, nums)) = 1, toInt16(arrayFirstIndex(x -> x > 0, nums) - 1), toInt16(-1)),
       min(block_number),
       min(block_time)
FROM
(
    SELECT if(startsWith(lower(condition_id), '0x'), lower(condition_id), concat('0x', lower(condition_id))) AS cid,
           payout_numerators, block_number, log_index, block_time
    FROM condition_resolutions FINAL
    WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {cutoff:UInt64}
)
GROUP BY cid
