"""`python -m harness api` as systemd runs it: its own process, JSON logs, stopped with SIGTERM."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from harness.chain.node import free_port

ROOT = Path(__file__).resolve().parents[2]


def wait_until_serving(proc: subprocess.Popen, url: str, timeout: float = 90.0) -> None:
    """Until ``url`` answers any HTTP status (the server is up); fails if the process ends first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"api exited {proc.returncode} before serving: {proc.stderr.read()[-2000:]}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"api did not answer {url} within {timeout} s")


def test_sigterm_is_a_clean_shutdown_and_json_logs_cover_uvicorn(tmp_path):
    """A service stop (SIGTERM) is not an error: exit 0, no "error ... marked failed" line; every stderr line is
    one JSON object, uvicorn's startup, access and shutdown lines included."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLICKHOUSE_", "HARNESS_LOG"))}
    env["HARNESS_WAREHOUSE_DIR"] = str(tmp_path / "wh")
    # the API only reads: it refuses a warehouse that does not exist, so the schema is applied first
    subprocess.run([sys.executable, "-m", "harness", "schema", "--database", "svc"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "harness", "--log-format", "json", "api", "--database", "svc",
                             "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_until_serving(proc, f"http://127.0.0.1:{port}/health")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err[-3000:]
    assert "marked failed" not in err and "error" not in out.lower()
    lines = [json.loads(x) for x in err.splitlines() if x.strip()]  # every line JSON, or this raises
    loggers = {x["logger"] for x in lines}
    assert {"uvicorn.error", "uvicorn.access"} <= loggers, loggers
    assert not [x for x in lines if x["level"] in ("ERROR", "CRITICAL")]
    assert lines[-1]["msg"] == "API stopped by SIGTERM: clean shutdown"
    assert any('"GET /health HTTP/1.1"' in x["msg"] for x in lines if x["logger"] == "uvicorn.access")
