"""Gates that cannot be fooled: a partial stage run never passes, and gates bind to the data they judged.

Each case runs the stages as an operator would (pytest in a subprocess, its own chDB directory, the committed
fixture world), then tries to get a later stage through with a partial selection or after tampering with the data.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.gates.pipeline import pytest_command

ROOT = Path(__file__).resolve().parents[2]
WORLD = ROOT / "fixtures" / "world"

pytestmark = pytest.mark.skipif(not (WORLD / "logs.jsonl.gz").is_file(), reason="fixture world not generated")


def _env(wdir, run_id=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CLICKHOUSE_", "PYTEST_", "POLYGON_", "HARNESS_RUN_ID"))}
    env["HARNESS_WAREHOUSE_DIR"] = str(wdir)
    if run_id:
        env["HARNESS_RUN_ID"] = run_id
    return env


def _stages(args, wdir, reports, *, run_id=None):
    return subprocess.run(
        [*pytest_command(), "tests/stages", "-p", "no:cacheprovider", "-o",
         "addopts=-ra --strict-markers", "-q", "--database", "gi", "--reports", str(reports), *args],
        cwd=ROOT, env=_env(wdir, run_id), capture_output=True, text=True, timeout=900, check=False,
    )


def _py(code, wdir):
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(wdir), capture_output=True, text=True,
                       timeout=300, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


_OPEN = "from harness.warehouse import *; from harness import gates\nc = connect(resolve_settings(database='gi'))\n"


def _missing(wdir, stage):
    out = _py(_OPEN + f"print(sorted(m.split(' ')[0] for m in gates.missing_gates(c, {stage!r})))", wdir)
    return out.strip()


@pytest.mark.embedded_only("runs `harness run`, whose embedded target is embedded by design, on a directory of its own")
def test_a_partial_selection_never_records_a_stage_as_passed(tmp_path):
    wdir, reports = tmp_path / "wh", tmp_path / "reports"
    r = _stages(["-m", "backfill or sync or cleanup"], wdir, reports)
    assert r.returncode == 0, r.stdout[-4000:]
    # The trick: run only the view setup and the completion check of validate.
    r = _stages(["-m", "validate", "-k", "views_for_validation or stage_complete"], wdir, reports, run_id="gi-k")
    assert r.returncode == 1, r.stdout[-4000:]
    assert "did not run in run gi-k" in r.stdout and "sql_matches_oracle" in r.stdout, r.stdout[-4000:]
    assert _missing(wdir, "dryrun") == "['validate']"
    # --deselect is the same trick by another name
    r = _stages(["-m", "validate", "--deselect", "tests/stages/test_4_validate.py::test_sql_matches_oracle"],
                wdir, reports, run_id="gi-deselect")
    assert r.returncode == 1 and "sql_matches_oracle" in r.stdout, r.stdout[-4000:]
    assert _missing(wdir, "dryrun") == "['validate']"
    # the whole stage passes; then the same trick on dryrun cannot open deploy
    r = _stages(["-m", "validate"], wdir, reports)
    assert r.returncode == 0, r.stdout[-4000:]
    r = _stages(["-m", "dryrun", "-k", "create_test_views or stage_complete"], wdir, reports, run_id="gi-dry")
    assert r.returncode == 1, r.stdout[-4000:]
    assert _missing(wdir, "deploy") == "['dryrun']"
    # and re-using the run id of a partial run with the rest of the checks later does not help either
    r = _stages(["-m", "dryrun", "-k", "not create_test_views"], wdir, reports, run_id="gi-dry")
    assert r.returncode == 1, r.stdout[-4000:]
    assert _missing(wdir, "deploy") == "['dryrun']"


@pytest.mark.embedded_only("runs `harness run`, whose embedded target is embedded by design, on a directory of its own")
def test_gates_bind_to_the_data_not_the_highest_block(tmp_path):
    wdir, reports = tmp_path / "wh", tmp_path / "reports"
    r = _stages(["-m", "not deploy and not rollback"], wdir, reports)
    assert r.returncode == 0, r.stdout[-4000:]
    assert _missing(wdir, "deploy") == "[]"
    # Tamper: one fill's USDC changes (same block, so the watermark stays), then the derived tables are rebuilt.
    before = _py(_OPEN + "print(gates.watermark(c).block)", wdir)
    _py(_OPEN + (
        "from harness.pnl.build import rebuild\n"
        "res = c.query('SELECT * FROM trades_raw FINAL ORDER BY block_number DESC, log_index LIMIT 1')\n"
        "row = dict(zip(res.column_names, res.result_rows[0]))\n"
        "row['usdc'] = row['usdc'] + 58_000_000; row['_version'] = row['_version'] + 1\n"
        "c.insert('trades_raw', [list(row.values())], column_names=list(row))\n"
        "rebuild(c)\n"), wdir)
    assert _py(_OPEN + "print(gates.watermark(c).block)", wdir) == before
    assert _missing(wdir, "deploy") == "['backfill', 'cleanup', 'dryrun', 'sync', 'validate']"
    r = _stages(["-m", "deploy", "--throwaway-prod"], wdir, reports)
    assert r.returncode == 1, r.stdout[-4000:]
    assert re.search(r"stage 'deploy' refused: missing gate backfill \(needs a passed run on the current data",
                     r.stdout), r.stdout[-4000:]
    views = _py(_OPEN + "from harness.gates.deploy import *\nprint([v for v in FINAL_VIEWS if view_definition(c, v)])",
                wdir)
    assert views.strip() == "[]"


@pytest.mark.embedded_only("runs `harness run`, whose embedded target is embedded by design, on a directory of its own")
def test_a_rebuild_of_unchanged_data_after_an_ingest_still_invalidates(tmp_path):
    """Any ingest after a gate invalidates it, even one that changed no row."""
    wdir, reports = tmp_path / "wh", tmp_path / "reports"
    r = _stages(["-m", "backfill"], wdir, reports)
    assert r.returncode == 0, r.stdout[-4000:]
    assert _missing(wdir, "sync") == "[]"
    _py(_OPEN + f"from harness.ingest import ingest_world\ningest_world(c, {str(WORLD)!r})", wdir)
    assert _missing(wdir, "sync") == "['backfill']"


def _harness_run(args, wdir, reports):
    return subprocess.run(
        [sys.executable, "-m", "harness", "run", "--database", "gi", "--reports", str(reports), *args],
        cwd=ROOT, env=_env(wdir), capture_output=True, text=True, timeout=1200, check=False)


_TTL_DELETE = (  # Issue 21: a TTL delete that a merge applies (no mutation, the same block ranges), TTL then removed
    "c.command('ALTER TABLE wallet_market_pnl MODIFY TTL toDateTime(resolved) DELETE WHERE pnl < 0', "
    "settings={'materialize_ttl_after_modify': 0})\n"
    "c.command('OPTIMIZE TABLE wallet_market_pnl FINAL')\n"
    "c.command('ALTER TABLE wallet_market_pnl REMOVE TTL')\n")
_ALIAS = "c.command('ALTER TABLE wallet_market_pnl MODIFY COLUMN pnl Int128 ALIAS cashflow * 20')\n"
_UNALIAS = "c.command('ALTER TABLE wallet_market_pnl MODIFY COLUMN pnl REMOVE ALIAS')\n"


def _refused_naming(r, table):
    assert r.returncode == 3, r.stdout[-4000:] + r.stderr[-2000:]
    verdict = next(ln for ln in r.stdout.splitlines() if ln.startswith("run ") and "(exit 3)" in ln)
    assert "stage 'deploy' refused: missing gate backfill" in verdict, verdict
    assert re.search(rf"changed since it passed on [0-9a-f]{{16}}: {table}\)", verdict), verdict


def test_an_edit_of_what_a_table_returns_refuses_deploy_naming_the_table(tmp_path):
    """Issue 21 item 1, through `python -m harness run` as an operator runs it: every stage up to dryrun passes;
    then wallet_market_pnl is edited so it returns other P&L without a new block range, and deploy is refused
    (exit 3) naming the table, with no final view created. Two edits: a column turned ALIAS (then turned back:
    the gates hold again, the fingerprint is what the table returns), and a TTL delete applied by a merge."""
    wdir, reports = tmp_path / "wh", tmp_path / "reports"
    r = _harness_run(["--stages", "backfill..dryrun"], wdir, reports)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    sums = "print(c.query('SELECT count(), sum(pnl) FROM wallet_market_pnl').result_rows[0])"
    before = _py(_OPEN + sums, wdir)
    _py(_OPEN + _ALIAS, wdir)
    assert _py(_OPEN + sums, wdir) != before  # the edit changed what the table returns
    _refused_naming(_harness_run(["--stages", "deploy"], wdir, reports), "wallet_market_pnl")
    _py(_OPEN + _UNALIAS, wdir)
    assert _py(_OPEN + sums, wdir) == before and _missing(wdir, "deploy") == "[]"
    _py(_OPEN + _TTL_DELETE, wdir)
    assert _py(_OPEN + sums, wdir) != before
    _refused_naming(_harness_run(["--stages", "deploy"], wdir, reports), "wallet_market_pnl")
    views = _py(_OPEN + "from harness.gates.deploy import *\nprint([v for v in DEPLOYED_VIEWS if view_definition(c, v)])",
                wdir)
    assert views.strip() == "[]"
