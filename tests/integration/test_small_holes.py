"""The smaller holes of issue 13, one test each: build has no gate so it never touches the final views,
--refetch retracts reorged logs, wallets.yaml takes EIP-55 and refuses absurd tolerances, the API's 503 carries
no SQL, the node starter refuses a port another process holds, deploy without --prod is not a quiet skip, and
rollback passes after a rollback to an earlier live deploy."""
from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness import ingest
from harness.chain.rpc import RetryPolicy, RpcClient
from harness.gates.pipeline import pytest_command

ROOT = Path(__file__).resolve().parents[2]
WORLD = ROOT / "fixtures" / "world"
needs_world = pytest.mark.skipif(not (WORLD / "logs.jsonl.gz").is_file(), reason="fixture world not generated")


def _env(wdir):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CLICKHOUSE_", "PYTEST_", "POLYGON_", "HARNESS_RUN_ID"))}
    env["HARNESS_WAREHOUSE_DIR"] = str(wdir)
    return env


def _harness(*args, wdir):
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, env=_env(wdir),
                          capture_output=True, text=True, timeout=300, check=False)


def _stages(args, wdir, reports):
    return subprocess.run(
        [*pytest_command(), "tests/stages", "-p", "no:cacheprovider", "-o",
         "addopts=-ra --strict-markers", "-q", "--reports", str(reports), *args],
        cwd=ROOT, env=_env(wdir), capture_output=True, text=True, timeout=900, check=False)


@pytest.mark.embedded_only("runs commands on an embedded warehouse directory of its own (HARNESS_WAREHOUSE_DIR / chdb://), the default path")
@needs_world
def test_build_never_creates_the_final_views(tmp_path):
    wdir = tmp_path / "wh"
    assert _harness("ingest-files", str(WORLD), "--database", "b", wdir=wdir).returncode == 0
    r = _harness("build", "--no-cutoff", "--database", "b", wdir=wdir)
    assert r.returncode == 0, r.stderr
    views = subprocess.run(
        [sys.executable, "-c", "from harness.warehouse import *; from harness.gates.deploy import *\n"
         "c = connect(resolve_settings(database='b'))\n"
         "print([v for v in FINAL_VIEWS if view_definition(c, v)])"],
        cwd=ROOT, env=_env(wdir), capture_output=True, text=True, timeout=120, check=True).stdout.strip()
    assert views == "[]"
    truth = json.loads((WORLD / "truth.json").read_text())["wallets"]
    wallet = max(truth, key=lambda w: abs(truth[w]["total"]))
    out = _harness("pnl", "--database", "b", wallet, wdir=wdir).stdout
    assert "undeployed build preview" in out and wallet in out


class Chain(RpcClient):
    """An in-memory chain holding the given logs (each with its blockTimestamp)."""

    def __init__(self, logs):
        super().__init__("http://127.0.0.1:9", retry=RetryPolicy(attempts=1))
        self.logs = logs
        self.head = max(int(log["blockNumber"], 16) for log in logs)

    def call(self, method, params=None):
        if method == "eth_chainId":
            return "0x89"
        if method == "eth_blockNumber":
            return hex(self.head)
        if method == "eth_getLogs":
            lo, hi = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
            return [log for log in self.logs if lo <= int(log["blockNumber"], 16) <= hi]
        raise AssertionError(method)


@needs_world
def test_refetch_retracts_logs_a_reorg_removed(fresh_db):
    with gzip.open(WORLD / "logs.jsonl.gz", "rt") as fh:
        logs = [json.loads(ln) for ln in fh][:200]
    chain = Chain(logs)
    ingest.backfill(fresh_db, chain, 0, chain.head, confirmations=0)
    count = "SELECT count() FROM erc1155_transfers FINAL"
    before = fresh_db.query(count).result_rows[0][0]
    gone = next(log for log in logs if log["topics"][0].startswith("0xc3d58168"))  # a TransferSingle
    chain.logs = [log for log in logs if log is not gone]
    stats = ingest.backfill(fresh_db, chain, 0, chain.head, confirmations=0, refetch=True)
    assert stats.retracted == 1
    assert fresh_db.query(count).result_rows[0][0] == before - 1


def test_wallets_file_takes_eip55_and_refuses_absurd_tolerances(tmp_path):
    from harness.gates.wallets import WalletsFileError, load_wallets

    def file(address, tol="5", bias=None):
        f = tmp_path / "w.yaml"
        f.write_text(f"wallets:\n  - name: a\n    address: \"{address}\"\n    target_usd: 10\n"
                     f"    tolerance_pct: {tol}\n" + (f"    expected_bias_pct: {bias}\n" if bias else "")
                     + "    source: test\n    level: must\n", encoding="utf-8")
        return f

    good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55's own test vector
    (w,) = load_wallets(file(good))
    assert w.address == good.lower()
    with pytest.raises(WalletsFileError, match="EIP-55"):
        load_wallets(file(good.replace("aA", "Aa")))
    with pytest.raises(WalletsFileError, match="tolerance_pct"):
        load_wallets(file(good.lower(), tol="1e9"))
    with pytest.raises(WalletsFileError, match="expected_bias_pct"):
        load_wallets(file(good.lower(), bias="-500"))


def test_api_503_never_shows_sql(fresh_db):
    from fastapi.testclient import TestClient

    from harness.serve import app as api

    with TestClient(api.create_app(lambda: fresh_db)) as http:  # no final views: every query fails
        r = http.get("/wallets/0x" + "ab" * 20 + "/pnl")
    assert r.status_code == 503
    detail = r.json()["detail"]
    assert not re.search(r"(?i)\b(select|from|where)\b", detail), detail
    assert "UNKNOWN_TABLE" in detail or "wallet_pnl_summary_final" in detail, detail


class _Foreign(BaseHTTPRequestHandler):
    def log_message(self, *a):
        return None

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"jsonrpc":"2.0","id":1,"result":"0x89"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_node_starter_refuses_a_port_another_process_holds():
    from harness.chain.node import Anvil, NodeError, find_anvil

    if find_anvil() is None:
        pytest.skip("anvil not installed (bash scripts/setup.sh)")
    foreign = ThreadingHTTPServer(("127.0.0.1", 0), _Foreign)
    threading.Thread(target=foreign.serve_forever, daemon=True).start()
    try:
        with pytest.raises(NodeError, match="another process|did not start"):
            node = Anvil.start(port=foreign.server_address[1], timeout=5)
            node.stop()
    finally:
        foreign.shutdown()
        foreign.server_close()


@pytest.mark.embedded_only("runs commands on an embedded warehouse directory of its own (HARNESS_WAREHOUSE_DIR / chdb://), the default path")
def test_deploy_selected_without_prod_fails(tmp_path):
    r = _stages(["-m", "deploy", "--database", "np"], tmp_path / "wh", tmp_path / "reports")
    assert r.returncode != 0 and "needs --prod" in r.stdout, r.stdout[-3000:]


@pytest.mark.embedded_only("runs commands on an embedded warehouse directory of its own (HARNESS_WAREHOUSE_DIR / chdb://), the default path")
@needs_world
def test_rollback_after_two_deploys_passes(tmp_path):
    wdir, reports = tmp_path / "wh", tmp_path / "reports"
    common = ["--database", "rb", "--throwaway-prod"]
    for _ in range(2):
        r = _stages(["-m", "not rollback", *common], wdir, reports)
        assert r.returncode == 0, r.stdout[-4000:]
    r = _stages(["-m", "rollback", *common], wdir, reports)
    assert r.returncode == 0, r.stdout[-4000:]
