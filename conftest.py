"""Pytest wiring: options, the warehouse a session runs against, and its isolation under xdist.

The library (``harness``) does the work; this file only turns command-line options into library settings.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from harness.errors import redact, register_env_secrets, register_secret
from harness.gates import new_run_id
from harness.warehouse import (
    TEST_BACKENDS,
    BackendUnavailable,
    WarehouseError,
    WarehouseSettings,
    connect,
    drop_database,
    resolve_settings,
)


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("harness", "polymarket-pnl-harness")
    g.addoption("--prod", action="store_true", help="target production (needs CLICKHOUSE_URL/USER/PASSWORD/DATABASE)")
    g.addoption("--clickhouse", metavar="URL", help="chdb:///dir, http(s)://host:port (env CLICKHOUSE_URL)")
    g.addoption("--backend", choices=TEST_BACKENDS,
                help="warehouse backend (default: embedded chDB); local-server: a warehouse-server per session "
                     "(per xdist worker) on a scratch directory, every test through the server path")
    g.addoption("--database", metavar="NAME", help="database for stage runs (default: a fresh one per session)")
    g.addoption("--rpc-url", metavar="URL", help="Polygon JSON-RPC endpoint (env POLYGON_RPC_URL)")
    g.addoption("--since", metavar="AGE", help="sync window, e.g. 24h or 3d")
    g.addoption("--from-block", type=int, metavar="N", help="first block of a backfill")
    g.addoption("--to-block", type=int, metavar="N", help="last block of a backfill")
    g.addoption("--cutoff", type=int, metavar="UNIX_TS", help="ingest/build only up to this block time")
    g.addoption("--no-cutoff", action="store_true", help="ingest up to the chain head less the reorg margin")
    g.addoption(
        "--throwaway-prod", action="store_true",
        help="TEST ONLY: let deploy/rollback run on a throwaway embedded database instead of --prod",
    )
    g.addoption("--world", metavar="DIR", help="simulated world feeding the stages when no --rpc-url "
                "(default fixtures/world)")
    g.addoption("--wallets", metavar="FILE", action="append",
                help="reference wallets file(s) (default wallets.yaml, plus the world's own)")
    g.addoption("--reports", metavar="DIR", default="reports", help="where stage runs write gate reports")
    g.addoption("--keep-db", action="store_true", help="keep the session database after the run")
    g.addoption("--oracle-sample", type=int, metavar="K", default=None,
                help="validate: wallets drawn at random (seeded) for the oracle cross-check, besides the reference "
                     "wallets (default 300)")
    g.addoption("--oracle-seed", type=int, metavar="N", default=0, help="validate: seed of that sample (default 0)")
    g.addoption("--adopt-legacy", action="store_true",
                help="a warehouse holding tables of the harness's names with other columns (Cascadian's own): copy "
                     "each to <db>_archive, rename it out of the way and create the harness's; else refused")
    g.addoption("--allow-unmapped", action="store_true",
                help="backfill gate: build even when fills/transfers use tokens missing from token_map (reported)")


PROJECT_ROOT_DIR = Path(__file__).resolve().parent


class _LocalServerSlot:
    """The session's warehouse-server (``--backend local-server``): started on first use, stopped at the end.

    Its clients' user and a random password go into CLICKHOUSE_USER / CLICKHOUSE_PASSWORD of this process, so a
    command run in-process or as a child with ``--clickhouse <url>`` logs in as any server client does."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.server = None

    def get(self):
        if self.server is None:
            from harness.warehouse.server import start

            password = secrets.token_urlsafe(18)
            register_secret(password)
            self.server = start(self.data, user="harness_test", password=password)
            os.environ.update({"CLICKHOUSE_USER": "harness_test", "CLICKHOUSE_PASSWORD": password})
        return self.server

    def close(self, keep: bool) -> None:
        if self.server is not None:
            self.server.stop()
        if not keep:
            import shutil

            shutil.rmtree(self.data, ignore_errors=True)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Validate warehouse options before anything runs: a bad URL or a bare --prod stops here, touching nothing."""
    if config.getoption("--cutoff") is not None and config.getoption("--no-cutoff"):
        raise pytest.UsageError("--cutoff and --no-cutoff are mutually exclusive")
    if config.getoption("--prod") and config.getoption("--throwaway-prod"):
        raise pytest.UsageError("--throwaway-prod is a test-only stand-in for --prod; pass one, not both")
    register_env_secrets()
    register_secret(config.getoption("--rpc-url"))
    register_secret(config.getoption("--clickhouse"))
    winput = getattr(config, "workerinput", None)
    config._harness_run_id = (winput or {}).get("harness_run_id") or os.environ.get("HARNESS_RUN_ID") \
        or new_run_id()  # type: ignore[attr-defined]
    # One pytest session = one session id, shared with xdist workers: a stage's checks must all come from it.
    config._harness_session = (winput or {}).get("harness_session") or secrets.token_hex(8)  # type: ignore
    if not os.environ.get("PYTEST_XDIST_WORKER") and not config.option.xmlpath and not config.option.collectonly:
        # Every run leaves JUnit XML beside its gate report (reports/<run id>/), for CI gate jobs.
        reports = Path(config.getoption("--reports"))
        config.option.xmlpath = str((reports if reports.is_absolute() else Path(config.rootpath) / reports)
                                    / config._harness_run_id / "junit.xml")
    local = config.getoption("--backend") == "local-server"
    if local and (config.getoption("--clickhouse") or config.getoption("--prod")):
        raise pytest.UsageError("--backend local-server starts its own server: it takes neither --clickhouse nor "
                                "--prod")
    if config.getoption("--throwaway-prod") and not local and (
            config.getoption("--backend") not in (None, "embedded") or (
            config.getoption("--clickhouse") or os.environ.get("CLICKHOUSE_URL", "chdb:")).split(":")[0] != "chdb"):
        raise pytest.UsageError("--throwaway-prod only runs on the embedded warehouse or the session's own "
                                "local-server, never on a server")
    try:
        settings = resolve_settings(
            backend=None if local else config.getoption("--backend"),
            clickhouse=None if local else config.getoption("--clickhouse"),
            database=config.getoption("--database"),
            prod=config.getoption("--prod"),
            env={k: v for k, v in os.environ.items() if not k.startswith("CLICKHOUSE_")} if local else None,
        )
    except WarehouseError as exc:
        raise pytest.UsageError(str(exc)) from None
    if local:
        # Started on first use (warehouse_settings): never in the xdist controller, which runs no test.
        config._harness_local_server = _LocalServerSlot(  # type: ignore[attr-defined]
            PROJECT_ROOT_DIR / ".warehouse" / f"test-server-{_worker()}-{os.getpid()}")
        settings = WarehouseSettings(backend="server", database=settings.database)
    if settings.backend == "embedded" and not (config.getoption("--clickhouse") or config.getoption("--database")
                                               or os.environ.get("HARNESS_WAREHOUSE_DIR")):
        # chDB allows one data directory per process and locks it: each test process gets its own.
        settings = WarehouseSettings(backend="embedded", path=settings.path / f"test-{_worker()}-{os.getpid()}",
                                     database=settings.database)
        config._harness_scratch = settings.path  # type: ignore[attr-defined]
    if not (config.getoption("--database") or config.getoption("--prod")):
        settings = _with_database(settings, f"t_{_worker()}_{secrets.token_hex(4)}")
    config._harness_settings = settings  # type: ignore[attr-defined]
    if config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_XdistRunId(config), "harness-xdist-run-id")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Every test report (terminal, junit.xml, captured output) goes through the one redaction function."""
    outcome = yield
    redact_report(outcome.get_result())


def pytest_collectreport(report) -> None:
    redact_report(report)


def redact_report(rep) -> None:
    lr = rep.longrepr
    if lr is not None:
        if isinstance(lr, tuple) and len(lr) == 3:
            rep.longrepr = (lr[0], lr[1], redact(lr[2]))
        else:
            text = str(lr)
            clean = redact(text)
            if clean != text:
                rep.longrepr = clean
    rep.sections = [(k, redact(v)) for k, v in rep.sections]


class _XdistRunId:
    """Give every xdist worker the controller's run id, so one pipeline run is one run in gate_runs."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_configure_node(self, node) -> None:
        node.workerinput["harness_run_id"] = self.config._harness_run_id  # type: ignore[attr-defined]
        node.workerinput["harness_session"] = self.config._harness_session  # type: ignore[attr-defined]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under ``-n``: every stage test on one worker, in file order; everything else spread test by test.

    (xdist's own ``loadgroup`` relies on rewriting node ids, which pytest 9 no longer allows.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class StagesTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "tests/stages" if nodeid.startswith("tests/stages/") else nodeid

    return StagesTogether(config, log)


def _with_database(s: WarehouseSettings, db: str) -> WarehouseSettings:
    from dataclasses import replace

    return replace(s, database=db)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a backend other than embedded, a test marked ``embedded_only`` is skipped with its stated reason; on
    local-server, so is a test outside the stages that never asks for the session's warehouse (it is the same on
    every backend and the embedded pass runs it)."""
    backend = config.getoption("--backend") or "embedded"
    if backend == "embedded":
        return
    for item in items:
        mark = item.get_closest_marker("embedded_only")
        if mark is not None:
            why = mark.args[0] if mark.args else mark.kwargs.get("reason", "")
            assert why, f"{item.nodeid}: @pytest.mark.embedded_only needs its reason"
            item.add_marker(pytest.mark.skip(reason=f"embedded only: {why}"))
        elif (backend == "local-server" and not item.nodeid.startswith("tests/stages/")
              and "warehouse_settings" not in getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.skip(reason="uses no session warehouse: backend-independent, run by the "
                                                    "embedded pass"))


def pytest_unconfigure(config: pytest.Config) -> None:
    slot = getattr(config, "_harness_local_server", None)
    if slot is not None:
        slot.close(keep=config.getoption("--keep-db"))
    scratch = getattr(config, "_harness_scratch", None)
    if scratch is not None and not config.getoption("--keep-db"):
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture(scope="session")
def warehouse_settings(pytestconfig: pytest.Config) -> WarehouseSettings:
    slot = getattr(pytestconfig, "_harness_local_server", None)
    if slot is not None and pytestconfig._harness_settings.url is None:  # type: ignore[attr-defined]
        from dataclasses import replace

        from harness.warehouse.server import ServerError

        try:
            server = slot.get()
        except ServerError as exc:
            pytest.fail(f"--backend local-server: {exc}", pytrace=False)
        pytestconfig._harness_settings = replace(  # type: ignore[attr-defined]
            pytestconfig._harness_settings, url=server.url, user=server.user, password=server.password)
    return pytestconfig._harness_settings  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def warehouse(warehouse_settings: WarehouseSettings, pytestconfig: pytest.Config):
    """The session's client, schema applied, in a database no other worker or session uses."""
    from harness.warehouse.schema import SchemaError, apply_schema

    try:
        client = connect(warehouse_settings)
    except BackendUnavailable as exc:
        pytest.skip(str(exc))
    try:
        apply_schema(client, adopt_legacy=pytestconfig.getoption("--adopt-legacy"), report=_say(pytestconfig))
    except SchemaError as exc:  # edited schema file or legacy tables: one line, nothing was changed
        pytest.fail(f"schema: {redact(str(exc))}", pytrace=False)
    yield client
    if not (pytestconfig.getoption("--keep-db") or pytestconfig.getoption("--database")
            or warehouse_settings.prod):
        drop_database(client, warehouse_settings.database)


def _say(config: pytest.Config):
    """A line to the terminal (what --adopt-legacy did), past output capture."""
    tr = config.pluginmanager.get_plugin("terminalreporter")
    capman = config.pluginmanager.get_plugin("capturemanager")
    if tr is None or capman is None:
        return print

    def say(line: str) -> None:
        with capman.global_and_fixture_disabled():
            tr.write_line(line)
    return say


@pytest.fixture
def fresh_db(warehouse_settings: WarehouseSettings):
    """A new empty database with the schema, dropped afterwards: for tests that must start from nothing."""
    from harness.warehouse.schema import apply_schema

    if warehouse_settings.prod:
        pytest.skip("fresh_db never runs against production")
    settings = _with_database(warehouse_settings, f"f_{_worker()}_{secrets.token_hex(4)}")
    try:
        client = connect(settings)
    except BackendUnavailable as exc:
        pytest.skip(str(exc))
    apply_schema(client)
    yield client
    drop_database(client, settings.database)
