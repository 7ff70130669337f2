-- Realized P&L per (wallet, resolved condition), under the public contract (harness/data/view_contract.yaml):
-- condition_id_norm (64 lower-case hex, no 0x), the negRisk market id when the condition is a negRisk question
-- (NULL otherwise), realized_pnl_usd exact Decimal(76, 6) = micro / 10^6, resolved_at = the resolution's block time;
-- beside them the exact micro-USDC integers. value = floor(sum(net_shares * numerator) / sum(numerators)); the grain
-- work (positions reduced to one row per wallet and condition before meeting the cashflow, never a cashflow
-- repeated per outcome row) happens in sql/build/wallet_market_pnl.sql. question and slug come from Gamma's market
-- metadata (ingest-markets) through market_names, a MergeTree keyed by condition_id (one row per condition), read
-- with join_algorithm = 'direct': each block of this view's rows looks its own conditions up through the primary
-- key, so a one-wallet read stays bounded however many markets there are (a hash join would hash every market on
-- every read). NULL for a condition without metadata. The inner query keeps the default join algorithm.
CREATE OR REPLACE VIEW realized_pnl_by_market_final${suffix} AS
SELECT r.wallet AS wallet, r.condition_id_norm AS condition_id_norm, r.market_id AS market_id,
       r.realized_pnl_usd AS realized_pnl_usd, r.resolved_at AS resolved_at, r.condition_id AS condition_id,
       r.cashflow AS cashflow, r.value AS value, r.realized_pnl AS realized_pnl,
       nullIf(n.question, '') AS question, nullIf(n.slug, '') AS slug
FROM
(
    SELECT p.wallet AS wallet,
           replaceRegexpOne(lower(p.condition_id), '^0x', '') AS condition_id_norm,
           nullIf(q.market_id, '') AS market_id,
           toDecimal256(p.pnl, 6) / 1000000 AS realized_pnl_usd,
           w.resolved_time AS resolved_at,
           p.condition_id AS condition_id, p.cashflow AS cashflow, p.value AS value, p.pnl AS realized_pnl
    FROM wallet_market_pnl AS p
    ANY LEFT JOIN winning_index AS w ON w.condition_id = p.condition_id
    ANY LEFT JOIN
    (
        SELECT lower(condition_id) AS condition_id, any(lower(market_id)) AS market_id
        FROM neg_risk_questions FINAL
        WHERE _deleted = 0
        GROUP BY condition_id
    ) AS q ON q.condition_id = p.condition_id
    WHERE p.resolved = 1
    SETTINGS join_algorithm = 'default'
) AS r
LEFT JOIN market_names AS n ON n.condition_id = r.condition_id
SETTINGS join_algorithm = 'direct'
