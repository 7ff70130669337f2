-- One wallet's average-cost (Polymarket UI, pnl-subgraph rules) totals; empty when the wallet has none.
SELECT ui_realized_pnl, ui_unrealized_pnl, ui_total_pnl
FROM ui_wallet_pnl_summary
WHERE wallet = {wallet:String}
