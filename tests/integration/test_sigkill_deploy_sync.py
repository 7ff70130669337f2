"""SIGKILL during a deploy and during a sync (issue 21, "not yet tried"): whatever statement the kill lands after,
the next writer takes the lease over, a rollback (deploy) or a re-run (sync) brings back a consistent warehouse,
and nothing the ledgers record is lost.

Each run is a child process that pauses right after the n-th statement matching a pattern (a wrapper around its
warehouse client, nothing else changed) and prints PAUSED; the test then kills it with SIGKILL, so the kill lands
at a known point of the real code. Cost: ~15 s per deploy point, ~30 s per sync point on 2 idle cores.
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
    def wrapped(first, *args, **kw):
        out = real(first, *args, **kw)
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
from harness import deploy, gates
from harness.build import create_views
from harness.schema import apply_schema
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
from harness import deploy
from harness.wallets import ReferenceWallet
c = connect(resolve_settings(database="d"))
w = ReferenceWallet("w", "0x" + "ab" * 20, 7, Decimal(0), "test", "must")
deploy.deploy(c, deploy.Guard("embedded", throwaway=True), [w])
print("FINISHED", flush=True)
'''.replace("connect(", "wh.connect(").replace("resolve_settings(", "wh.resolve_settings(")

RECOVER = r'''
import json
from decimal import Decimal
from harness import deploy
from harness.warehouse import connect, resolve_settings
from harness.wallets import ReferenceWallet
c = connect(resolve_settings(database="d"), create_database=False)
throwaway = deploy.Guard("embedded", throwaway=True)
pending = deploy.last_deploy_id(c)
if pending:
    deploy.rollback(c, throwaway)  # takes the dead deploy's lease over
out = {"pending": bool(pending), "views": {v: deploy.view_definition(c, v) for v in deploy.FINAL_VIEWS},
       "total": c.query("SELECT total_pnl FROM wallet_pnl_summary_final").result_rows,
       "broken": [str(b) for b in deploy.missing_backups(c)],
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
    try:
        line = proc.stdout.readline().strip()
        assert line == "PAUSED", f"never reached {kind} #{nth} matching {pattern!r}: {line!r} " \
                                 f"{proc.stderr.read()[-2000:] if proc.poll() is not None else ''}"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
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
