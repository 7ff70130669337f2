"""A backfill process killed with SIGKILL at several points, then resumed: no gap, no duplicate, same tables."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from harness import ingest
from harness.chain.faultproxy import FaultPlan
from harness.config import PROJECT_ROOT
from harness.gates.pipeline import RAW_TABLES, fingerprint

pytestmark = pytest.mark.anvil

_DUMP = (
    "import json, sys\n"
    "from harness.warehouse import connect, resolve_settings\n"
    "from harness import ingest\n"
    "from harness.gates.pipeline import RAW_TABLES, fingerprint\n"
    "c = connect(resolve_settings(clickhouse=sys.argv[1], database=sys.argv[3]))\n"
    "print(json.dumps({'fp': fingerprint(c, RAW_TABLES), 'gaps': ingest.gaps(c, 'rpc:137', 0, int(sys.argv[2])),"
    " 'dups': c.query('SELECT count() FROM (SELECT tx_hash, log_index, sub_index FROM erc1155_transfers FINAL"
    " GROUP BY 1, 2, 3 HAVING count() > 1)').result_rows[0][0]}))\n"
)


def _backfill_cmd(url: str, dsn: str, last: int, db: str = "k") -> list[str]:
    return [sys.executable, "-m", "harness", "backfill", "--rpc-url", url, "--clickhouse", dsn, "--database", db,
            "--from-block", "0", "--to-block", str(last), "--confirmations", "0", "--window", "1",
            "--max-window", "2", "--batch-logs", "1"]


def test_kill_twice_then_resume_loses_and_duplicates_nothing(replayed_chain, fault_proxy, new_db, tmp_path,
                                                             warehouse_settings):
    """Killed early (2 windows in), resumed and killed again (6 windows later), then resumed to the end. On a
    server backend the killed process writes to the session's server (a database of its own), as production does."""
    import secrets

    from harness.warehouse import connect, drop_database

    node, rep = replayed_chain
    clean = new_db()
    ingest.backfill(clean, node.url, 0, rep.last_block, confirmations=0)
    want = fingerprint(clean, RAW_TABLES)
    on_server = warehouse_settings.backend == "server"
    dsn = warehouse_settings.url if on_server else f"chdb://{tmp_path / 'wh'}"
    db = f"k_{secrets.token_hex(4)}" if on_server else "k"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    try:
        _kill_and_resume(node, rep, fault_proxy, dsn, db, env, want)
    finally:
        if on_server:
            from dataclasses import replace

            drop_database(connect(replace(warehouse_settings, database=db), create_database=False), db)


def _kill_and_resume(node, rep, fault_proxy, dsn, db, env, want):
    for kill_after in (2, 6):
        proxy = fault_proxy(node.url, FaultPlan(rate=0.0))
        proc = subprocess.Popen(_backfill_cmd(proxy.url, dsn, rep.last_block, db), cwd=PROJECT_ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            for _ in range(kill_after):
                assert proxy.getlogs_served.acquire(timeout=60), "the backfill never fetched logs"
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(30)
        assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed: kill earlier"
    # resume to the end and dump, in one process (chDB: one process per data directory at a time)
    script = ("import sys\nfrom harness.__main__ import main\n"
              "rc = main(sys.argv[4:])\nassert rc == 0, rc\n" + _DUMP)
    resume = _backfill_cmd(node.url, dsn, rep.last_block, db)[3:-6]  # default windows and batches this time
    done = subprocess.run([sys.executable, "-c", script, dsn, str(rep.last_block), db, *resume],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["gaps"] == []
    assert got["dups"] == 0
    assert {t: tuple(v) for t, v in got["fp"].items()} == want
