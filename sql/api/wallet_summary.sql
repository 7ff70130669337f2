-- One wallet's totals from the summary view. The view is an Identifier parameter so the dry run can read the
-- _test views; an empty result means the warehouse does not know the wallet.
SELECT
    realized_pnl,
    unrealized_pnl,
    total_pnl,
    markets_resolved,
    markets_open
FROM {summary_view:Identifier}
WHERE wallet = {wallet:String}
