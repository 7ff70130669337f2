"""Issue 21, items 4, 6, 8, 9, 10, 12: every outbound HTTP call has a total deadline, every operator command checks
its inputs before it touches anything, and redaction keeps the host while it masks the secret.

Receivers and nodes are loopback servers in threads; the CLI runs as a child process where the point is what an
operator sees (one line, an exit code, nothing created).
"""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.chain.node import free_port
from harness.chain.rpc import RetryPolicy, RpcClient
from harness.errors import UsageError, redact, redact_url, register_secret
from harness.ops import notify

ROOT = Path(__file__).resolve().parents[2]


def _in_time(fn, seconds: float):
    """fn() in a thread; (value, seconds taken), or the test fails when it is still running after ``seconds``."""
    box: dict = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001
            box["error"] = exc

    t0 = time.monotonic()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still running after {seconds}s: the call has no total deadline"
    if "error" in box:
        raise box["error"]
    return box["value"], time.monotonic() - t0


class _Trickler:
    """An alert receiver that answers its status line and headers one byte every ``every`` seconds: each read
    gets a byte well within any socket timeout, so only a total deadline ends the post."""

    def __init__(self, every: float) -> None:
        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                return None

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                head = b"HTTP/1.1 204 No Content\r\nX-Slow: " + b"y" * 10_000 + b"\r\n\r\n"
                try:
                    for i in range(len(head)):
                        self.wfile.write(head[i:i + 1])
                        self.wfile.flush()
                        time.sleep(every)
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook/tokEn12345"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- 4: a total deadline on every outbound HTTP call ---------------------------------------------------------------


def test_a_trickling_alert_receiver_cannot_hold_the_run():
    rx = _Trickler(every=0.3)  # a byte every 0.3 s: never a read timeout at timeout=1
    try:
        ok, took = _in_time(lambda: notify.post(rx.url, {"stage": "run", "outcome": "failed"}, timeout=1.0), 15)
    finally:
        rx.close()
    assert ok is False and took < 6, took  # the default deadline is 2 x timeout


def test_every_module_that_speaks_http_goes_through_the_one_deadline():
    """Closing the class: a module of harness/ that imports an HTTP client is either a loopback tool (the local
    anvil node, the test fault proxy, the local warehouse-server's control) or uses harness.deadline.within; nothing else may speak HTTP."""
    loopback_only = {"harness/chain/node.py", "harness/chain/faultproxy.py",
                     "harness/warehouse/server.py"}  # the local endpoint's own start/stop statements, on 127.0.0.1
    http = {"requests", "urllib.request", "http.client", "httpx", "aiohttp", "urllib3"}
    speakers, with_deadline = set(), set()
    for path in (ROOT / "harness").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n in http or n.split(".")[0] in http for n in names):
                speakers.add(rel)
            if isinstance(node, ast.ImportFrom) and node.module == "harness.deadline" and any(
                    a.name == "within" for a in node.names):
                with_deadline.add(rel)
    assert {"harness/ops/notify.py", "harness/chain/rpc.py"} <= speakers  # the check sees the two real clients
    assert speakers - loopback_only <= with_deadline, sorted(speakers - loopback_only - with_deadline)


# --- 6 and 10: inputs refused before anything is done -------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://[::1", "http://host:port/x", "http://", "ftp://hooks.example/x",
                                 "http://hooks.example/a b"])
def test_a_malformed_notify_url_is_refused_as_a_usage_error(url):
    with pytest.raises(UsageError, match=r"--notify-url / HARNESS_NOTIFY_URL"):
        notify.notify_url(url)
    with pytest.raises(UsageError, match=r"--notify-url / HARNESS_NOTIFY_URL"):
        notify.notify_url(None, env={"HARNESS_NOTIFY_URL": url})


def test_posting_to_a_malformed_url_is_logged_never_raised():
    assert notify.post("http://[::1", {"stage": "x"}) is False


@pytest.mark.parametrize("url", ["ftp://node.example/key123", "http://[::1", "ws://127.0.0.1:8546",
                                 "http://127.0.0.1:8545,ftp://127.0.0.1:21"])
def test_an_rpc_url_that_is_not_http_is_refused_at_once(url):
    with pytest.raises(UsageError, match="RPC endpoint"):
        RpcClient(url, retry=RetryPolicy(attempts=8, base=0.5))


def _env(tmp_path: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CLICKHOUSE_", "PYTEST_", "POLYGON_", "HARNESS_"))}
    env["HARNESS_WAREHOUSE_DIR"] = str(tmp_path / "wh")
    env.update(extra)
    return env


def _harness(tmp_path: Path, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, env=_env(tmp_path, **env),
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.mark.parametrize("args", [
    ["backfill", "--rpc-url", "ftp://node.example/k3y", "--from-block", "0", "--to-block", "5"],
    ["sync", "--rpc-url", "http://[::1"],
    ["reconcile", "--rpc-url", "ftp://node.example/k3y", "--wallet", "0x" + "1" * 40],
    ["freshness", "--notify-url", "http://[::1"],
    ["run", "--stages", "validate", "--notify-url", "http://[::1"],
])
def test_operator_commands_refuse_a_bad_url_before_touching_anything(tmp_path, args):
    t0 = time.monotonic()
    done = _harness(tmp_path, *args)
    took = time.monotonic() - t0
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "URL" in lines[0] or "scheme" in lines[0], lines
    assert "k3y" not in done.stderr
    assert not (tmp_path / "wh").exists(), "the warehouse was opened before the inputs were checked"
    assert took < 20, f"{took:.1f}s: retried instead of refused"


# --- 8 and 9: the host stays, the secret goes ---------------------------------------------------------------------


@pytest.mark.parametrize("key", ["abc123def", "k3y9", "Zx81Qw", "s3cret_42"])
def test_a_short_key_in_a_url_path_is_masked_and_the_host_kept(key):
    url = f"https://polygon.node.example:8545/rpc/{key}"
    for text in (url, f"error: HTTP 401 from {url}: invalid key"):
        out = redact(text)
        assert key not in out and "polygon.node.example:8545/rpc/***" in out, out
    assert redact_url(f"https://polygon-mainnet.example/v2/{key}") == "https://polygon-mainnet.example/v2/***"


def test_readable_path_words_stay_readable():
    for url in ("https://polygon-mainnet.example/v2/", "http://127.0.0.1:8545", "https://h.example/rpc/polygon",
                "https://h.example/ext/bor", "https://h.example/137"):
        assert redact(url) == url


def test_a_comma_separated_rpc_list_keeps_each_host_readable():
    a, b = "http://10.1.2.3:8545/keyAAAA1111", "http://10.1.2.4:8546/keyBBBB2222"
    register_secret(f"{a},{b}")  # as POLYGON_RPC_URL or one --rpc-url value is registered
    out = redact(f"rpc endpoint 10.1.2.4:8546 failed; endpoints {a},{b}")
    assert "10.1.2.4:8546 failed" in out and "http://10.1.2.3:8545/***,http://10.1.2.4:8546/***" in out, out
    assert "keyAAAA1111" not in out and "keyBBBB2222" not in out


def test_a_chdb_path_is_not_a_secret(tmp_path):
    url = "chdb:///var/lib/polymarket-pnl-warehouse/2026"
    register_secret(url)  # CLICKHOUSE_URL is registered like any *_URL variable
    assert redact(f"cannot open warehouse ({url})") == f"cannot open warehouse ({url})"
    assert redact("/var/lib/polymarket-pnl-warehouse/2026") == "/var/lib/polymarket-pnl-warehouse/2026"


def test_which_node_failed_is_readable_in_a_cli_error(tmp_path):
    p1, p2 = free_port(), free_port()
    urls = f"http://127.0.0.1:{p1}/keyAAAA1111,http://127.0.0.1:{p2}/keyBBBB2222"
    for env in ({}, {"POLYGON_RPC_URL": urls}):
        args = ["sync", "--retries", "3", "--rpc-fail-limit", "1", "--rpc-cool-down", "0.1", "--no-rebuild"]
        done = _harness(tmp_path, *args, *([] if env else ["--rpc-url", urls]), **env)
        assert done.returncode == 2, done.stderr
        err = done.stderr.strip().splitlines()[-1]
        assert f"127.0.0.1:{p1}" in err and f"127.0.0.1:{p2}" in err, err
        assert "keyAAAA1111" not in done.stderr and "keyBBBB2222" not in done.stderr


# --- 12: a reader creates nothing ---------------------------------------------------------------------------------


def test_the_api_refuses_a_missing_database_creating_nothing(tmp_path):
    assert _harness(tmp_path, "schema", "--database", "real_db").returncode == 0
    try:
        done = _harness(tmp_path, "api", "--database", "typo_db", "--port", str(free_port()), timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("api --database typo_db started serving a database that does not exist")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and "'typo_db' does not exist" in lines[-1] and "Nothing was created" in lines[-1]
    code = ("from harness.warehouse import *\nc = connect(resolve_settings(database='real_db'))\n"
            "print(sorted(r[0] for r in c.query('SELECT name FROM system.databases').result_rows))")
    dbs = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(tmp_path), capture_output=True,
                         text=True, timeout=60, check=True).stdout
    assert "real_db" in dbs and "typo_db" not in dbs, dbs


def test_a_reader_refuses_a_missing_warehouse_directory(tmp_path):
    done = _harness(tmp_path, "freshness", "--clickhouse", f"chdb://{tmp_path}/typo_dir")
    assert done.returncode == 2 and "no embedded warehouse at" in done.stderr, done.stderr
    assert not (tmp_path / "typo_dir").exists()
