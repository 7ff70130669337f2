-- A seeded, repeatable sample of the wallets the raw rows name (fill makers, ERC1155 senders and receivers, CTF
-- and conversion stakeholders), contracts (and the legacy AMM's FPMMs) left out. Drawn from the raw side, not from the build's output, so a
-- wallet the build dropped entirely can still be drawn (and then differs from the oracle).
SELECT w
FROM
(
    SELECT DISTINCT w FROM
    (
        SELECT wallet AS w FROM trades_raw
        UNION ALL SELECT to_addr FROM erc1155_transfers
        UNION ALL SELECT from_addr FROM erc1155_transfers
        UNION ALL SELECT stakeholder FROM ctf_actions
        UNION ALL SELECT stakeholder FROM neg_risk_conversions
    )
    WHERE w NOT IN {excluded:Array(String)} AND w NOT IN (SELECT fpmm FROM fpmm_creations FINAL WHERE _deleted = 0)
)
ORDER BY cityHash64(w, {seed:UInt64}), w
LIMIT {k:UInt64}
