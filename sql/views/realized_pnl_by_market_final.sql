-- Realized P&L per (wallet, resolved condition), under the public contract (harness/data/view_contract.yaml):
-- condition_id_norm (64 lower-case hex, no 0x), the negRisk market id when the condition is a negRisk question
-- (NULL otherwise), realized_pnl_usd exact Decimal(76, 6) = micro / 10^6, resolved_at = the resolution's block time;
-- beside them the exact micro-USDC integers. value = floor(sum(net_shares * numerator) / sum(numerators)); the grain
-- work (positions reduced to one row per wallet and condition before meeting the cashflow, never a cashflow
-- repeated per outcome row) happens in sql/build/wallet_market_pnl.sql. question and slug come from Gamma's market
-- metadata (ingest-markets) through the market_names lookup (a hash probe per row, not a join that hashes every
-- market), NULL for a condition without it.
CREATE OR REPLACE VIEW realized_pnl_by_market_final${suffix} AS
SELECT p.wallet AS wallet,
       replaceRegexpOne(lower(p.condition_id), '^0x', '') AS condition_id_norm,
       nullIf(q.market_id, '') AS market_id,
       toDecimal256(p.pnl, 6) / 1000000 AS realized_pnl_usd,
       w.resolved_time AS resolved_at,
       p.condition_id AS condition_id, p.cashflow AS cashflow, p.value AS value, p.pnl AS realized_pnl,
       nullIf(joinGet('market_names', 'question', p.condition_id), '') AS question,
       nullIf(joinGet('market_names', 'slug', p.condition_id), '') AS slug
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
