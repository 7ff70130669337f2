"""Load a stream into the warehouse, rebuild, and read back everything the oracle also computes."""
from __future__ import annotations

from harness.pnl.build import create_views, rebuild
from tests.property.pnl_stream import insert

RAW = ("trades_raw", "erc1155_transfers", "ctf_actions", "condition_preparations", "condition_resolutions",
       "fee_refunds", "neg_risk_conversions", "neg_risk_questions", "token_map", "imported_prices",
       "fpmm_creations", "fpmm_trades", "fpmm_funding")


def reset(client) -> None:
    for t in RAW:
        client.command(f"TRUNCATE TABLE {t}")


def load(client, rows, *, cutoff=None, times: int = 1):
    reset(client)
    for _ in range(times):
        insert(client, rows)
    rebuild(client, cutoff=cutoff)
    create_views(client)


def sql_state(client) -> dict:
    q = lambda text: client.query(text).result_rows
    return {
        "positions": {(w, c, o): int(n) for w, c, o, n in q("SELECT * FROM outcome_positions_v2")},
        "cashflows": {(w, c): int(v) for w, c, v in q("SELECT wallet, condition_id, cashflow FROM trade_cashflows_v3")},
        "realized": {(w, c): (int(cf), int(v), int(p)) for w, c, cf, v, p in q(
            "SELECT wallet, condition_id, cashflow, value, realized_pnl FROM realized_pnl_by_market_final")},
        "unrealized": {(w, c): (int(cf), int(v), int(p)) for w, c, v, cf, p in q(
            "SELECT wallet, condition_id, position_value, cashflow, unrealized_pnl FROM wallet_unrealized_pnl_v2")},
        "wallets": {w: (int(r), int(u), int(t), int(mr), int(mo)) for w, r, u, t, mr, mo in q(
            "SELECT wallet, realized_pnl, unrealized_pnl, total_pnl, markets_resolved, markets_open "
            "FROM wallet_pnl_summary_final")},
    }


def oracle_state(res) -> dict:
    return {
        "positions": res.positions,
        "cashflows": res.cashflows,
        "realized": {k: (m.cashflow, m.value, m.pnl) for k, m in res.markets.items() if m.resolved},
        "unrealized": {k: (m.cashflow, m.value, m.pnl) for k, m in res.markets.items() if not m.resolved},
        "wallets": {w: (p.realized, p.unrealized, p.total, p.markets_resolved, p.markets_open)
                    for w, p in res.wallets.items()},
    }
