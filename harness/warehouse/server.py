"""A ClickHouse endpoint (HTTP and native TCP) served by the chDB wheel's clickhouse-local: a stand-in server.

Why: the production path (clickhouse-connect over HTTP to a server) must run in tests and CI, and no
clickhouse-server can be installed here. The chDB wheel holds the whole clickhouse-local application; given a
``config.xml`` in its working directory it opens ClickHouse's own listeners on ``SYSTEM START LISTEN``, and keeps
them open while one long query runs in it. What it is not: clickhouse-server (no replication, no query_log).

The server runs in a child process (``start``): the caller keeps its own interpreter free of chDB, waits for
readiness, and stops it with ``LocalServer.stop``. The child watches its stdin and signals: when the parent closes
the pipe (or dies) or sends SIGTERM/SIGINT, the child cancels its listener query (KILL QUERY over its own HTTP
port) and exits, so a server never outlives its owner.

Users (users.xml, generated): ``default`` must stay passwordless because clickhouse-local logs itself in as
``default``; it is limited to loopback and may only start/stop listeners and read system.numbers. The clients' user
(name and password from the caller, stored as a SHA-256 hash, never on a command line) has every right and
access management. Listeners bind 127.0.0.1 only.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from base64 import b64encode
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from harness.errors import HarnessError, register_secret

HOST = "127.0.0.1"
#: The query that keeps the listeners up; its text is how the stop finds it (KILL QUERY ... LIKE).
LISTEN_SQL = ("SYSTEM START LISTEN HTTP; SYSTEM START LISTEN TCP; "
              "SELECT sleepEachRow(1) FROM system.numbers LIMIT 1000000000 "
              "SETTINGS max_block_size = 1, log_comment = 'harness-warehouse-server' FORMAT Null")
_KILL_SQL = ("KILL QUERY WHERE query LIKE '%harness-warehouse-server%' "
             "AND query NOT LIKE '%KILL QUERY%' SYNC")
_ENV_PREFIX = "HARNESS_WS_"


class ServerError(HarnessError):
    """The local server could not start or stop; the message names the data directory and the cause."""


@dataclass
class LocalServer:
    """A running clickhouse-local with listeners; ``url`` is what CLICKHOUSE_URL / --clickhouse take."""

    data: Path
    http_port: int
    tcp_port: int
    user: str
    password: str = field(repr=False)
    process: subprocess.Popen = field(repr=False)
    workdir: Path = field(repr=False)
    started_in: float = 0.0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.http_port}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def query(self, sql: str, timeout: float = 30) -> str:
        """One statement over HTTP as the clients' user (for readiness and stop; clients use clickhouse-connect)."""
        return _http(self.http_port, sql, self.user, self.password, timeout)

    def stop(self, timeout: float = 30) -> int:
        """Close the child's stdin (it cancels its listener query and exits); SIGTERM, then SIGKILL, if it will not
        go. The child's exit status: 0, or 1 when clickhouse-local ends the process itself after waiting (~5 s) for
        clients' idle keep-alive connections; what was written before is on disk either way."""
        if self.alive():
            _close(self.process.stdin)  # the child cancels its own listener query on EOF
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.terminate()
                try:
                    self.process.wait(10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(10)
        _close(self.process.stdin)
        shutil.rmtree(self.workdir, ignore_errors=True)
        return self.process.returncode

    def log_tail(self, lines: int = 5) -> str:
        """The child's last stderr lines (clickhouse-local's own errors), for a one-line failure message."""
        try:
            text = (self.workdir / "server.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return " | ".join(ln.strip() for ln in text.strip().splitlines()[-lines:] if ln.strip())

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def free_port() -> int:
    """A loopback port nobody listens on right now (the child binds it a moment later; start retries a clash)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def write_config(conf: Path, *, http_port: int, tcp_port: int, user: str, password: str) -> None:
    """config.xml and users.xml for the child, readable by this user only."""
    if not user or user == "default" or not user.replace("_", "").isalnum():
        raise ServerError(f"warehouse-server: user {user!r} must be letters, digits or _, and not 'default'")
    if not password:
        raise ServerError("warehouse-server: the clients' user needs a password (CLICKHOUSE_PASSWORD)")
    conf.mkdir(mode=0o700, parents=True, exist_ok=True)
    digest = hashlib.sha256(password.encode()).hexdigest()
    files = {
        "config.xml": f"""<clickhouse>
  <listen_host>{HOST}</listen_host>
  <http_port>{int(http_port)}</http_port>
  <tcp_port>{int(tcp_port)}</tcp_port>
  <users_config>users.xml</users_config>
</clickhouse>
""",
        "users.xml": f"""<clickhouse>
  <profiles><default/></profiles>
  <quotas><default/></quotas>
  <users>
    <default>
      <password></password>
      <networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
      <grants>
        <query>GRANT SYSTEM LISTEN ON *.*</query>
        <query>GRANT SELECT ON system.numbers</query>
      </grants>
    </default>
    <{escape(user)}>
      <password_sha256_hex>{digest}</password_sha256_hex>
      <networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
      <access_management>1</access_management>
      <named_collection_control>1</named_collection_control>
    </{escape(user)}>
  </users>
</clickhouse>
""",
    }
    for name, text in files.items():
        p = conf / name
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)


def start(data: Path | str, *, user: str, password: str, http_port: int = 0, tcp_port: int = 0,
          ready_timeout: float = 90, attempts: int = 3) -> LocalServer:
    """Start a server on ``data`` and return once it answers a query as ``user``; port 0 picks a free one."""
    register_secret(password)
    data = Path(data).resolve()
    data.mkdir(parents=True, exist_ok=True)
    last = ""
    for _ in range(attempts):
        server = _spawn(data, user=user, password=password, http_port=http_port or free_port(),
                        tcp_port=tcp_port or free_port())
        t0 = time.monotonic()
        deadline = t0 + ready_timeout
        while time.monotonic() < deadline and server.alive():
            try:
                if server.query("SELECT 1", timeout=5).strip() == "1":
                    server.started_in = time.monotonic() - t0
                    return server
            except (OSError, ServerError):
                pass
            time.sleep(0.1)
        last = server.log_tail() or (f"exit status {server.process.returncode}" if not server.alive()
                                     else f"no answer within {ready_timeout:g} s")
        last = f"http port {server.http_port}, tcp port {server.tcp_port}: {last}"
        server.stop(timeout=10)
        if "Address already in use" not in last or http_port or tcp_port:
            break  # only a clash on ports we picked ourselves is worth another try
    raise ServerError(f"warehouse-server on {data}: could not start ({last[:500]})")


def _spawn(data: Path, *, user: str, password: str, http_port: int, tcp_port: int) -> LocalServer:
    workdir = Path(tempfile.mkdtemp(prefix="harness-ws-"))
    write_config(workdir / "conf", http_port=http_port, tcp_port=tcp_port, user=user, password=password)
    env = dict(os.environ)
    env.update({f"{_ENV_PREFIX}DATA": str(data), f"{_ENV_PREFIX}PORT": str(http_port),
                f"{_ENV_PREFIX}USER": user, f"{_ENV_PREFIX}PASSWORD": password})
    log = open(workdir / "server.log", "wb")  # noqa: SIM115 - the child owns it; closed below once handed over
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from harness.warehouse.server import _child; _child()"],
            cwd=workdir, env=env, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)  # a Ctrl-C in the terminal reaches the owner, which stops the child in order
    finally:
        log.close()
    return LocalServer(data=data, http_port=http_port, tcp_port=tcp_port, user=user, password=password,
                       process=proc, workdir=workdir)


def _http(port: int, sql: str, user: str, password: str, timeout: float) -> str:
    token = b64encode(f"{user}:{password}".encode()).decode()
    req = urllib.request.Request(f"http://{HOST}:{port}/", data=sql.encode(),
                                 headers={"Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", "replace").strip().splitlines()
        raise ServerError(f"warehouse-server: HTTP {exc.code}: {(body or [''])[0][:300]}") from None


def _close(stream) -> None:
    try:
        if stream is not None and not stream.closed:
            stream.close()
    except OSError:
        pass


def _child() -> None:
    """The server process: import chDB here (before entering conf/, whose config.xml the import would also read),
    then run the listener query until a stop cancels it. Exit 0 after a requested stop, 1 otherwise."""
    import threading

    import chdb  # noqa: F401 - must be imported before the chdir below
    from chdb import _chdb

    data = os.environ.pop(f"{_ENV_PREFIX}DATA")
    port = int(os.environ.pop(f"{_ENV_PREFIX}PORT"))
    user = os.environ.pop(f"{_ENV_PREFIX}USER")
    password = os.environ.pop(f"{_ENV_PREFIX}PASSWORD")
    stopping = threading.Event()
    rfd, wfd = os.pipe()
    os.set_blocking(wfd, False)
    signal.set_wakeup_fd(wfd)  # the C handler writes here even while the main thread is inside the query
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)

    def watch_signals() -> None:
        os.read(rfd, 1)
        stop()

    def watch_owner() -> None:
        sys.stdin.buffer.read()  # EOF: the owner closed the pipe or died
        stop()

    def stop() -> None:
        if stopping.is_set():
            return
        stopping.set()
        for _ in range(50):
            try:
                _http(port, _KILL_SQL, user, password, 10)
                return
            except (OSError, ServerError):
                time.sleep(0.2)  # not listening yet: try again
        os._exit(1)

    for target in (watch_signals, watch_owner):
        threading.Thread(target=target, daemon=True).start()
    os.chdir("conf")
    _chdb.query(LISTEN_SQL, "TabSeparated", path=data)  # TabSeparated: the HTTP default format clients expect
    sys.stderr.flush()
    os._exit(0 if stopping.is_set() else 1)
