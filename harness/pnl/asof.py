"""Reference-wallet P&L as of an instant, for wallets.yaml targets dated before the data's end.

The derived tables hold P&L at the build's horizon; a target read off the UI on a given day needs the P&L then.
Rather than rebuild the warehouse at that cutoff, this reads only the reference wallets' own transactions (every
log of any transaction a wallet appears in), the market structure, resolutions and prices of the conditions those
touch, and runs the pure-Python oracles (harness.pnl.oracle, .avgcost) on them with the cutoff: bounded by the wallets' activity.
"""
from __future__ import annotations

from collections.abc import Iterable

from clickhouse_connect.driver.client import Client

from harness.pnl.avgcost import avg_cost_pnl
from harness.pnl.oracle import cashflow_pnl
from harness.warehouse import sql

#: Raw event tables read per transaction (the only ones the P&L reads besides structure and resolutions).
TX_TABLES = ("trades_raw", "erc1155_transfers", "ctf_actions", "neg_risk_conversions", "fee_refunds", "fpmm_trades",
             "fpmm_funding")


def _dicts(client: Client, text: str, params: dict) -> list[dict]:
    res = client.query(text, parameters=params)
    return [dict(zip(res.column_names, r)) for r in res.result_rows]


def wallet_tables(client: Client, wallets: Iterable[str], as_of: int) -> dict[str, list[dict]]:
    """The raw rows the wallets' P&L as of ``as_of`` depends on, in the oracle's input form.

    Prices are left to the oracle's own rule: it gets each relevant token's last fill (whoever made it) and the
    imported prices, never the build's derived marks, so a wrong price rule in SQL still shows as a difference."""
    ws = sorted({w.lower() for w in wallets})
    txs = [r[0] for r in client.query(sql.load("queries/wallet_txs"),
                                      parameters={"wallets": ws, "as_of": int(as_of)}).result_rows]
    tables = {t: _dicts(client, sql.load("queries/tx_rows"), {"table": t, "txs": txs, "as_of": int(as_of)})
              for t in TX_TABLES}
    markets = sorted({r["market_id"] for r in tables["neg_risk_conversions"]})
    tables["neg_risk_questions"] = _dicts(client, sql.load("queries/questions_for"), {"markets": markets})
    fpmms = sorted({r["fpmm"] for t in ("fpmm_trades", "fpmm_funding") for r in tables[t]})
    tables["fpmm_creations"] = _dicts(client, sql.load("queries/fpmm_creations_for"), {"fpmms": fpmms})
    tokens = sorted({int(r["token_id"]) for t in ("trades_raw", "erc1155_transfers") for r in tables[t]})
    conds = sorted({r["condition_id"] for r in tables["ctf_actions"]}
                   | {r["condition_id"] for r in tables["neg_risk_questions"]}
                   | {c.lower() for r in tables["fpmm_creations"] for c in r["condition_ids"][:1]})
    tables["token_map"] = _dicts(client, sql.load("queries/token_map_for"), {"tokens": tokens, "conditions": conds})
    conds = sorted(set(conds) | {r["condition_id"] for r in tables["token_map"]})
    tables["condition_resolutions"] = _dicts(client, sql.load("queries/resolutions_for"),
                                             {"conditions": conds, "as_of": int(as_of)})
    every_token = sorted({int(r["token_id"]) for r in tables["token_map"]})
    tables["trades_raw"] += _dicts(client, sql.load("queries/last_fills"),
                                   {"tokens": every_token, "cutoff": int(as_of)})
    tables["imported_prices"] = _dicts(client, sql.load("queries/imported_prices_for"), {"conditions": conds})
    return tables


def rows_read(tables: dict[str, list[dict]]) -> int:
    return sum(len(v) for v in tables.values())


def wallet_pnl_as_of(client: Client, wallets: Iterable[str], as_of: int) -> dict[str, dict[str, int]]:
    """{wallet: {total, realized, unrealized, ui_total, ui_realized}} in micro-USDC as of ``as_of``; wallets
    with no activity by then are omitted."""
    ws = sorted({w.lower() for w in wallets})
    tables = wallet_tables(client, ws, as_of)
    cf = cashflow_pnl(tables, cutoff=as_of)
    ac = avg_cost_pnl(tables, cutoff=as_of)
    out: dict[str, dict[str, int]] = {}
    for w in ws:
        p = cf.wallets.get(w)
        ui = [m for (mw, _c), m in ac.markets.items() if mw == w]
        if p is None and not ui:
            continue
        out[w] = {"realized": p.realized if p else 0, "unrealized": p.unrealized if p else 0,
                  "total": p.total if p else 0, "ui_realized": int(sum(m.realized for m in ui)),
                  "ui_total": int(sum(m.total for m in ui))}
    return out
