"""Runs that cannot hang and options that cannot loop: total RPC deadlines, answers checked, options validated.

A scripted JSON-RPC node on loopback plays each misbehaviour; every call must end (with a clear error) in bounded
time, and every bad option must stop with one line and exit code 2 before anything is touched.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.chain.rpc import RetryPolicy, RpcClient, RpcError, iter_windows
from harness.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]


class Node:
    """A loopback JSON-RPC endpoint whose answer to each request is decided by ``answer(body) -> (bytes, trickle)``."""

    def __init__(self, answer):
        node = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                return None

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                payload, trickle = node.answer(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    if trickle:
                        for i in range(len(payload)):
                            self.wfile.write(payload[i:i + 1])
                            self.wfile.flush()
                            time.sleep(trickle)
                    else:
                        self.wfile.write(payload)
                except OSError:
                    pass

        self.answer = answer
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _result(body, result):
    if isinstance(body, list):
        return json.dumps([{"jsonrpc": "2.0", "id": b["id"], "result": r} for b, r in zip(body, result)]).encode()
    return json.dumps({"jsonrpc": "2.0", "id": body["id"], "result": result}).encode()


def _in_time(fn, seconds):
    """Run fn in a thread; the test fails (instead of hanging) when it has not returned within ``seconds``."""
    box = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t0 = time.monotonic()
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still running after {seconds}s: the call has no total deadline"
    return box, time.monotonic() - t0


def test_a_trickling_answer_hits_the_total_deadline():
    node = Node(lambda body: (_result(body, "0x89"), 0.05))  # ~40 bytes at 20 bytes/s: never a read timeout
    try:
        c = RpcClient(node.url, timeout=1.0, deadline=0.5, retry=RetryPolicy(attempts=2, base=0.01, cap=0.01))
        box, took = _in_time(c.chain_id, 15)
        assert isinstance(box.get("error"), RpcError) and "deadline" in str(box["error"]), box
        assert took < 5
    finally:
        node.close()


def test_a_node_answering_the_wrong_block_is_an_error():
    def answer(body):
        if isinstance(body, list):
            return _result(body, [{"number": hex(int(b["params"][0], 16) + 1), "timestamp": "0x10",
                                   "hash": "0x" + "ab" * 32} for b in body]), 0
        return _result(body, "0x64"), 0

    node = Node(answer)
    try:
        c = RpcClient(node.url, retry=RetryPolicy(attempts=1))
        with pytest.raises(RpcError, match="asked for block 5.*answered block 6"):
            c.block_times([5])
        with pytest.raises(RpcError, match="asked for block 5.*answered block 6"):
            c.block_hashes([5])
    finally:
        node.close()


def test_a_batch_answered_with_one_object_is_an_error():
    node = Node(lambda body: (json.dumps({"jsonrpc": "2.0", "id": 0, "result": {"number": "0x5",
                                                                               "timestamp": "0x1"}}).encode(), 0))
    try:
        c = RpcClient(node.url, retry=RetryPolicy(attempts=2, base=0.01, cap=0.01))
        with pytest.raises(RpcError, match="batch"):
            c.block_times([5, 6, 7])
    finally:
        node.close()


@pytest.mark.parametrize("log", [
    ["not", "a", "dict"],
    {"blockNumber": ["0x1"], "logIndex": "0x0"},
    {"blockNumber": "0xzz"},
    {"blockNumber": None},
])
def test_malformed_logs_are_one_clear_error(log):
    node = Node(lambda body: (_result(body, [log]), 0))
    try:
        c = RpcClient(node.url, retry=RetryPolicy(attempts=1))
        with pytest.raises(RpcError, match=r"eth_getLogs 0\.\.9"):
            c.get_logs(0, 9)
    finally:
        node.close()


@pytest.mark.parametrize("kwargs, message", [
    ({"window": 0}, "window=0"), ({"max_window": 0}, "max_window=0"), ({"window": -3}, "window=-3"),
])
def test_windows_must_be_positive(kwargs, message):
    with pytest.raises(UsageError, match=message):
        next(iter_windows(None, 0, 10, addresses=None, topic0s=None, **kwargs))


def _harness(*args, env_extra=None):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLICKHOUSE_", "POLYGON_"))}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.mark.parametrize("args, name", [
    (["backfill", "--max-window", "0"], "--max-window"),
    (["backfill", "--window", "0"], "--window"),
    (["backfill", "--confirmations", "-1"], "--confirmations"),
    (["sync", "--confirmations", "-5"], "--confirmations"),
    (["sync", "--margin", "-1"], "--margin"),
    (["backfill", "--retries", "0"], "--retries"),
    (["backfill", "--rpc-timeout", "0"], "--rpc-timeout"),
    (["backfill", "--batch-logs", "0"], "--batch-logs"),
    (["backfill", "--from-block", "-5"], "--from-block"),
    (["gaps", "--source", "rpc:137", "--from-block", "-5", "--to-block", "3"], "--from-block"),
    (["build", "--cutoff", "-5"], "--cutoff"),
    (["simulate", "--wallets", "0"], "--wallets"),
    (["simulate", "--markets", "-1"], "--markets"),
])
def test_bad_options_stop_with_one_line_and_exit_2(args, name):
    r = _harness(*args, env_extra={"POLYGON_RPC_URL": "http://127.0.0.1:9"})
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and name in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_reversed_ranges_are_refused(tmp_path):
    wh = ["--clickhouse", f"chdb://{tmp_path}/wh", "--database", "rr"]
    for args in (["gaps", "--source", "rpc:137", "--from-block", "10", "--to-block", "5"],
                 ["build", "--from-block", "10", "--to-block", "5"], ["build", "--from-block", "10"]):
        r = _harness(*args, *wh)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, (args, r.stdout, r.stderr)
        assert re.search(r"to_block|--to-block", r.stderr) and "Traceback" not in r.stderr, r.stderr
    from harness import ingest

    with pytest.raises(UsageError, match="cannot have to_block=5 < from_block=10"):
        ingest.gaps(None, "rpc:137", 10, 5)


def test_negative_confirmations_are_refused_by_the_library():
    from harness.ingest import plan_range

    class Head:
        def block_number(self):
            return 100

    with pytest.raises(UsageError, match="confirmations=-3"):
        plan_range(Head(), confirmations=-3)


def test_ops_units_and_cron_line_wrap_the_run_in_a_timeout():
    cron = [ln for ln in (ROOT / "ops" / "crontab").read_text().splitlines() if "harness sync" in ln]
    assert cron and all(re.search(r"\btimeout\s+(-\S+\s+)*\d+[smhd]?\s+\S*python -m harness sync", ln) for ln in cron)
    service = (ROOT / "ops" / "polymarket-pnl-sync.service").read_text()
    assert re.search(r"^TimeoutStartSec=\d+", service, re.MULTILINE)
    assert re.search(r"^ExecStart=\S*timeout\s+(-\S+\s+)*\d+[smhd]?\s+\S*python -m harness sync", service, re.MULTILINE)
