"""Option and environment handling: decided before anything is touched, errors are one actionable line."""
import pytest

from harness.warehouse import WarehouseError, redact_url, resolve_settings

PROD_ENV = {
    "CLICKHOUSE_URL": "https://ch.example.internal:8443",
    "CLICKHOUSE_USER": "pnl",
    "CLICKHOUSE_PASSWORD": "s3cret-value",
    "CLICKHOUSE_DATABASE": "polymarket",
}


def test_default_is_embedded_chdb():
    s = resolve_settings(env={})
    assert s.backend == "embedded" and s.path.name == ".warehouse" and s.database == "polymarket"


def test_chdb_url_selects_embedded_path():
    s = resolve_settings(clickhouse="chdb:///var/lib/pnl", env={})
    assert (s.backend, str(s.path)) == ("embedded", "/var/lib/pnl")


def test_http_url_selects_server_with_env_credentials():
    s = resolve_settings(clickhouse="http://127.0.0.1:8123", env={"CLICKHOUSE_PASSWORD": "pw"})
    assert s.backend == "server" and s.password == "pw"
    assert "pw" not in repr(s) and "pw" not in s.describe()


@pytest.mark.parametrize(
    "url, fragment",
    [
        ("ftp://host/x", "scheme must be chdb, http or https"),
        ("http://:8123", "no host"),
        ("http://host:port", "port is not a number"),
        ("chdb://", "needs a directory"),
        ("localhost:8123", "scheme must be"),
    ],
)
def test_bad_clickhouse_url_is_one_clear_line(url, fragment):
    with pytest.raises(WarehouseError) as exc:
        resolve_settings(clickhouse=url, env={})
    msg = str(exc.value)
    assert fragment in msg and "--clickhouse" in msg and "\n" not in msg


@pytest.mark.parametrize("drop", sorted(PROD_ENV))
def test_prod_names_each_missing_setting(drop):
    env = {k: v for k, v in PROD_ENV.items() if k != drop}
    with pytest.raises(WarehouseError) as exc:
        resolve_settings(prod=True, env=env)
    msg = str(exc.value)
    assert drop in msg and "nothing was touched" in msg
    assert "s3cret-value" not in msg


def test_prod_with_everything_set_targets_the_server():
    s = resolve_settings(prod=True, env=PROD_ENV)
    assert s.prod and s.backend == "server" and s.database == "polymarket"


def test_prod_refuses_embedded_backend():
    with pytest.raises(WarehouseError, match="--prod needs"):
        resolve_settings(prod=True, backend="embedded", env=PROD_ENV)


def test_bad_database_name_rejected():
    with pytest.raises(WarehouseError, match="not a valid ClickHouse identifier"):
        resolve_settings(database="x; DROP TABLE y", env={})


def test_redact_url_hides_userinfo():
    assert redact_url("https://bob:pw@h:8443/db") == "https://***@h:8443/db"


def test_dropping_a_database_frees_its_disk_at_once(tmp_path):
    """An Atomic DROP keeps table data for 8 minutes by default; the harness drops SYNC, so a test session (or a
    pipeline re-run) never holds every dropped database's data on a small disk."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom pathlib import Path\n"
        "from harness.warehouse import WarehouseSettings, connect, drop_database\n"
        "c = connect(WarehouseSettings(backend='embedded', path=Path(sys.argv[1]), database='bulky'))\n"
        "c.command('CREATE TABLE t (s String) ENGINE = MergeTree ORDER BY s')\n"
        "c.command(\"INSERT INTO t SELECT toString(cityHash64(number)) FROM numbers(2000000)\")\n"
        "before = sum(f.stat().st_size for f in Path(sys.argv[1]).rglob('*') if f.is_file())\n"
        "drop_database(c, 'bulky')\n"
        "after = sum(f.stat().st_size for f in Path(sys.argv[1]).rglob('*') if f.is_file())\n"
        "print(before, after)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "wh")], capture_output=True, text=True,
                         check=True).stdout.split()
    before, after = int(out[-2]), int(out[-1])
    assert before > 10_000_000 and after < before / 10, (before, after)


# --- clickhouse-connect's own variables and the client timeouts (issue 20) ------------------------------------

@pytest.mark.parametrize("env, url", [
    ({"CLICKHOUSE_HOST": "ch.example.internal"}, "http://ch.example.internal:8123"),
    ({"CLICKHOUSE_HOST": "ch.example.internal", "CLICKHOUSE_SECURE": "true"}, "https://ch.example.internal:8443"),
    ({"CLICKHOUSE_HOST": "ch.example.internal", "CLICKHOUSE_SECURE": "1", "CLICKHOUSE_PORT": "9440"},
     "https://ch.example.internal:9440"),
    ({"CLICKHOUSE_HOST": "127.0.0.1", "CLICKHOUSE_PORT": "18123", "CLICKHOUSE_SECURE": "no"},
     "http://127.0.0.1:18123"),
])
def test_clickhouse_host_port_secure_name_a_server(env, url):
    s = resolve_settings(env={**env, "CLICKHOUSE_PASSWORD": "pw"})
    assert (s.backend, s.url, s.password) == ("server", url, "pw")


def test_prod_takes_clickhouse_host_instead_of_url():
    env = {k: v for k, v in PROD_ENV.items() if k != "CLICKHOUSE_URL"}
    s = resolve_settings(prod=True, env={**env, "CLICKHOUSE_HOST": "ch.example.internal", "CLICKHOUSE_SECURE": "1"})
    assert s.prod and s.url == "https://ch.example.internal:8443"
    with pytest.raises(WarehouseError, match=r"CLICKHOUSE_URL \(or CLICKHOUSE_HOST\)"):
        resolve_settings(prod=True, env=env)


@pytest.mark.parametrize("env, fragment", [
    ({"CLICKHOUSE_HOST": "h", "CLICKHOUSE_SECURE": "maybe"}, "CLICKHOUSE_SECURE='maybe'"),
    ({"CLICKHOUSE_HOST": "h", "CLICKHOUSE_PORT": "http"}, "CLICKHOUSE_PORT='http'"),
    ({"CLICKHOUSE_HOST": "h", "CLICKHOUSE_PORT": "70000"}, "CLICKHOUSE_PORT='70000'"),
    ({"CLICKHOUSE_HOST": "https://h:8443"}, "a host name only"),
    ({"CLICKHOUSE_HOST": "a.example", "CLICKHOUSE_URL": "https://b.example:8443"}, "name different servers"),
    ({"CLICKHOUSE_CONNECT_TIMEOUT": "soon"}, "CLICKHOUSE_CONNECT_TIMEOUT='soon'"),
    ({"CLICKHOUSE_SEND_RECEIVE_TIMEOUT": "0"}, "must be more than 0"),
])
def test_bad_connection_variables_are_one_line_naming_them(env, fragment):
    with pytest.raises(WarehouseError) as exc:
        resolve_settings(env=env)
    assert fragment in str(exc.value) and "\n" not in str(exc.value)


def test_the_same_server_by_url_and_by_host_is_fine():
    s = resolve_settings(env={"CLICKHOUSE_URL": "https://a.example:8443", "CLICKHOUSE_HOST": "a.example",
                              "CLICKHOUSE_SECURE": "true"})
    assert s.url == "https://a.example:8443"


def test_timeouts_come_from_the_option_then_the_environment_then_the_default():
    assert (resolve_settings(env={}).connect_timeout, resolve_settings(env={}).send_receive_timeout) == (10, 300)
    env = {"CLICKHOUSE_CONNECT_TIMEOUT": "2.5", "CLICKHOUSE_SEND_RECEIVE_TIMEOUT": "45"}
    s = resolve_settings(env=env)
    assert (s.connect_timeout, s.send_receive_timeout) == (2.5, 45)
    s = resolve_settings(env=env, timeouts={"connect_timeout": 1, "send_receive_timeout": None})
    assert (s.connect_timeout, s.send_receive_timeout) == (1, 45)


def test_a_server_that_never_answers_fails_within_the_connect_timeout():
    """A listener that accepts and never answers: the client gives up after send_receive_timeout, one line."""
    import socket
    import time

    from harness.warehouse import connect

    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        port = srv.getsockname()[1]
        s = resolve_settings(env={"CLICKHOUSE_URL": f"http://127.0.0.1:{port}", "CLICKHOUSE_SEND_RECEIVE_TIMEOUT": "1",
                                  "CLICKHOUSE_CONNECT_TIMEOUT": "1"})
        t0 = time.monotonic()
        with pytest.raises(WarehouseError, match="cannot open warehouse"):
            connect(s)
        assert time.monotonic() - t0 < 20
