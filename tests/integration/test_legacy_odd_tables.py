"""`schema --adopt-legacy` on odd legacy tables (issue 21, "not yet tried"): a view that reads a legacy table and a
materialized view that writes into one stop the adoption, naming them, before anything changes (renamed away, the
table would leave the view reading, and the materialized view writing junk into, the harness's new table); tables
of other engines (Log, a View under a harness name) and partitioned ones are archived with every row."""
from __future__ import annotations

import os
import secrets
from dataclasses import replace

import pytest

from harness.warehouse import connect, drop_database
from harness.warehouse.schema import SchemaError, apply_schema

LEGACY = """
CREATE TABLE trades_raw (trade_id String, wallet String, usd Float64) ENGINE = MergeTree PARTITION BY wallet
  ORDER BY trade_id
INSERT INTO trades_raw SELECT toString(number), concat('w', toString(number % 3)), number FROM numbers(100)
CREATE TABLE winning_index (condition_id_norm String, win_idx Int64) ENGINE = Log
INSERT INTO winning_index SELECT toString(number), number % 2 FROM numbers(7)
CREATE TABLE token_map_src (token_id String, cid String) ENGINE = MergeTree ORDER BY token_id
INSERT INTO token_map_src SELECT toString(number), 'c' FROM numbers(5)
CREATE VIEW token_map AS SELECT * FROM token_map_src
CREATE TABLE mv_src (x UInt64) ENGINE = MergeTree ORDER BY x
CREATE TABLE market_prices (x UInt64) ENGINE = MergeTree ORDER BY x
CREATE MATERIALIZED VIEW mv_into_prices TO market_prices AS SELECT x FROM mv_src
INSERT INTO mv_src VALUES (1), (2)
CREATE VIEW report_by_wallet AS SELECT wallet, sum(usd) AS usd FROM trades_raw GROUP BY wallet
"""


@pytest.fixture
def legacy_db(warehouse_settings):
    if warehouse_settings.prod:
        pytest.skip("never against production")
    settings = replace(warehouse_settings, database=f"odd_{os.getpid()}_{secrets.token_hex(4)}")
    client = connect(settings)
    for stmt in LEGACY.strip().replace("\n  ", " ").splitlines():
        client.command(stmt)
    yield client
    # the archive first: on a server every request names the client's database, which must still exist
    drop_database(client, settings.database + "_archive")
    drop_database(client, settings.database)


def _tables(client) -> dict[str, str]:
    return dict(client.query("SELECT name, engine FROM system.tables WHERE database = currentDatabase()").result_rows)


def test_views_on_legacy_tables_stop_the_adoption_naming_them(legacy_db):
    before = _tables(legacy_db)
    with pytest.raises(SchemaError, match=r"cannot adopt: mv_into_prices \(MaterializedView\) writes to market_prices; "
                                          r"report_by_wallet \(View\) reads trades_raw: drop them first .*nothing "
                                          r"was changed"):
        apply_schema(legacy_db, adopt_legacy=True)
    assert _tables(legacy_db) == before
    assert legacy_db.query("SELECT count() FROM system.databases WHERE name = {d:String}",
                           parameters={"d": legacy_db.database + "_archive"}).result_rows == [(0,)]
    assert legacy_db.query("SELECT sum(usd) FROM report_by_wallet").result_rows == [(4950.0,)]


def test_odd_engines_are_adopted_with_every_row_once_the_views_are_gone(legacy_db):
    report = legacy_db.query("SELECT wallet, usd FROM report_by_wallet ORDER BY wallet").result_rows
    legacy_db.command("DROP VIEW report_by_wallet")
    legacy_db.command("DROP VIEW mv_into_prices")
    lines: list[str] = []
    apply_schema(legacy_db, adopt_legacy=True, report=lines.append)
    adopted = {ln.split()[2].rstrip(":"): ln for ln in lines}
    assert sorted(adopted) == ["market_prices", "token_map", "trades_raw", "winning_index"]
    rows = {"market_prices": 2, "token_map": 5, "trades_raw": 100, "winning_index": 7}
    tables = _tables(legacy_db)
    for t, n in rows.items():
        aside = next(name for name in tables if name.startswith(f"{t}_legacy_"))
        assert f": {n} rows copied to " in adopted[t] and f"({n} rows, verified)" in adopted[t]
        assert legacy_db.query(f"SELECT count() FROM `{aside}`").result_rows == [(n,)]
        assert tables[t] != "View" and tables[t] != "Log"  # the harness's own table now has the name
    aside = next(name for name in tables if name.startswith("trades_raw_legacy_"))
    legacy_db.command(f"CREATE VIEW report_by_wallet AS SELECT wallet, sum(usd) AS usd FROM `{aside}` GROUP BY wallet")
    assert legacy_db.query("SELECT wallet, usd FROM report_by_wallet ORDER BY wallet").result_rows == report
    from harness.warehouse.backup import missing_backups

    assert missing_backups(legacy_db) == []
