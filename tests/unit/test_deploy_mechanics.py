"""Backups before drops, kept tables untouched, guard on servers, rollback restores recorded definitions."""
import pytest

from harness import deploy
from harness.deploy import DeployError, Guard

EMBEDDED = Guard("embedded")


def _make_broken(client, name, rows):
    client.command(f"CREATE TABLE {name} (id UInt64, cid String) ENGINE = MergeTree ORDER BY id")
    if rows:
        client.insert(name, [[i, f"c{i % 7}"] for i in range(rows)], column_names=["id", "cid"])


def test_cleanup_backs_up_then_drops_and_keeps_the_kept(fresh_db):
    _make_broken(fresh_db, "trades_enriched", 1234)
    _make_broken(fresh_db, "trades_dedup", 0)
    res = deploy.cleanup_broken_tables(fresh_db, EMBEDDED, backup_id="b1")
    assert sorted(b.table for b in res.dropped) == ["trades_dedup", "trades_enriched"]
    assert sorted(res.absent) == ["trades_enriched_with_condition", "trades_with_recovered_cid"]
    assert not deploy.table_exists(fresh_db, "trades_enriched")
    adb = deploy.archive_database(fresh_db)
    assert fresh_db.query(f"SELECT count(), sum(id) FROM `{adb}`.trades_enriched__b1").result_rows == [
        (1234, sum(range(1234)))]
    rec = fresh_db.query("SELECT source_table, source_rows, archive_rows, verified FROM backups ORDER BY source_table")
    assert rec.result_rows == [("trades_dedup", 0, 0, 1), ("trades_enriched", 1234, 1234, 1)]
    assert deploy.missing_kept_tables(fresh_db) == []
    # Re-running is fine: everything is already gone.
    again = deploy.cleanup_broken_tables(fresh_db, EMBEDDED, backup_id="b2")
    assert again.dropped == [] and len(again.absent) == 4
    fresh_db.command(f"DROP DATABASE `{adb}`")


def test_cleanup_never_drops_a_kept_table(fresh_db):
    with pytest.raises(DeployError, match="tables the plan keeps"):
        deploy.cleanup_broken_tables(fresh_db, EMBEDDED, ("trades_dedup", "trades_raw"))
    assert deploy.table_exists(fresh_db, "trades_raw")


def test_server_needs_prod_for_destructive_steps(fresh_db):
    _make_broken(fresh_db, "trades_dedup", 3)
    with pytest.raises(DeployError, match="needs --prod"):
        deploy.cleanup_broken_tables(fresh_db, Guard("server"))
    assert deploy.table_exists(fresh_db, "trades_dedup")


def test_unverified_backup_stops_before_dropping(fresh_db, monkeypatch):
    _make_broken(fresh_db, "trades_enriched", 10)
    real = deploy.backup_table

    def short_backup(client, table, **kw):
        b = real(client, table, **kw)
        return deploy.Backup(b.backup_id, b.table, b.archive_db, b.archive_table, b.source_rows, b.archive_rows - 1)

    monkeypatch.setattr(deploy, "backup_table", short_backup)
    with pytest.raises(DeployError, match="trades_enriched was NOT dropped"):
        deploy.cleanup_broken_tables(fresh_db, EMBEDDED, backup_id="b3")
    assert fresh_db.query("SELECT count() FROM trades_enriched").result_rows == [(10,)]
    fresh_db.command(f"DROP DATABASE IF EXISTS `{deploy.archive_database(fresh_db)}`")


def test_rollback_restores_previous_definitions_and_drops_new_views(fresh_db):
    fresh_db.command("CREATE VIEW wallet_realized_pnl_final AS SELECT 1 AS v1")
    before = deploy.view_definition(fresh_db, "wallet_realized_pnl_final")
    previous = {v: deploy.view_definition(fresh_db, v) for v in deploy.FINAL_VIEWS}
    fresh_db.command("CREATE OR REPLACE VIEW wallet_realized_pnl_final AS SELECT 2 AS v2")
    fresh_db.command("CREATE VIEW wallet_pnl_summary_final AS SELECT 3 AS v3")
    for v in deploy.FINAL_VIEWS:
        deploy._log(fresh_db, "d1", "deploy", v, previous[v], deploy.view_definition(fresh_db, v), 7)
    assert deploy.last_deploy_id(fresh_db) == "d1"
    restored = deploy.rollback(fresh_db, EMBEDDED)
    assert set(restored) == set(deploy.FINAL_VIEWS)
    assert deploy.view_definition(fresh_db, "wallet_realized_pnl_final") == before
    assert fresh_db.query("SELECT * FROM wallet_realized_pnl_final").result_rows == [(1,)]
    assert not deploy.table_exists(fresh_db, "wallet_pnl_summary_final")
    assert deploy.last_deploy_id(fresh_db) is None
    with pytest.raises(DeployError, match="no deploy"):
        deploy.rollback(fresh_db, EMBEDDED)


def test_deploy_refuses_without_prod(fresh_db):
    with pytest.raises(DeployError, match="needs --prod"):
        deploy.deploy(fresh_db, EMBEDDED, [])
