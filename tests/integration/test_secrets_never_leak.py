"""A secret in any position of an endpoint URL never reaches any artefact of a run.

Keys sit in the path (Alchemy, Infura), the query string, or the user info; the node may echo them back in an
error body. Each run below greps everything it left behind: terminal, gate_runs, ingest_runs, both gate reports,
junit.xml and the gate table.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.errors import redact, redact_url, register_secret
from harness.gates.pipeline import pytest_command

ROOT = Path(__file__).resolve().parents[2]
PATH_KEY = "pAtHkEy0123456789abcdefXYZ"
QUERY_KEY = "qUeRyKeY9876543210zyxw"
PASSWORD = "pAsSwOrD-5150-secret"


def _artefacts(tmp_path: Path, done: subprocess.CompletedProcess, database: str | None) -> str:
    text = [done.stdout, done.stderr]
    for f in tmp_path.rglob("*"):
        if f.is_file() and f.suffix in (".xml", ".md", ".html", ".txt", ".log"):
            text.append(f.read_text(encoding="utf-8", errors="replace"))
    if database:
        code = ("from harness.warehouse import *\nc = connect(resolve_settings(database=%r))\n"
                "for t in ('gate_runs', 'ingest_runs'):\n"
                "    print(c.query(f'SELECT * FROM {t}').result_rows)\n") % database
        r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(tmp_path), capture_output=True,
                           text=True, timeout=120, check=False)
        assert r.returncode == 0, r.stderr[-2000:]
        text.append(r.stdout)
    return "\n".join(text)


def _env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CLICKHOUSE_", "PYTEST_", "POLYGON_", "HARNESS_RUN_ID"))}
    env["HARNESS_WAREHOUSE_DIR"] = str(tmp_path / "wh")
    return env


def _assert_clean(blob: str) -> None:
    for secret in (PATH_KEY, QUERY_KEY, PASSWORD):
        assert secret not in blob, f"{secret} leaked:\n" + "\n".join(
            ln for ln in blob.splitlines() if secret in ln)[:3000]


class _Echo(BaseHTTPRequestHandler):
    """A node that refuses the key and echoes it back, as some providers do."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        return None

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"error": f"invalid api key in {self.path}"}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def echo_node():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _urls(hostport: str) -> list[str]:
    return [f"http://{hostport}/v2/{PATH_KEY}", f"http://{hostport}?apikey={QUERY_KEY}",
            f"http://{hostport}/{PATH_KEY}/?key={QUERY_KEY}", f"http://user:{PASSWORD}@{hostport}/rpc"]


def test_redact_masks_every_position():
    for url in _urls("node.example:8545") + [f"https://default:{PASSWORD}@h.example:8443/?password={QUERY_KEY}"]:
        for text in (url, f"error: HTTP 401 from {url}: bad", redact_url(url)):
            _assert_clean(redact(text))
    register_secret(f"https://x.example/{PATH_KEY}")
    _assert_clean(redact(f"node said: invalid api key {PATH_KEY}"))  # echoed without its URL
    assert redact("http://127.0.0.1:8545") == "http://127.0.0.1:8545"
    assert redact("https://polygon-mainnet.example/v2/") == "https://polygon-mainnet.example/v2/"


@pytest.mark.embedded_only("runs commands on an embedded warehouse directory of its own (secrets in node URLs, not the warehouse)")
@pytest.mark.parametrize("i", range(4))
def test_stage_run_against_a_node_that_echoes_the_key(echo_node, tmp_path, i):
    url = _urls(echo_node)[i]
    done = subprocess.run(
        [*pytest_command(), "tests/stages/test_1_backfill.py", "-p", "no:cacheprovider", "-q",
         "-o", "addopts=-ra --strict-markers", "--rpc-url", url, "--from-block", "0", "--to-block", "5",
         "--database", "leak", "--reports", str(tmp_path / "reports"), "--tb=long"],
        cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode != 0
    assert (tmp_path / "reports").rglob("junit.xml")
    _assert_clean(_artefacts(tmp_path, done, "leak"))


@pytest.mark.embedded_only("runs commands on an embedded warehouse directory of its own (secrets in node URLs, not the warehouse)")
@pytest.mark.parametrize("i", range(4))
def test_cli_against_a_node_that_echoes_the_key(echo_node, tmp_path, i):
    url = _urls(echo_node)[i]
    for args in (["backfill", "--rpc-url", url, "--from-block", "0", "--to-block", "5", "--retries", "1"],
                 ["sync", f"--rpc-url={url}", "--retries", "1"]):
        done = subprocess.run([sys.executable, "-m", "harness", *args, "--database", "leak"], cwd=ROOT,
                              env=_env(tmp_path), capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
        _assert_clean(_artefacts(tmp_path, done, "leak"))
    env = dict(_env(tmp_path), POLYGON_RPC_URL=url)
    done = subprocess.run([sys.executable, "-m", "harness", "sync", "--retries", "1", "--database", "leak"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    _assert_clean(_artefacts(tmp_path, done, "leak"))


@pytest.mark.embedded_only("runs commands on an embedded warehouse directory of its own (secrets in node URLs, not the warehouse)")
def test_clickhouse_url_secrets_are_never_printed(tmp_path):
    for url in (f"http://default:{PASSWORD}@127.0.0.1:9/?password={QUERY_KEY}",
                f"http://127.0.0.1:9?password={PASSWORD}", f"http://127.0.0.1:9/{PATH_KEY}"):
        done = subprocess.run([sys.executable, "-m", "harness", "schema", "--clickhouse", url], cwd=ROOT,
                              env=_env(tmp_path), capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        _assert_clean(done.stdout + done.stderr)
