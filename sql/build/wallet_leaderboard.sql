-- The leaderboard (schema 096_wallet_leaderboard.sql), rebuilt whole by every build from the freshly built
-- tables. as_of = the newest block time among the raw event tables (as the watermark; retracted rows aside), or
-- {cutoff} when earlier. A period of N days holds the conditions resolved in (as_of - N days, as_of]:
-- realized = their cash-flow P&L; total = that plus the unrealized P&L of the open conditions; ui_total = the
-- average-cost P&L of the same conditions. 'all' holds every condition (= wallet_pnl_summary_final and
-- ui_wallet_pnl_summary). volume = the collateral of the wallet's fills (wallet_pnl_flows_new, by the hour of the
-- fill: hours ending in (as_of - N days, as_of + 1 hour)). A wallet appears in a (period, metric) only when it has
-- a row that counts there.
INSERT INTO wallet_leaderboard_new (period, metric, rank_key, wallet, pnl, as_of)
WITH
    (SELECT toUInt64(least(toUInt64({cutoff:UInt64}), toUInt64(max(t)))) FROM
        (SELECT max(block_time) AS t FROM trades_raw WHERE _deleted = 0
         UNION ALL SELECT max(block_time) FROM erc1155_transfers WHERE _deleted = 0
         UNION ALL SELECT max(block_time) FROM ctf_actions WHERE _deleted = 0
         UNION ALL SELECT max(block_time) FROM condition_resolutions WHERE _deleted = 0
         UNION ALL SELECT max(block_time) FROM neg_risk_conversions WHERE _deleted = 0)) AS end_ts,
    toDateTime(end_ts, 'UTC') AS end_time
SELECT tupleElement(e, 1) AS period, tupleElement(e, 2) AS metric, -tupleElement(e, 3) AS rank_key, wallet,
       tupleElement(e, 3) AS pnl, end_time
FROM
(
    SELECT wallet,
           [('all', 'total', sum(p.pnl), 1),
            ('all', 'realized', sumIf(p.pnl, p.resolved = 1), countIf(p.resolved = 1)),
            ('1d', 'total', sumIf(p.pnl, p.resolved = 0 OR rt > end_ts - 86400),
                countIf(p.resolved = 0 OR rt > end_ts - 86400)),
            ('1d', 'realized', sumIf(p.pnl, p.resolved = 1 AND rt > end_ts - 86400),
                countIf(p.resolved = 1 AND rt > end_ts - 86400)),
            ('7d', 'total', sumIf(p.pnl, p.resolved = 0 OR rt > end_ts - 7 * 86400),
                countIf(p.resolved = 0 OR rt > end_ts - 7 * 86400)),
            ('7d', 'realized', sumIf(p.pnl, p.resolved = 1 AND rt > end_ts - 7 * 86400),
                countIf(p.resolved = 1 AND rt > end_ts - 7 * 86400)),
            ('30d', 'total', sumIf(p.pnl, p.resolved = 0 OR rt > end_ts - 30 * 86400),
                countIf(p.resolved = 0 OR rt > end_ts - 30 * 86400)),
            ('30d', 'realized', sumIf(p.pnl, p.resolved = 1 AND rt > end_ts - 30 * 86400),
                countIf(p.resolved = 1 AND rt > end_ts - 30 * 86400))] AS entries
    FROM (SELECT wallet, condition_id, resolved, pnl FROM wallet_market_pnl_new) AS p
    LEFT JOIN (SELECT condition_id, toUInt64(resolved_time) AS rt FROM winning_index_new) AS w
        ON w.condition_id = p.condition_id
    GROUP BY wallet
    UNION ALL
    SELECT wallet,
           [('all', 'ui_total', sum(a.pnl), 1),
            ('1d', 'ui_total', sumIf(a.pnl, a.resolved = 0 OR rt > end_ts - 86400),
                countIf(a.resolved = 0 OR rt > end_ts - 86400)),
            ('7d', 'ui_total', sumIf(a.pnl, a.resolved = 0 OR rt > end_ts - 7 * 86400),
                countIf(a.resolved = 0 OR rt > end_ts - 7 * 86400)),
            ('30d', 'ui_total', sumIf(a.pnl, a.resolved = 0 OR rt > end_ts - 30 * 86400),
                countIf(a.resolved = 0 OR rt > end_ts - 30 * 86400))] AS entries
    FROM (SELECT wallet, condition_id, resolved, pnl FROM wallet_market_pnl_avgcost_new) AS a
    LEFT JOIN (SELECT condition_id, toUInt64(resolved_time) AS rt FROM winning_index_new) AS w
        ON w.condition_id = a.condition_id
    GROUP BY wallet
    UNION ALL
    SELECT wallet,
           [('all', 'volume', sum(volume), countIf(volume > 0)),
            ('1d', 'volume', sumIf(volume, ts > end_ts - 86400), countIf(volume > 0 AND ts > end_ts - 86400)),
            ('7d', 'volume', sumIf(volume, ts > end_ts - 7 * 86400),
                countIf(volume > 0 AND ts > end_ts - 7 * 86400)),
            ('30d', 'volume', sumIf(volume, ts > end_ts - 30 * 86400),
                countIf(volume > 0 AND ts > end_ts - 30 * 86400))] AS entries
    FROM (SELECT wallet, toUInt64(toUnixTimestamp(t)) AS ts, volume FROM wallet_pnl_flows_new WHERE volume != 0)
    GROUP BY wallet
)
ARRAY JOIN entries AS e
WHERE tupleElement(e, 4) > 0
