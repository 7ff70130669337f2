-- One wallet's P&L summary; the wallet is a bound parameter (lower-case 0x address).
SELECT wallet, realized_pnl, unrealized_pnl, total_pnl, markets_resolved, markets_open
FROM wallet_pnl_summary_final${suffix}
WHERE wallet = {wallet:String}
