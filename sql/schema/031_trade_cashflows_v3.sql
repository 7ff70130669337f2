-- Derived: net collateral per wallet and condition in micro-USDC (fills incl. fees, splits, merges, redemptions,
-- conversions). One row per (wallet, condition): join at this grain, never per outcome.
CREATE TABLE IF NOT EXISTS trade_cashflows_v3
(
    wallet        String,
    condition_id  String,
    cashflow      Int128 COMMENT 'micro-USDC received minus paid, fees included',
    fees          Int128 COMMENT 'collateral fees paid (fee_usdc), informational: already in cashflow',
    fee_shares    Int128 COMMENT 'fees taken in shares (V1 BUY), informational: already in net shares'
)
ENGINE = MergeTree
ORDER BY (wallet, condition_id)
