-- Derived: open (unresolved) positions marked to market_prices, micro-USDC.
CREATE TABLE IF NOT EXISTS wallet_unrealized_pnl_v2
(
    wallet          String,
    condition_id    String,
    position_value  Int128 COMMENT 'sum over outcomes of net_shares * price, micro-USDC',
    cashflow        Int128,
    unrealized_pnl  Int128
)
ENGINE = MergeTree
ORDER BY (wallet, condition_id)
