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
