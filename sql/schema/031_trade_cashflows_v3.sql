-- Derived: net collateral per wallet and condition in micro-USDC (fills incl. fees, splits, merges, redemptions,
-- conversions). One row per (wallet, condition): join at this grain, never per outcome.
CREATE TABLE IF NOT EXISTS trade_cashflows_v3
(
    wallet        String,
    condition_id  String,
    cashflow      Int128 COMMENT 'micro-USDC received minus paid',
    fees          Int128 COMMENT 'micro-USDC-equivalent fees paid (informational, already in cashflow)'
)
ENGINE = MergeTree
ORDER BY (wallet, condition_id)
