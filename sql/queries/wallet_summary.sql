-- One wallet's P&L summary: micro-USDC integers, then the contract's exact Decimal USD columns; the wallet is a
-- bound parameter (lower-case 0x address). One thread: the lookup reads a granule or two, and on a busy server
-- thread start-up costs more than it saves.
SELECT wallet, realized_pnl, unrealized_pnl, total_pnl, markets_resolved, markets_open,
       realized_pnl_usd, unrealized_pnl_usd, total_pnl_usd
FROM wallet_pnl_summary_final${suffix}
WHERE wallet = {wallet:String}
SETTINGS max_threads = 1
