-- check-wallet: one wallet's average-cost totals from the view the API reads.
SELECT ui_realized_pnl, ui_unrealized_pnl, ui_total_pnl FROM ui_wallet_pnl_summary${suffix} WHERE wallet = {wallet:String}
