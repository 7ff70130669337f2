"""One way to get a clickhouse-connect client, whatever the backend.

embedded  chDB in-process (``chdb:///dir``): ClickHouse's own engine, no server to install.
container testcontainers' ClickHouse over HTTP; unavailable (with the reason) when no Docker engine answers.
server    a URL (``--clickhouse`` / ``CLICKHOUSE_URL``) with user and password from the environment.

All three return the same ``clickhouse_connect`` client type family and run the same SQL.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client

from harness.config import PROJECT_ROOT
from harness.errors import HarnessError, register_secret
from harness.errors import redact_url as _redact_url

BACKENDS = ("embedded", "container", "server")
#: The test suite's backends: also ``local-server``, a warehouse-server (harness.warehouse.server) that each test
#: session (each xdist worker) starts on a scratch directory and reaches by the ordinary server path.
TEST_BACKENDS = BACKENDS + ("local-server",)
DEFAULT_EMBEDDED_DIR = PROJECT_ROOT / ".warehouse"
_DB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

#: Environment variables production needs; --prod names whichever are missing. CLICKHOUSE_HOST (with
#: CLICKHOUSE_PORT / CLICKHOUSE_SECURE, clickhouse-connect's names) may stand in for CLICKHOUSE_URL.
PROD_ENV = ("CLICKHOUSE_URL", "CLICKHOUSE_USER", "CLICKHOUSE_PASSWORD", "CLICKHOUSE_DATABASE")
#: Client timeouts in seconds (clickhouse-connect's connect_timeout / send_receive_timeout), from the environment.
TIMEOUT_ENV = {"connect_timeout": "CLICKHOUSE_CONNECT_TIMEOUT", "send_receive_timeout": "CLICKHOUSE_SEND_RECEIVE_TIMEOUT"}
DEFAULT_TIMEOUTS = {"connect_timeout": 10.0, "send_receive_timeout": 300.0}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


class WarehouseError(HarnessError, RuntimeError):
    """A configuration or connection problem, phrased as one line a user can act on."""


class BackendUnavailable(WarehouseError):
    """The chosen backend cannot run on this machine (e.g. no Docker engine): skip, don't fail."""


@dataclass(frozen=True)
class WarehouseSettings:
    backend: str = "embedded"
    path: Path = DEFAULT_EMBEDDED_DIR  # embedded only
    url: str | None = field(default=None, repr=False)  # server only; may carry user:password
    database: str = "polymarket"
    prod: bool = False
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    connect_timeout: float = DEFAULT_TIMEOUTS["connect_timeout"]  # server/container: seconds to connect
    send_receive_timeout: float = DEFAULT_TIMEOUTS["send_receive_timeout"]  # seconds to wait for an answer

    def describe(self) -> str:
        """Where this points, safe to print (no credentials)."""
        if self.backend == "embedded":
            return f"embedded chdb://{self.path} database={self.database}"
        if self.backend == "server":
            return f"server {redact_url(self.url or '')} database={self.database}"
        return f"container database={self.database}"


def redact_url(url: str) -> str:
    """The URL as it may be printed (user info, query and key-like path parts masked): harness.errors."""
    return _redact_url(url)


def check_database_name(name: str, what: str = "database") -> str:
    if not _DB_NAME.match(name or ""):
        raise WarehouseError(f"{what} {name!r} is not a valid ClickHouse identifier (letters, digits, _; max 63)")
    return name


def parse_url(url: str) -> tuple[str, str | None]:
    """Split a --clickhouse URL into (backend, embedded path); raise one clear line when it is wrong."""
    parts = urlsplit(url)
    if parts.scheme == "chdb":
        path = (parts.netloc + parts.path) or ""
        if not path:
            raise WarehouseError(f"--clickhouse {url!r}: chdb URL needs a directory, e.g. chdb:///var/lib/pnl")
        return "embedded", path
    if parts.scheme in ("http", "https"):
        if not parts.hostname:
            raise WarehouseError(f"--clickhouse {redact_url(url)!r}: no host in URL")
        try:
            parts.port  # noqa: B018 - raises on a non-numeric port
        except ValueError:
            raise WarehouseError(f"--clickhouse {redact_url(url)!r}: port is not a number") from None
        return "server", None
    raise WarehouseError(
        f"--clickhouse {redact_url(url)!r}: scheme must be chdb, http or https (got {parts.scheme or 'none'!r})"
    )


def url_from_host(env: dict[str, str]) -> str | None:
    """CLICKHOUSE_HOST / CLICKHOUSE_PORT / CLICKHOUSE_SECURE (clickhouse-connect's variables) as a URL; None
    without CLICKHOUSE_HOST. Port defaults to 8443 when secure, else 8123."""
    host = (env.get("CLICKHOUSE_HOST") or "").strip()
    if not host:
        return None
    secure = (env.get("CLICKHOUSE_SECURE") or "").strip().lower()
    if secure not in _TRUE + _FALSE:
        raise WarehouseError(f"CLICKHOUSE_SECURE={secure!r}: expected true/false, 1/0, yes/no or on/off")
    port = (env.get("CLICKHOUSE_PORT") or "").strip() or ("8443" if secure in _TRUE else "8123")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise WarehouseError(f"CLICKHOUSE_PORT={port!r}: expected a TCP port 1..65535")
    if "/" in host or ":" in host.strip("[]"):
        raise WarehouseError(f"CLICKHOUSE_HOST={host!r}: a host name only (port in CLICKHOUSE_PORT, scheme from "
                             "CLICKHOUSE_SECURE), or give the whole address as CLICKHOUSE_URL")
    return f"{'https' if secure in _TRUE else 'http'}://{host}:{port}"


def _timeouts(env: dict[str, str], given: dict[str, float | None] | None) -> dict[str, float]:
    """connect_timeout / send_receive_timeout: the option, else the environment, else the default; > 0."""
    out = {}
    for key, var in TIMEOUT_ENV.items():
        value = (given or {}).get(key)
        if value is None:
            text = (env.get(var) or "").strip()
            try:
                value = float(text) if text else DEFAULT_TIMEOUTS[key]
            except ValueError:
                raise WarehouseError(f"{var}={text!r}: expected seconds, e.g. 30") from None
        if not value > 0:
            raise WarehouseError(f"{key.replace('_', '-')} {value!r}: must be more than 0 seconds")
        out[key] = float(value)
    return out


def resolve_settings(
    *,
    backend: str | None = None,
    clickhouse: str | None = None,
    database: str | None = None,
    prod: bool = False,
    env: dict[str, str] | None = None,
    timeouts: dict[str, float | None] | None = None,
) -> WarehouseSettings:
    """Combine CLI options with the environment. Touches nothing: only validates and decides.

    The server address: ``clickhouse``, else CLICKHOUSE_URL, else CLICKHOUSE_HOST/PORT/SECURE (both set and naming
    different servers is an error). ``timeouts`` (connect_timeout, send_receive_timeout) override
    CLICKHOUSE_CONNECT_TIMEOUT / CLICKHOUSE_SEND_RECEIVE_TIMEOUT."""
    from dataclasses import replace

    env = dict(os.environ if env is None else env)
    by_host = url_from_host(env)
    url = clickhouse or env.get("CLICKHOUSE_URL") or by_host
    if by_host and env.get("CLICKHOUSE_URL") and not clickhouse:
        given = urlsplit(env["CLICKHOUSE_URL"])
        if (given.hostname, given.port or (8443 if given.scheme == "https" else 8123), given.scheme) != (
                urlsplit(by_host).hostname, urlsplit(by_host).port, urlsplit(by_host).scheme):
            raise WarehouseError(f"CLICKHOUSE_URL {redact_url(env['CLICKHOUSE_URL'])!r} and CLICKHOUSE_HOST/PORT/"
                                 f"SECURE {redact_url(by_host)!r} name different servers: set one of them")
    register_secret(url)
    register_secret(env.get("CLICKHOUSE_PASSWORD"))
    limits = _timeouts(env, timeouts)
    return replace(_resolve(backend, clickhouse, url, database, prod, env), **limits)


def _resolve(backend, clickhouse, url, database, prod, env) -> WarehouseSettings:
    if prod:
        missing = [k for k in PROD_ENV if not env.get(k)]
        if clickhouse or url:
            missing = [k for k in missing if k != "CLICKHOUSE_URL"]
        if missing:
            raise WarehouseError(
                "--prod refuses to start: missing " + ", ".join(
                    "CLICKHOUSE_URL (or CLICKHOUSE_HOST)" if k == "CLICKHOUSE_URL" else k for k in missing)
                + " (set them in the environment; nothing was touched)"
            )
        if backend not in (None, "server"):
            raise WarehouseError(f"--prod needs --backend server, not {backend!r}; nothing was touched")
        kind, _ = parse_url(url)
        if kind != "server":
            raise WarehouseError("--prod needs an http(s) ClickHouse URL, not an embedded path; nothing was touched")
        return WarehouseSettings(
            backend="server", url=url, prod=True,
            database=check_database_name(env["CLICKHOUSE_DATABASE"], "CLICKHOUSE_DATABASE"),
            user=env.get("CLICKHOUSE_USER"), password=env.get("CLICKHOUSE_PASSWORD"),
        )
    if backend is not None and backend not in BACKENDS:
        raise WarehouseError(f"--backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    db = check_database_name(database or env.get("CLICKHOUSE_DATABASE") or "polymarket")
    if backend == "container":
        return WarehouseSettings(backend="container", database=db)
    if url and backend in (None, "server", "embedded"):
        kind, path = parse_url(url)
        if backend and backend != kind:
            raise WarehouseError(f"--backend {backend} does not match --clickhouse {redact_url(url)!r}")
        if kind == "embedded":
            return WarehouseSettings(backend="embedded", path=Path(path), database=db)
        return WarehouseSettings(
            backend="server", url=url, database=db,
            user=env.get("CLICKHOUSE_USER"), password=env.get("CLICKHOUSE_PASSWORD"),
        )
    if backend == "server":
        raise WarehouseError("--backend server needs --clickhouse URL, CLICKHOUSE_URL or CLICKHOUSE_HOST")
    path = Path(env.get("HARNESS_WAREHOUSE_DIR") or DEFAULT_EMBEDDED_DIR)
    return WarehouseSettings(backend="embedded", path=path, database=db)


_container = None  # one ClickHouse container per process, stopped at exit


def _container_url() -> tuple[str, str, str]:
    global _container
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no engine here"
        raise BackendUnavailable(f"container backend needs a Docker engine; none reachable ({type(exc).__name__})")
    if _container is None:
        import atexit

        from testcontainers.community.clickhouse import ClickHouseContainer

        _container = ClickHouseContainer("clickhouse/clickhouse-server:25.8")
        _container.start()
        atexit.register(_container.stop)
    host = _container.get_container_host_ip()
    port = _container.get_exposed_port(8123)
    return f"http://{host}:{port}", _container.username, _container.password


def _require_database(client: Client, db: str, settings: WarehouseSettings) -> None:
    """A reader (the API, freshness) never creates what it reads: a missing database is a typo, said plainly."""
    rows = client.query("SELECT count() FROM system.databases WHERE name = {db:String}",
                        parameters={"db": db}).result_rows
    if not rows[0][0]:
        raise WarehouseError(f"database {db!r} does not exist ({settings.describe()}): wrong --database or "
                             "CLICKHOUSE_DATABASE? Nothing was created")


def connect(settings: WarehouseSettings, *, create_database: bool = True) -> Client:
    """A client whose default database is ``settings.database``: created if asked, else it must exist (and, for
    chDB, its directory: a reader creates nothing)."""
    db = check_database_name(settings.database)
    try:
        if settings.backend == "embedded":
            if not create_database and not settings.path.is_dir():
                raise WarehouseError(f"no embedded warehouse at {settings.path} (database {db!r}): wrong "
                                     "--clickhouse or HARNESS_WAREHOUSE_DIR? Nothing was created")
            settings.path.mkdir(parents=True, exist_ok=True)
            dsn = f"chdb://{settings.path.resolve()}"
            if create_database:
                clickhouse_connect.get_client(dsn=dsn).command(f"CREATE DATABASE IF NOT EXISTS `{db}`")
            else:
                _require_database(clickhouse_connect.get_client(dsn=dsn), db, settings)
            return clickhouse_connect.get_client(dsn=dsn, database=db)
        if settings.backend == "container":
            url, user, password = _container_url()
        elif settings.backend == "server":
            url, user, password = settings.url, settings.user, settings.password
        else:
            raise WarehouseError(f"unknown backend {settings.backend!r}")
        parts = urlsplit(url)
        kwargs = dict(
            host=parts.hostname, port=parts.port or (8443 if parts.scheme == "https" else 8123),
            secure=parts.scheme == "https", username=user or parts.username or "default",
            password=password or parts.password or "", connect_timeout=settings.connect_timeout,
            send_receive_timeout=settings.send_receive_timeout,
            # no session: every request stands alone, so it may land on any replica (and no server-side session
            # state, such as SET, is ever relied on)
            autogenerate_session_id=False,
        )
        if create_database:
            clickhouse_connect.get_client(**kwargs).command(f"CREATE DATABASE IF NOT EXISTS `{db}`")
        else:
            _require_database(clickhouse_connect.get_client(**kwargs), db, settings)
        return clickhouse_connect.get_client(database=db, **kwargs)
    except WarehouseError:
        raise
    except Exception as exc:  # noqa: BLE001 - turn driver noise into one line naming the target
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if settings.backend == "embedded" and "EmbeddedServer" in msg:
            msg = ("chDB allows one process per data directory and another process has it open "
                   "(a running API, pipeline or test session?), or this process already opened a different one")
        raise WarehouseError(f"cannot open warehouse ({settings.describe()}): {msg[:300]}") from exc


def drop_database(client: Client, database: str) -> None:
    client.command(f"DROP DATABASE IF EXISTS `{check_database_name(database)}` SYNC")
