-- Raw: owner -> proxy wallet links from proxy factories' creation events (today the Polymarket SafeProxyFactory's
-- ProxyCreation(address proxy, address owner)). kind = 'safe'. The older ProxyWalletFactory emits no event: its
-- proxies are derived from the owner by CREATE2 at lookup time (harness/chain/proxies.py), never stored here.
CREATE TABLE IF NOT EXISTS wallet_proxies
(
    tx_hash      String,
    log_index    UInt32,
    block_number UInt64,
    block_time   DateTime('UTC'),
    factory      LowCardinality(String),
    kind         LowCardinality(String),
    owner        String,
    proxy        String,
    _version     UInt64 COMMENT 'ingest version; a higher version replaces a lower one',
    _deleted     UInt8 DEFAULT 0 COMMENT '1 = retracted (log removed by a reorg)'
)
ENGINE = ReplacingMergeTree(_version, _deleted)
ORDER BY (tx_hash, log_index)
