"""Issue 21 item 13: a warehouse with a block hole inside its ingested range. `gaps`, the backfill gate and
reconcile saw it; `build` and `pnl` answered as if the data were whole. Now build refuses (unless the operator asks
for a partial range with --allow-gaps, and then it says so), and pnl marks every figure it prints and exits 1."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from harness import ingest
from harness.cli import main
from tests.integration.test_small_holes import Chain

ROOT = Path(__file__).resolve().parents[2]
WORLD = ROOT / "fixtures" / "world"
pytestmark = pytest.mark.skipif(not (WORLD / "logs.jsonl.gz").is_file(), reason="fixture world not generated")


@pytest.fixture
def holey(fresh_db, warehouse_settings):
    """The fixture world's logs over RPC, backfilled as two runs with a hole between them."""
    if warehouse_settings.backend != "embedded":
        pytest.skip("in-process CLI test on the embedded warehouse only")
    with gzip.open(WORLD / "logs.jsonl.gz", "rt") as fh:
        logs = [json.loads(ln) for ln in fh]
    chain = Chain(logs)
    blocks = sorted({int(x["blockNumber"], 16) for x in logs})
    lo, hi = blocks[0], blocks[-1]
    a, b = blocks[len(blocks) // 3], blocks[2 * len(blocks) // 3]
    ingest.backfill(fresh_db, chain, lo, a, confirmations=0, progress=False)
    ingest.backfill(fresh_db, chain, b, hi, confirmations=0, progress=False)
    db = fresh_db.query("SELECT currentDatabase()").result_rows[0][0]
    return fresh_db, ["--clickhouse", f"chdb://{warehouse_settings.path}", "--database", db], (a + 1, b - 1)


def test_build_refuses_a_holey_warehouse_and_pnl_says_so(holey, capsys):
    client, base, (first, last) = holey
    assert main(["build", *base]) == 1
    err = capsys.readouterr().err
    assert "build refused" in err and f"first {first}..{last}" in err and "--allow-gaps" in err, err
    assert not client.query("SELECT count() FROM system.tables WHERE database = currentDatabase() "
                            "AND name = 'wallet_pnl_summary_final_build'").result_rows[0][0]
    # an operator who wants the partial range asks for it: built, and said loudly
    assert main(["build", *base, "--allow-gaps"]) == 0
    out, err = capsys.readouterr()
    assert "WARNING" in err and f"first {first}..{last}" in err and "rebuild" in out, (out, err)
    wallet = client.query("SELECT wallet FROM wallet_market_pnl GROUP BY wallet ORDER BY count() DESC, wallet "
                          "LIMIT 1").result_rows[0][0]
    assert main(["pnl", *base, wallet]) == 1
    out, err = capsys.readouterr()
    assert out.startswith(f"{wallet}: realized") and "[INCOMPLETE:" in out and f"{first}..{last}" in out, out
    assert "WARNING" in err, err
