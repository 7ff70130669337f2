-- Live resolutions of the given conditions up to {as_of} (condition ids compared lower-case with 0x, as
-- winning_index normalises them).
SELECT * FROM condition_resolutions FINAL
WHERE _deleted = 0 AND toUnixTimestamp(block_time) <= {as_of:UInt64}
  AND if(startsWith(lower(condition_id), '0x'), lower(condition_id), concat('0x', lower(condition_id)))
      IN {conditions:Array(String)}
