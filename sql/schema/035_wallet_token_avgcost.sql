-- Derived: Polymarket's average-cost book (pnl-subgraph rules) per (wallet, token) at the build's cutoff: tracked
-- shares, average price (micro-USDC per share), realized P&L and shares sold beyond the tracked amount (clamped).
CREATE TABLE IF NOT EXISTS wallet_token_avgcost
(
    wallet         String,
    token_id       UInt256,
    condition_id   String,
    outcome_index  UInt8,
    amount         Int256 COMMENT 'tracked shares (micro-units)',
    avg_price      Int256 COMMENT 'micro-USDC per whole share, truncated like graph-ts BigInt.div',
    realized       Int256 COMMENT 'micro-USDC, each delta truncated toward zero',
    clamped        Int256 COMMENT 'shares sold without tracked basis (earn nothing)'
)
ENGINE = MergeTree
ORDER BY (wallet, token_id)
