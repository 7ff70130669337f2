"""SIGKILL during a deploy and during a sync (issue 21, "not yet tried"): whatever statement the kill lands after,
the next writer takes the lease over, a rollback (deploy) or a re-run (sync) brings back a consistent warehouse,
and nothing the ledgers record is lost.

Each run is a child process that pauses right after the n-th statement matching a pattern (a wrapper around its
warehouse client, nothing else changed) and prints PAUSED; the test then kills it with SIGKILL, so the kill lands
at a known point of the real code. Cost at load ~28 on 2 cores: ~50 s per deploy point, ~60 s per sync point plus
one unbroken sync (much less on an idle machine).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Child prelude: wrap every client harness.warehouse.connect returns, pausing after the n-th matching statement.
PAUSER = r'''
import re, sys, time
import harness.warehouse as wh
KIND, PATTERN, NTH = sys.argv[1], re.compile(sys.argv[2]), int(sys.argv[3])
_seen = [0]
_connect = wh.connect
def connect(*a, **k):
    client = _connect(*a, **k)
    real = getattr(client, KIND)
    def wrapped(*args, **kw):
        out = real(*args, **kw)
        # the statement or table: insert(table, ...) or insert(context=...) (the sink keeps insert contexts per run)
        ctx = kw.get("context")
        first = args[0] if args else kw.get("table") or str(getattr(ctx, "table", "")).split(".")[-1].strip("`\"")
        if PATTERN.search(str(first)):
            _seen[0] += 1
            if _seen[0] == NTH:
                print("PAUSED", flush=True)
                time.sleep(600)
        return out
    setattr(client, KIND, wrapped)
    return client
wh.connect = connect
'''

DEPLOY_SETUP = r'''
import json, sys
from harness import gates
from harness.gates import deploy
from harness.warehouse import backup
from harness.pnl.build import create_views
from harness.warehouse.schema import apply_schema
from harness.warehouse import connect, resolve_settings
c = connect(resolve_settings(database="d"))
apply_schema(c)
create_views(c)  # the deployed generation the kill must not lose
c.insert("wallet_market_pnl", [["0x" + "ab" * 20, "0x" + "01" * 32, 1, -5, 12, 7]],
         column_names=["wallet", "condition_id", "resolved", "cashflow", "value", "pnl"])
for stage in gates.STAGES[:-1]:
    run = gates.new_run_id()
    gates.record(c, run_id=run, stage=stage, check="c", outcome="passed")
    gates.record(c, run_id=run, stage=stage, check=gates.STAGE_COMPLETE, outcome="passed")
print(json.dumps({v: deploy.view_definition(c, v) for v in deploy.FINAL_VIEWS}))
'''

DEPLOY = r'''
from decimal import Decimal
from harness.gates import deploy
from harness.warehouse import backup
from harness.gates.wallets import ReferenceWallet
c = connect(resolve_settings(database="d"))
w = ReferenceWallet("w", "0x" + "ab" * 20, 7, Decimal(0), "test", "must")
deploy.deploy(c, deploy.Guard("embedded", throwaway=True), [w])
print("FINISHED", flush=True)
'''.replace("connect(", "wh.connect(").replace("resolve_settings(", "wh.resolve_settings(")

RECOVER = r'''
import json
from decimal import Decimal
from harness.gates import deploy
from harness.warehouse import backup
from harness.warehouse import connect, resolve_settings
from harness.gates.wallets import ReferenceWallet
c = connect(resolve_settings(database="d"), create_database=False)
throwaway = deploy.Guard("embedded", throwaway=True)
pending = deploy.last_deploy_id(c)
if pending:
    deploy.rollback(c, throwaway)  # takes the dead deploy's lease over
out = {"pending": bool(pending), "views": {v: deploy.view_definition(c, v) for v in deploy.FINAL_VIEWS},
       "total": c.query("SELECT total_pnl FROM wallet_pnl_summary_final").result_rows,
       "broken": [str(b) for b in backup.missing_backups(c)],
       "build_tables": c.query("SELECT count() FROM system.tables WHERE database = currentDatabase() "
                               "AND name LIKE '%\\_test'").result_rows[0][0]}
w = ReferenceWallet("w", "0x" + "ab" * 20, 7, Decimal(0), "test", "must")
out["redeploy"] = [ch.outcome for ch in deploy.deploy(c, throwaway, [w]).checks]
print(json.dumps(out))
'''


def _env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CLICKHOUSE_", "PYTEST_", "POLYGON_", "HARNESS_"))}
    return {**env, "HARNESS_WAREHOUSE_DIR": str(tmp_path / "wh"), "HARNESS_LEASE_WAIT": "20",
            "PYTHONPATH": str(ROOT)}


def _kill_at(tmp_path: Path, script: str, kind: str, pattern: str, nth: int, *args: str) -> None:
    """Run PAUSER + ``script``; SIGKILL it once it prints PAUSED (the test fails if it finishes first)."""
    proc = subprocess.Popen([sys.executable, "-c", PAUSER + script, kind, pattern, str(nth), *args], cwd=ROOT,
                            env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        for line in proc.stdout:  # a command prints its own lines first
            lines.append(line.strip())
            if lines[-1] == "PAUSED":
                break
        assert lines and lines[-1] == "PAUSED", f"never reached {kind} #{nth} matching {pattern!r}: {lines[-3:]}"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(60)
    assert proc.returncode == -signal.SIGKILL


def _python(tmp_path: Path, code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=_env(tmp_path), capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("kind,pattern,nth,where", [
    ("command", r"CREATE TABLE `\w+_archive`", 2, "between two backups"),
    ("insert", r"^deploy_log$", 2, "while the previous definitions are logged"),
    ("command", r"CREATE (OR REPLACE )?VIEW \w+_final AS", 1, "with one final view replaced and the others not"),
    ("insert", r"^deploy_log$", 6, "after the new views, before the final validation"),
])
def test_sigkill_during_deploy_then_rollback_restores_the_deployed_views(tmp_path, kind, pattern, nth, where):
    before = json.loads(_python(tmp_path, DEPLOY_SETUP))
    _kill_at(tmp_path, DEPLOY, kind, pattern, nth)
    after = json.loads(_python(tmp_path, RECOVER))
    assert after["views"] == before, f"killed {where}: the views after rollback are not the deployed ones"
    assert after["total"] == [[7]]
    assert after["broken"] == [], f"killed {where}: the ledger lists a backup that is not whole"
    assert after["build_tables"] == 0  # no dry-run leftovers
    assert after["redeploy"] == ["passed"]  # and the next deploy goes through (the dead lease was taken over)
    assert after["pending"] == (where != "between two backups")  # no view changed before the first log row


SYNC = r'''
from harness.__main__ import main
code = main(sys.argv[4:])
print("FINISHED" if code == 0 else f"EXIT {code}", flush=True)
'''

SYNC_DUMP = r'''
import json, sys
from harness.pnl.build import DERIVED_TABLES
from harness.gates.pipeline import RAW_TABLES, fingerprint
from harness.warehouse import connect, resolve_settings
out = {}
for db in sys.argv[1:]:
    c = connect(resolve_settings(database=db), create_database=False)
    out[db] = {
        "raw": fingerprint(c, RAW_TABLES), "derived": fingerprint(c, DERIVED_TABLES),
        "leftovers": c.query("SELECT name FROM system.tables WHERE database = currentDatabase() "
                             "AND match(name, '_(new|delta)_[0-9a-f]+$')").result_rows,
        "runs": [s for s, in c.query("SELECT argMax(status, updated_at) FROM ingest_runs GROUP BY run_id "
                                     "ORDER BY min(started_at)").result_rows],
        "pnl": c.query("SELECT count(), toString(sum(pnl)) FROM wallet_market_pnl").result_rows}
print(json.dumps(out, default=str))
'''


def _sync_args(url: str, db: str) -> list[str]:
    return ["sync", "--rpc-url", url, "--database", db, "--since", "3650d", "--confirmations", "0",
            "--window", "50", "--no-preparations"]


@pytest.fixture(scope="module")
def unbroken_sync(replayed_chain, tmp_path_factory):
    """The state one sync that nobody killed leaves (its own warehouse directory), shared by the kill points."""
    node, _rep = replayed_chain
    tmp = tmp_path_factory.mktemp("unbroken")
    ref = subprocess.run([sys.executable, "-m", "harness", *_sync_args(node.url, "ref")], cwd=ROOT,
                         env=_env(tmp), capture_output=True, text=True, timeout=600, check=False)
    assert ref.returncode == 0, ref.stderr[-2000:]
    return json.loads(_python(tmp, SYNC_DUMP, "ref"))["ref"]


@pytest.mark.anvil
@pytest.mark.parametrize("kind,pattern,nth,where", [
    ("insert", r"^erc1155_transfers$", 1, "mid ingest, rows written but not checkpointed"),
    ("command", r"INSERT INTO `?\w+_new_[0-9a-f]+", 3, "mid rebuild, in the build steps"),
    ("command", r"^EXCHANGE TABLES", 3, "mid rebuild, with three derived tables swapped in and six not"),
])
def test_sigkill_during_sync_then_a_rerun_equals_an_unbroken_sync(replayed_chain, unbroken_sync, tmp_path, kind,
                                                                   pattern, nth, where):
    node, _rep = replayed_chain
    _kill_at(tmp_path, SYNC, kind, pattern, nth, *_sync_args(node.url, "k"))
    again = subprocess.run([sys.executable, "-m", "harness", *_sync_args(node.url, "k")], cwd=ROOT,
                           env=_env(tmp_path), capture_output=True, text=True, timeout=600, check=False)
    assert again.returncode == 0, f"killed {where}; the re-run failed: {again.stderr[-2000:]}"
    ref_state, k_state = unbroken_sync, json.loads(_python(tmp_path, SYNC_DUMP, "k"))["k"]
    assert k_state["raw"] == ref_state["raw"], f"killed {where}: raw tables differ after the re-run"
    assert k_state["derived"] == ref_state["derived"], f"killed {where}: derived tables differ after the re-run"
    assert k_state["pnl"] == ref_state["pnl"] and ref_state["pnl"][0][0] > 0
    assert k_state["leftovers"] == [], f"killed {where}: build tables left behind"
    assert k_state["runs"][-1] == "done" and "running" not in k_state["runs"], k_state["runs"]
