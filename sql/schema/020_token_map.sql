-- token (position) id -> condition and outcome; derived in Python (the alt_bn128 step) from preparations.
CREATE TABLE IF NOT EXISTS token_map
(
    token_id      UInt256,
    condition_id  String,
    outcome_index UInt8,
    index_set     UInt256,
    collateral    String,
    neg_risk      UInt8,
    _version      UInt64
)
ENGINE = ReplacingMergeTree(_version)
ORDER BY token_id
