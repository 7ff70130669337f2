"""`warehouse-server`: chDB's clickhouse-local behind ClickHouse's own HTTP and native listeners, as a command.

What an operator relies on: it prints the URL once a client can use it, the clients' user needs its password and
`default` (passwordless, for the process itself) can read nothing, data written survives a stop and a restart, and
SIGTERM / SIGINT stop it in order (exit 0, no child left behind).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import clickhouse_connect
import pytest

from harness.config import PROJECT_ROOT

USER, PASSWORD = "harness_ops", "s3cret-ws-pass"


@pytest.fixture
def serve():
    """serve(data) -> the running command; any still running when the test ends (a failed test) is stopped."""
    started = []

    def start(data, *, drop=()):
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLICKHOUSE_")}
        env.update({"CLICKHOUSE_USER": USER, "CLICKHOUSE_PASSWORD": PASSWORD})
        for k in drop:
            env.pop(k, None)
        proc = subprocess.Popen([sys.executable, "-m", "harness", "warehouse-server", "--data", str(data),
                                 "--http-port", "0", "--tcp-port", "0"], cwd=PROJECT_ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()


def _ready(proc, timeout=120) -> tuple[str, int]:
    """(URL, native port) from the ready lines; fails with the server's stderr when it never gets there."""
    deadline = time.monotonic() + timeout
    first = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("warehouse-server ready:"):
            first = line
        if line.startswith("CLICKHOUSE_URL="):
            tcp = int(first.split("native tcp ")[1].split(",")[0])
            return line.strip().split("=", 1)[1], tcp
    proc.kill()
    pytest.fail(f"warehouse-server never became ready: {proc.stderr.read()[-2000:]}")


def _client(url, user=USER, password=PASSWORD, **kw):
    port = int(url.rsplit(":", 1)[1])
    return clickhouse_connect.get_client(host="127.0.0.1", port=port, username=user, password=password, **kw)


def _as_default(url: str, sql: str) -> str:
    """The answer to ``sql`` sent as the passwordless `default` user over plain HTTP."""
    req = urllib.request.Request(url + "/", data=sql.encode(), headers={"X-ClickHouse-User": "default"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.read().decode()


def _stop(proc, sig=signal.SIGTERM, timeout=60) -> tuple[int, str]:
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out + err


def _children_of(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def test_serves_clients_keeps_data_and_stops_on_sigterm(tmp_path, serve):
    data = tmp_path / "wh"
    proc = serve(data)
    url, tcp = _ready(proc)
    assert url.startswith("http://127.0.0.1:")
    children = _children_of(proc.pid)
    assert len(children) == 1, "the server runs in one child process"
    c = _client(url)
    assert c.command("SELECT currentUser()") == USER
    c.command("CREATE DATABASE IF NOT EXISTS ws_t")
    c.command("CREATE TABLE ws_t.kv (k UInt32, v String) ENGINE = MergeTree ORDER BY k")
    c.insert("ws_t.kv", [[1, "one"], [2, "two"]], column_names=["k", "v"])
    assert c.query("SELECT k, v FROM ws_t.kv ORDER BY k").result_rows == [(1, "one"), (2, "two")]
    # the native listener accepts connections on the printed port
    with socket.create_connection(("127.0.0.1", tcp), timeout=10):
        pass
    # the clients' user needs its password; `default` has no password and may read nothing
    with pytest.raises(Exception, match="(?i)authentication failed|password"):
        _client(url, password="wrong")
    assert "ACCESS_DENIED" in _as_default(url, "SELECT count() FROM ws_t.kv")
    assert "ACCESS_DENIED" in _as_default(url, "DROP DATABASE ws_t")
    assert c.command("SELECT count() FROM ws_t.kv") == 2
    c.close()

    t0 = time.monotonic()
    rc, out = _stop(proc)
    assert rc == 0, out
    assert "warehouse-server stopped" in out
    assert time.monotonic() - t0 < 30
    assert PASSWORD not in out
    for pid in children:
        assert not os.path.exists(f"/proc/{pid}"), "the server's child outlived it"
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=2).close()

    proc = serve(data)  # the same directory again: the rows are still there
    url, _ = _ready(proc)
    assert _client(url).query("SELECT k, v FROM ws_t.kv ORDER BY k").result_rows == [(1, "one"), (2, "two")]
    rc, out = _stop(proc, signal.SIGINT)
    assert rc == 0, out


def test_without_the_clients_password_nothing_starts(tmp_path, serve):
    proc = serve(tmp_path / "wh", drop=("CLICKHOUSE_PASSWORD",))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "CLICKHOUSE_PASSWORD" in err and "nothing was started" in err
    assert not (tmp_path / "wh").exists()


def test_a_port_in_use_is_one_line_naming_it(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLICKHOUSE_")}
        env.update({"CLICKHOUSE_USER": USER, "CLICKHOUSE_PASSWORD": PASSWORD})
        done = subprocess.run([sys.executable, "-m", "harness", "warehouse-server", "--data", str(tmp_path / "wh"),
                               "--http-port", str(port), "--tcp-port", "0"], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "could not start" in lines[0] and str(port) in lines[0], done.stderr
