"""Backend selection end to end: pytest's own start-up rejects bad settings; container skips without Docker."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.warehouse import BackendUnavailable, WarehouseError, connect, resolve_settings

ROOT = Path(__file__).resolve().parents[2]


def _pytest(*args, env_drop=(), extra_env=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLICKHOUSE_", "PYTEST_XDIST"))}
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/unit/test_warehouse_settings.py",
         *args], cwd=ROOT, capture_output=True, text=True, env=env, timeout=120,
    )


def test_bad_clickhouse_url_stops_pytest_with_one_line():
    r = _pytest("--clickhouse", "ftp://nowhere")
    assert r.returncode == 4
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("ERROR:")]
    assert errors == ["ERROR: --clickhouse 'ftp://nowhere': scheme must be chdb, http or https (got 'ftp')"]


def test_prod_without_credentials_stops_pytest_naming_them():
    r = _pytest("--prod")
    assert r.returncode == 4
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("ERROR:")]
    assert len(errors) == 1
    for name in ("CLICKHOUSE_URL", "CLICKHOUSE_USER", "CLICKHOUSE_PASSWORD", "CLICKHOUSE_DATABASE"):
        assert name in errors[0]


def test_prod_never_prints_the_password():
    r = _pytest("--prod", extra_env={"CLICKHOUSE_PASSWORD": "hunter2-very-secret"})
    assert r.returncode == 4 and "hunter2-very-secret" not in r.stdout + r.stderr


def test_unreachable_server_is_one_clear_error():
    s = resolve_settings(clickhouse="http://127.0.0.1:9", env={})
    with pytest.raises(WarehouseError) as exc:
        connect(s)
    msg = str(exc.value)
    assert msg.startswith("cannot open warehouse (server http://127.0.0.1:9") and "\n" not in msg


def test_container_backend_runs_where_docker_is(tmp_path):
    """Skips here (no Docker engine) with the reason; with Docker it applies the schema on a real server."""
    from harness.warehouse.schema import apply_schema

    try:
        client = connect(resolve_settings(backend="container", database="container_check", env={}))
    except BackendUnavailable as exc:
        pytest.skip(str(exc))
    assert apply_schema(client) > 0
    assert client.query("SELECT count() FROM trades_raw").result_rows == [(0,)]


def test_embedded_client_answers(warehouse):
    assert warehouse.query("SELECT 1 + {x:UInt8}", parameters={"x": 41}).result_rows == [(42,)]


def test_server_clients_carry_no_session_between_requests(warehouse, warehouse_settings):
    """Issue 20: each request may land on another replica of a replicated server, so none may rely on an earlier
    one: clients send no session id, and a SET sent on its own changes nothing for the next request."""
    if warehouse_settings.backend == "embedded":
        pytest.skip("the embedded engine runs in-process: no HTTP session to keep")
    assert not warehouse.get_client_setting("session_id")
    before = int(warehouse.command("SELECT getSetting('max_threads')"))
    warehouse.command(f"SET max_threads = {before + 3}")
    assert int(warehouse.command("SELECT getSetting('max_threads')")) == before


def test_no_sql_file_relies_on_session_state():
    """No SET (or other session statement) in sql/: every statement carries what it needs (SETTINGS clauses)."""
    import re

    from harness.config import SQL_DIR

    found = [str(p.relative_to(SQL_DIR)) for p in SQL_DIR.rglob("*.sql")
             if re.search(r"(?im)^\s*(SET|USE|CREATE\s+TEMPORARY)\b", p.read_text(encoding="utf-8"))]
    assert found == []
