"""Every hand-built contract flow pushed through the warehouse: the node's logs backfilled over JSON-RPC, the build,
and each wallet's P&L against the figure written by hand in tests/support/flows.py (not by any harness code)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from harness.ingest import PRICE_COLUMNS, backfill
from harness.pnl.build import create_views, rebuild
from tests.support import flows

pytestmark = pytest.mark.anvil


@pytest.mark.parametrize("play", flows.FLOWS, ids=lambda f: f.__name__)
def test_warehouse_pnl_equals_the_hand_written_figure(pm, fresh_db, play):
    flow = play(pm, f"wh-{play.__name__}")
    backfill(fresh_db, pm.node.url, flow.first_block, flow.last_block, confirmations=0, progress=False)
    # the flow's marks for open positions, as imported prices (resolved conditions use their payouts)
    tmap = {int(t): (c, int(o)) for t, c, o in fresh_db.query(
        "SELECT token_id, condition_id, outcome_index FROM token_map FINAL").result_rows}
    when = datetime.fromtimestamp(0, UTC)
    rows = [[*tmap[t], v, when, "flow"] for t, v in flow.token_value.items() if t in tmap]
    if rows:
        fresh_db.insert("imported_prices", rows, column_names=list(PRICE_COLUMNS))
    rebuild(fresh_db)
    create_views(fresh_db)
    got = {w: int(t) for w, t in fresh_db.query(
        "SELECT wallet, total_pnl FROM wallet_pnl_summary_final WHERE wallet IN {w:Array(String)}",
        parameters={"w": list(flow.wallets.values())}).result_rows}
    assert {r: got.get(w, 0) for r, w in flow.wallets.items()} == flow.expected_pnl
