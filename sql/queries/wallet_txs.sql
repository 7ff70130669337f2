-- Transactions in which one of {wallets} appears, up to {as_of}: as fill maker, ERC1155 sender or receiver, CTF /
-- adapter stakeholder, negRisk converter, FeeModule refund receiver, or FPMM trader or funder. Everything a wallet's P&L as of then can depend on lies in these
-- transactions (plus market structure, resolutions and prices, read separately), so an as-of P&L reads only them.
SELECT DISTINCT tx_hash FROM
(
    SELECT tx_hash, block_time FROM trades_raw WHERE wallet IN {wallets:Array(String)}
    UNION ALL
    SELECT tx_hash, block_time FROM erc1155_transfers
    WHERE from_addr IN {wallets:Array(String)} OR to_addr IN {wallets:Array(String)}
    UNION ALL
    SELECT tx_hash, block_time FROM ctf_actions WHERE stakeholder IN {wallets:Array(String)}
    UNION ALL
    SELECT tx_hash, block_time FROM neg_risk_conversions WHERE stakeholder IN {wallets:Array(String)}
    UNION ALL
    SELECT tx_hash, block_time FROM fee_refunds WHERE to_addr IN {wallets:Array(String)}
    UNION ALL
    SELECT tx_hash, block_time FROM fpmm_trades WHERE trader IN {wallets:Array(String)}
    UNION ALL
    SELECT tx_hash, block_time FROM fpmm_funding WHERE funder IN {wallets:Array(String)}
)
WHERE toUnixTimestamp(block_time) <= {as_of:UInt64}
