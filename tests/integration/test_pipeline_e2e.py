"""The six stages end to end on a throwaway embedded warehouse, as the CI gate job and an operator run them.

Runs pytest in a subprocess (its own chDB directory), fed by the committed fixture world: deploy must be refused
on a fresh database, then the full chain passes, records its gates and reports, and rollback restores the views.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORLD = ROOT / "fixtures" / "world"

pytestmark = pytest.mark.skipif(not (WORLD / "logs.jsonl.gz").is_file(), reason="fixture world not generated")


def _run(args, wdir, *, run_id):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLICKHOUSE_", "PYTEST_XDIST", "POLYGON_"))}
    env["HARNESS_WAREHOUSE_DIR"] = str(wdir)
    env["HARNESS_RUN_ID"] = run_id
    return subprocess.run(
        [sys.executable, "-m", "pytest", "tests/stages", "-p", "no:cacheprovider", "-o",
         "addopts=-ra --strict-markers", "-q", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )


def _py(code, wdir, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLICKHOUSE_")}
    env["HARNESS_WAREHOUSE_DIR"] = str(wdir)
    r = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.embedded_only("runs the stages as the README's embedded pipeline, on a directory of its own")
def test_deploy_on_fresh_database_is_refused_naming_the_gate(tmp_path):
    r = _run(["-m", "deploy", "--throwaway-prod", "--reports", str(tmp_path / "reports")], tmp_path / "wh",
             run_id="e2e-refused")
    assert r.returncode == 1, r.stdout[-3000:]
    assert re.search(r"stage 'deploy' refused: missing gate backfill \(needs a passed run on the current data, "
                     r"block 0 fingerprint [0-9a-f]{16}; last: never run\)", r.stdout), r.stdout[-3000:]


@pytest.mark.embedded_only("runs the stages as the README's embedded pipeline, on a directory of its own")
def test_full_pipeline_then_rollback(tmp_path):
    wdir, reports = tmp_path / "wh", tmp_path / "reports"
    # The plan's warehouse still holds broken enriched tables: give the cleanup stage two to back up and drop.
    _py("import sys; from harness.warehouse import *; from harness.warehouse.schema import apply_schema\n"
        "c = connect(resolve_settings(database='e2e')); apply_schema(c)\n"
        "c.command('CREATE TABLE trades_enriched (id UInt64) ENGINE = MergeTree ORDER BY id')\n"
        "c.command('INSERT INTO trades_enriched SELECT number FROM numbers(777)')\n"
        "c.command('CREATE TABLE trades_dedup (id UInt64) ENGINE = MergeTree ORDER BY id')\n", wdir)
    common = ["--database", "e2e", "--throwaway-prod", "--reports", str(reports)]
    # Under xdist (-n 2) the stages must still run in order, on one worker, in one run.
    r = _run(["-m", "not rollback", "-n", "2", *common], wdir, run_id="e2e-run")
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
    assert "gate table, run e2e-run" in r.stdout
    table = r.stdout.split("gate table, run e2e-run", 1)[1]
    for stage in ("backfill", "sync", "cleanup", "validate", "dryrun", "deploy"):
        assert re.search(rf"^{stage}\s+stage_complete\s+passed", table, re.M), f"{stage} not complete:\n{table}"
    assert re.search(r"^validate\s+wallet\[niggemon\]\s+no_data", table, re.M)  # real wallet, simulated data
    assert not re.search(r"\s(failed|error)\s", table)
    assert (reports / "e2e-run" / "gate-report.html").is_file()
    junit = (reports / "e2e-run" / "junit.xml").read_text()
    assert 'name="test_deploy"' in junit and "<failure" not in junit
    assert (reports / "e2e-run" / "gate-report.md").read_text().count("| passed |") > 10

    state = _py(
        "from harness.warehouse import *; from harness.gates.deploy import *\n"
        "c = connect(resolve_settings(database='e2e'))\n"
        "print(sorted(v for v in FINAL_VIEWS if view_definition(c, v)))\n"
        "print(c.query('SELECT source_table, archive_rows, verified FROM backups WHERE reason LIKE {r:String} '\n"
        "              'ORDER BY source_table', parameters={'r': 'cleanup%'}).result_rows)\n"
        "print(table_exists(c, 'trades_enriched'), table_exists(c, 'trades_raw'))\n", wdir)
    views, backups, exists = state.strip().splitlines()
    assert views == str(sorted(["realized_pnl_by_market_final", "wallet_realized_pnl_final",
                                "wallet_pnl_summary_final"]))
    assert backups == "[('trades_dedup', 0, 1), ('trades_enriched', 777, 1)]"
    assert exists == "False True"

    r = _run(["-m", "rollback", *common], wdir, run_id="e2e-rollback")
    assert r.returncode == 0, r.stdout[-4000:]
    after = _py(
        "from harness.warehouse import *; from harness.gates.deploy import *\n"
        "c = connect(resolve_settings(database='e2e'))\n"
        "print(sorted(v for v in FINAL_VIEWS if view_definition(c, v)), last_deploy_id(c))\n", wdir)
    assert after.strip() == "[] None"  # the views did not exist before the deploy; rollback removed them

    # A second rollback has nothing left to undo and says so.
    r = _run(["-m", "rollback", *common], wdir, run_id="e2e-rollback-2")
    assert r.returncode == 1 and "rollback refused: no deploy to roll back" in r.stdout
