"""End to end on simulated worlds: simulator logs -> ingest -> SQL build -> views equal the simulator's ledger."""
from __future__ import annotations

import json

import pytest

from harness import ingest
from harness.pnl import build
from harness.worlds.model import WorldParams
from harness.worlds.simulate import write_world


@pytest.mark.parametrize("params", [
    WorldParams(seed=21, wallets=40, markets=6, fills=250, neg_risk_share=0.5),
    WorldParams(seed=22, wallets=40, markets=6, fills=250, open_share=0.0, neg_risk_share=1.0),
], ids=["mixed", "negrisk-resolved"])
def test_views_equal_simulator_truth(fresh_db, tmp_path, params):
    write_world(tmp_path, params)
    ingest.ingest_world(fresh_db, tmp_path)
    build.rebuild(fresh_db)
    build.create_views(fresh_db)
    truth = json.loads((tmp_path / "truth.json").read_text())["wallets"]
    rows = fresh_db.query("SELECT wallet, realized_pnl, unrealized_pnl, total_pnl FROM wallet_pnl_summary_final"
                          ).result_rows
    got = {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows}
    assert got == {w: (t["realized"], t["unrealized"], t["total"]) for w, t in truth.items()}
