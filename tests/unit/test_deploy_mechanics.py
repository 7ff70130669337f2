"""Backups before drops, kept tables untouched, guard on servers, rollback restores recorded definitions."""
import pytest

from harness.gates import deploy
from harness.gates.deploy import DeployError, Guard
from harness.warehouse import backup

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
    adb = backup.archive_database(fresh_db)
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
    fresh_db.command(f"DROP DATABASE IF EXISTS `{backup.archive_database(fresh_db)}`")


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


def _open_all_gates(client):
    from harness import gates

    for stage in gates.STAGES[:-1]:
        run = gates.new_run_id()
        gates.record(client, run_id=run, stage=stage, check="c", outcome="passed")
        gates.record(client, run_id=run, stage=stage, check=gates.STAGE_COMPLETE, outcome="passed")


def _wallet(target, level="must"):
    from decimal import Decimal

    from harness.gates.wallets import ReferenceWallet

    return ReferenceWallet("w", "0x" + "ab" * 20, target, Decimal(0), "test", level)


def test_deploy_with_a_failing_must_wallet_rolls_back_to_the_previous_views(fresh_db):
    from harness.pnl.build import create_views

    create_views(fresh_db)  # a deployed generation whose views depend on each other
    before = {v: deploy.view_definition(fresh_db, v) for v in deploy.FINAL_VIEWS}
    fresh_db.insert("wallet_market_pnl", [["0x" + "ab" * 20, "0x" + "01" * 32, 1, -5, 12, 7]],
                    column_names=["wallet", "condition_id", "resolved", "cashflow", "value", "pnl"])
    _open_all_gates(fresh_db)
    throwaway = Guard("embedded", throwaway=True)
    with pytest.raises(DeployError, match=r"rolled back: final validation did not pass for w \(failed\)"):
        deploy.deploy(fresh_db, throwaway, [_wallet(8)])  # computed total is 7, target 8, tolerance 0
    assert {v: deploy.view_definition(fresh_db, v) for v in deploy.FINAL_VIEWS} == before
    assert fresh_db.query("SELECT total_pnl FROM wallet_pnl_summary_final").result_rows == [(7,)]
    assert deploy.last_deploy_id(fresh_db) is None
    # The same data and an exact target deploys.
    res = deploy.deploy(fresh_db, throwaway, [_wallet(7)])
    assert [c.outcome for c in res.checks] == ["passed"] and deploy.last_deploy_id(fresh_db) == res.deploy_id
    fresh_db.command(f"DROP DATABASE IF EXISTS `{backup.archive_database(fresh_db)}`")


def test_deploy_blocks_a_must_wallet_with_no_data(fresh_db):
    _open_all_gates(fresh_db)
    with pytest.raises(DeployError, match=r"w \(no_data\)"):
        deploy.deploy(fresh_db, Guard("embedded", throwaway=True), [_wallet(1)])
    assert not any(deploy.view_definition(fresh_db, v) for v in deploy.FINAL_VIEWS)
    adb = backup.archive_database(fresh_db)
    fresh_db.command(f"DROP DATABASE IF EXISTS `{adb}`")


def test_cleanup_twice_with_the_same_backup_id_keeps_both_backups(fresh_db):
    """The issue's case: the second cleanup with the same run id dropped the first verified backup."""
    _make_broken(fresh_db, "trades_enriched", 10)
    first = deploy.cleanup_broken_tables(fresh_db, EMBEDDED, backup_id="run1")
    _make_broken(fresh_db, "trades_enriched", 25)  # the broken table came back (a legacy job recreated it)
    second = deploy.cleanup_broken_tables(fresh_db, EMBEDDED, backup_id="run1")
    (a,), (b,) = first.dropped, second.dropped
    assert a.archive_table != b.archive_table and a.backup_id != b.backup_id
    adb = backup.archive_database(fresh_db)
    counts = {t: fresh_db.query(f"SELECT count() FROM `{adb}`.`{t}`").result_rows[0][0]
              for t in (a.archive_table, b.archive_table)}
    assert counts == {a.archive_table: 10, b.archive_table: 25}
    listed = fresh_db.query("SELECT archive_table FROM backups ORDER BY at").result_rows
    assert listed == [(a.archive_table,), (b.archive_table,)]
    assert backup.missing_backups(fresh_db) == []
    fresh_db.command(f"DROP DATABASE `{adb}`")


def test_backup_table_never_overwrites_an_archive(fresh_db):
    _make_broken(fresh_db, "trades_dedup", 3)
    deploy.backup_table(fresh_db, "trades_dedup", backup_id="x1", reason="test")
    fresh_db.command("INSERT INTO trades_dedup VALUES (99, 'c')")
    with pytest.raises(backup.BackupError, match="already exists: backups are never overwritten"):
        deploy.backup_table(fresh_db, "trades_dedup", backup_id="x1", reason="test")
    adb = backup.archive_database(fresh_db)
    assert fresh_db.query(f"SELECT count() FROM `{adb}`.trades_dedup__x1").result_rows == [(3,)]
    assert fresh_db.query("SELECT count() FROM backups").result_rows == [(1,)]
    fresh_db.command(f"DROP DATABASE `{adb}`")


def test_a_failed_copy_leaves_no_backup_row_and_no_archive(fresh_db, monkeypatch):
    _make_broken(fresh_db, "trades_dedup", 3)
    real = fresh_db.command

    def failing(cmd, *a, **kw):
        if cmd.startswith("CREATE TABLE") and "AS SELECT" in cmd:
            real(cmd.split(" ENGINE")[0].replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS")
                 + " (id UInt64) ENGINE = MergeTree ORDER BY tuple()")
            raise RuntimeError("disk full half-way")
        return real(cmd, *a, **kw)

    monkeypatch.setattr(fresh_db, "command", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        deploy.backup_table(fresh_db, "trades_dedup", backup_id="x2", reason="test")
    monkeypatch.undo()
    adb = backup.archive_database(fresh_db)
    assert not deploy.table_exists(fresh_db, "trades_dedup__x2", adb)
    assert fresh_db.query("SELECT count() FROM backups").result_rows == [(0,)]


def test_the_ui_view_changes_only_through_deploy_and_rollback_restores_it(fresh_db):
    """Issue 21 item 3: ui_wallet_pnl_summary is served like the final views, so a build (preview) or a dry run
    never rewrites it; deploy records it in deploy_log and rollback restores its previous definition."""
    from harness.pnl.build import PREVIEW_SUFFIX, UI_VIEW, create_views

    fresh_db.command(f"CREATE VIEW {UI_VIEW} AS SELECT 'x' AS wallet, 1 AS ui_total_pnl")  # the one deployed
    served = deploy.view_definition(fresh_db, UI_VIEW)
    create_views(fresh_db, suffix=PREVIEW_SUFFIX)  # what `harness build` makes
    deploy.create_test_views(fresh_db)  # what the dry run makes
    assert deploy.view_definition(fresh_db, UI_VIEW) == served
    assert deploy.view_definition(fresh_db, UI_VIEW + PREVIEW_SUFFIX) and deploy.view_definition(fresh_db, UI_VIEW + "_test")
    fresh_db.insert("wallet_market_pnl", [["0x" + "ab" * 20, "0x" + "01" * 32, 1, -5, 12, 7]],
                    column_names=["wallet", "condition_id", "resolved", "cashflow", "value", "pnl"])
    _open_all_gates(fresh_db)
    res = deploy.deploy(fresh_db, Guard("embedded", throwaway=True), [_wallet(7)])
    assert deploy.view_definition(fresh_db, UI_VIEW) != served
    assert not deploy.table_exists(fresh_db, UI_VIEW + "_test")
    logged = {r[0]: r[1] for r in fresh_db.query(
        "SELECT view_name, previous_definition FROM deploy_log WHERE deploy_id = {d:String}",
        parameters={"d": res.deploy_id}).result_rows}
    assert logged[UI_VIEW] == served
    restored = deploy.rollback(fresh_db, Guard("embedded", throwaway=True))
    assert UI_VIEW in restored and deploy.view_definition(fresh_db, UI_VIEW) == served
    assert fresh_db.query(f"SELECT ui_total_pnl FROM {UI_VIEW}").result_rows == [(1,)]
    fresh_db.command(f"DROP DATABASE IF EXISTS `{backup.archive_database(fresh_db)}`")


def test_the_code_fingerprint_covers_wallets_yaml_and_contract_abis(tmp_path, monkeypatch):
    """Issue 21 item 3: the reference wallets and the contract ABIs judge and build as much as the code does."""
    import shutil

    from harness import gates
    from harness.config import PROJECT_ROOT

    for rel in ("harness/data", "wallets.yaml", "harness/gates/__init__.py"):
        src, dst = PROJECT_ROOT / rel, tmp_path / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
    monkeypatch.setattr(gates, "PROJECT_ROOT", tmp_path)
    seen = {gates.code_fingerprint()}
    for rel in ("wallets.yaml", "harness/data/contracts/CtfExchange.json"):
        with (tmp_path / rel).open("a", encoding="utf-8") as fh:
            fh.write("\n")
        assert gates.code_fingerprint() not in seen, rel
        seen.add(gates.code_fingerprint())
