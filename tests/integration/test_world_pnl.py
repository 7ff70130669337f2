"""The simulator's fixture world: SQL P&L (and the oracle) equal its exact ledger for every wallet."""
from __future__ import annotations

import csv
import gzip
import json

import pytest

from harness.config import PROJECT_ROOT
from harness.pnl import cashflow_pnl
from tests.property.sqlcheck import reset

WORLD = PROJECT_ROOT / "fixtures" / "world"


def _truth(path) -> dict[str, dict[str, int]]:
    raw = json.loads(path.read_text())
    wallets = raw.get("wallets", raw) if isinstance(raw, dict) else raw
    if isinstance(wallets, list):
        wallets = {w["address"]: w for w in wallets}
    keys = ("realized", "unrealized", "total", "markets_resolved", "markets_open")
    return {a.lower(): {k: int(v[k]) for k in keys if k in v} for a, v in wallets.items()}


@pytest.fixture(scope="module")
def world_rows():
    if not (WORLD / "truth.json").is_file() or not (WORLD / "logs.jsonl.gz").is_file():
        pytest.skip(f"no simulated world at {WORLD} (python -m harness simulate writes it)")
    from harness.chain.decode import COLUMNS, decode_logs

    with gzip.open(WORLD / "logs.jsonl.gz", "rt", encoding="utf-8") as fh:
        decoded = decode_logs(json.loads(line) for line in fh if line.strip())
    rows = {t: [dict(zip(COLUMNS[t], r)) for r in rs] for t, rs in decoded.rows.items()}
    with open(WORLD / "prices.csv", newline="", encoding="utf-8") as fh:
        rows["market_prices"] = [{"condition_id": r["condition_id"].lower(), "outcome_index": int(r["outcome_index"]),
                                  "price_micros": int(r["price_micros"]), "as_of": 0, "source": "simulator"}
                                 for r in csv.DictReader(fh)]
    return rows, _truth(WORLD / "truth.json")


def test_oracle_matches_simulator_ledger(world_rows):
    rows, truth = world_rows
    assert len(truth) >= 10 and any(t["realized"] for t in truth.values()) and any(t["unrealized"] for t in truth.values())
    got = cashflow_pnl(rows).wallets
    for addr, t in truth.items():
        w = got.get(addr)
        values = (w.realized, w.unrealized, w.total) if w else (0, 0, 0)
        assert values == (t["realized"], t["unrealized"], t["total"]), addr
        if "markets_open" in t and w:
            assert (w.markets_resolved, w.markets_open) == (t["markets_resolved"], t["markets_open"]), addr


def test_sql_matches_simulator_ledger(warehouse, world_rows):
    from harness.build import create_views, rebuild, wallet_summary
    from tests.property.pnl_stream import insert

    rows, truth = world_rows
    reset(warehouse)
    insert(warehouse, rows)
    rebuild(warehouse)
    create_views(warehouse)
    bad = []
    for addr, t in truth.items():
        s = wallet_summary(warehouse, addr)
        got = (s.realized_pnl, s.unrealized_pnl, s.total_pnl, s.markets_resolved, s.markets_open) if s else (0,) * 5
        want = (t["realized"], t["unrealized"], t["total"], t.get("markets_resolved", got[3]),
                t.get("markets_open", got[4]))
        if got != want:
            bad.append((addr, got, t))
    assert not bad, f"{len(bad)} of {len(truth)} wallets differ, e.g. {bad[:3]}"
