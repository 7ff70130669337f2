"""The schema applies idempotently and raw tables collapse duplicate logs."""
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.warehouse.schema import (
    EditedSchemaFiles,
    LegacyTables,
    SchemaError,
    apply_schema,
    column_diff,
    current_version,
    drifted,
    legacy_tables,
    schema_files,
)

RAW_KEYED = {
    "trades_raw", "erc1155_transfers", "ctf_actions", "condition_preparations", "condition_resolutions",
    "neg_risk_conversions", "neg_risk_questions", "orders_matched", "fee_charged", "fee_refunds",
}


def _tables(client):
    return {r[0]: r[1] for r in client.query(
        "SELECT name, engine_full FROM system.tables WHERE database = currentDatabase()").result_rows}


def test_schema_applies_twice_without_error(fresh_db):
    before = _tables(fresh_db)
    v = apply_schema(fresh_db)
    assert _tables(fresh_db) == before
    assert v == schema_files()[-1].version == current_version(fresh_db)
    assert drifted(fresh_db) == []


def test_expected_tables_and_engines(fresh_db):
    tables = _tables(fresh_db)
    for t in RAW_KEYED:
        assert tables[t].startswith("ReplacingMergeTree(_version, _deleted)"), t
    for t in ("outcome_positions_v2", "trade_cashflows_v3", "winning_index", "wallet_unrealized_pnl_v2",
              "ingest_checkpoints", "gate_runs", "deploy_log", "backups"):
        assert t in tables


def test_no_float_columns_hold_money(fresh_db):
    floats = fresh_db.query(
        "SELECT table, name, type FROM system.columns WHERE database = currentDatabase() AND type LIKE '%Float%'"
    ).result_rows
    assert floats == []


def _fill(tx, log_index, usdc):
    t = datetime(2024, 10, 1, tzinfo=UTC)
    return [tx, log_index, 63_000_000, t, "0x4bfb41d5b3570defd03c39a9a4d8de6bd8b8982e", "0xabc",
            "0x" + "11" * 20, "0x" + "22" * 20, "BUY", 2**255 + 7, 100_000_000, usdc, 0, 0, 1, 0]


COLS = ["tx_hash", "log_index", "block_number", "block_time", "exchange", "order_hash", "wallet", "counterparty",
        "side", "token_id", "shares", "usdc", "fee_shares", "fee_usdc", "_version", "_deleted"]


def test_duplicate_inserts_collapse(fresh_db):
    rows = [_fill("0x" + "aa" * 32, 5, 40_000_000), _fill("0x" + "aa" * 32, 6, 60_000_000)]
    fresh_db.insert("trades_raw", rows, column_names=COLS)
    fresh_db.insert("trades_raw", rows, column_names=COLS)
    got = fresh_db.query("SELECT count(), sum(usdc), max(token_id) FROM trades_raw FINAL").result_rows[0]
    assert got == (2, 100_000_000, 2**255 + 7)


def test_retraction_hides_a_removed_log(fresh_db):
    row = _fill("0x" + "bb" * 32, 1, 5)
    fresh_db.insert("trades_raw", [row], column_names=COLS)
    retract = list(row)
    retract[-2], retract[-1] = 2, 1
    fresh_db.insert("trades_raw", [retract], column_names=COLS)
    assert fresh_db.query("SELECT count() FROM trades_raw FINAL").result_rows[0][0] == 0


def test_reapply_recreates_a_dropped_table_and_records_nothing_new_otherwise(fresh_db):
    n = fresh_db.query("SELECT count() FROM schema_version").result_rows[0][0]
    apply_schema(fresh_db)  # up to date: no DDL, no new version rows
    assert fresh_db.query("SELECT count() FROM schema_version").result_rows[0][0] == n
    fresh_db.command("DROP TABLE fee_charged")
    apply_schema(fresh_db)  # a missing table is noticed and created again
    assert fresh_db.query("EXISTS TABLE fee_charged").result_rows == [(1,)]


# --- forward-only schema files -----------------------------------------------------------------------------------

def _schema_copy(tmp_path):
    """A copy of sql/schema to edit: the live files stay as they are."""
    import shutil

    from harness.config import SQL_DIR

    folder = tmp_path / "schema"
    shutil.copytree(SQL_DIR / "schema", folder)
    return folder


def _columns(client, table, database=None):
    return dict(client.query(
        "SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {t:String}",
        parameters={"db": database or client.query("SELECT currentDatabase()").result_rows[0][0], "t": table},
    ).result_rows)


def _version_rows(client, name):
    return client.query("SELECT count() FROM schema_version WHERE file = {f:String}",
                        parameters={"f": name}).result_rows[0][0]


def test_an_edited_applied_file_is_an_error_naming_it(fresh_db, tmp_path):
    folder = _schema_copy(tmp_path)
    apply_schema(fresh_db, folder=folder)  # the same texts: already applied
    path = folder / "030_outcome_positions_v2.sql"
    path.write_text(path.read_text().replace("net_shares    Int128", "net_shares    Int256"))
    before = _columns(fresh_db, "outcome_positions_v2")
    with pytest.raises(EditedSchemaFiles) as exc:
        apply_schema(fresh_db, folder=folder)
    msg = str(exc.value)
    assert "sql/schema/030_outcome_positions_v2.sql" in msg and "new numbered file" in msg
    assert "\n" not in msg and exc.value.exit_code == 2
    assert drifted(fresh_db, folder) == ["030_outcome_positions_v2.sql"]
    assert _columns(fresh_db, "outcome_positions_v2") == before  # nothing was changed
    fresh_db.command("DROP TABLE fee_charged")  # refused even when there is other work to do
    with pytest.raises(EditedSchemaFiles):
        apply_schema(fresh_db, folder=folder)


def test_an_added_alter_file_gives_the_column_once(fresh_db, tmp_path):
    folder = _schema_copy(tmp_path)
    # Deliberately not idempotent: a second run of it would fail, so it must be applied exactly once.
    (folder / "900_fee_charged_note.sql").write_text(
        "-- a later change, forward only\nALTER TABLE fee_charged ADD COLUMN note String DEFAULT ''\n")
    assert apply_schema(fresh_db, folder=folder) == 900
    assert _columns(fresh_db, "fee_charged")["note"] == "String"
    assert _version_rows(fresh_db, "900_fee_charged_note.sql") == 1
    fresh_db.command("DROP TABLE fee_refunds")  # work to do elsewhere: the applied ALTER is not run again
    apply_schema(fresh_db, folder=folder)
    assert _version_rows(fresh_db, "900_fee_charged_note.sql") == 1
    assert "note" in _columns(fresh_db, "fee_charged") and _columns(fresh_db, "fee_refunds")


def test_a_recreated_table_gets_its_applied_alters_again(fresh_db, tmp_path):
    folder = _schema_copy(tmp_path)
    (folder / "900_fee_charged_note.sql").write_text(
        "ALTER TABLE fee_charged ADD COLUMN IF NOT EXISTS note String DEFAULT ''")
    apply_schema(fresh_db, folder=folder)
    fresh_db.command("DROP TABLE fee_charged")
    apply_schema(fresh_db, folder=folder)
    assert _columns(fresh_db, "fee_charged")["note"] == "String"
    fresh_db.command("DROP TABLE gate_runs")  # the shipped ALTER (050) comes back with its table
    apply_schema(fresh_db, folder=folder)
    assert {"fingerprint", "session"} <= set(_columns(fresh_db, "gate_runs"))


def test_a_file_that_is_not_one_create_or_alter_is_refused(tmp_path):
    folder = _schema_copy(tmp_path)
    (folder / "901_view.sql").write_text("CREATE VIEW v AS SELECT 1")
    with pytest.raises(SchemaError, match="901_view.sql must hold one"):
        schema_files(folder)


# --- legacy tables ---------------------------------------------------------------------------------------------

_CASCADIAN_POSITIONS = ("CREATE TABLE outcome_positions_v2 (wallet String, market_id String, condition_id_norm String,"
                        " outcome_idx Int16, net_shares Float64) ENGINE = MergeTree ORDER BY (wallet, market_id)")
_CASCADIAN_WINNERS = ("CREATE TABLE winning_index (condition_id_norm String, win_idx Int64, resolved_at DateTime) "
                      "ENGINE = MergeTree ORDER BY condition_id_norm")


def _make_legacy(client):
    client.command("DROP TABLE outcome_positions_v2")
    client.command(_CASCADIAN_POSITIONS)
    client.command("INSERT INTO outcome_positions_v2 SELECT concat('0xw', toString(number % 7)), toString(number), "
                   "lower(hex(number)), number % 2, number / 3 FROM numbers(500)")
    client.command("DROP TABLE winning_index")
    client.command(_CASCADIAN_WINNERS)
    client.command("INSERT INTO winning_index SELECT lower(hex(number)), number % 2, toDateTime(1761955199) "
                   "FROM numbers(40)")


def test_legacy_tables_are_refused_naming_each_and_its_columns(fresh_db):
    _make_legacy(fresh_db)
    fresh_db.command("DROP TABLE fee_charged")  # something to do, so the up-to-date shortcut cannot hide them
    before = _columns(fresh_db, "outcome_positions_v2")
    with pytest.raises(LegacyTables) as exc:
        apply_schema(fresh_db)
    msg = str(exc.value)
    assert "\n" not in msg and exc.value.exit_code == 2 and "--adopt-legacy" in msg
    assert sorted(t.table for t in exc.value.tables) == ["outcome_positions_v2", "winning_index"]
    assert "outcome_positions_v2: expected condition_id LowCardinality(String), outcome_index UInt8, condition_key " \
           "UInt32 not found; " \
           "found market_id String, condition_id_norm String, outcome_idx Int16 not expected; net_shares is " \
           "Float64, expected Int128" in msg
    assert "winning_index: expected " in msg and "found condition_id_norm String, win_idx Int64, resolved_at " \
           "DateTime not expected" in msg
    # nothing changed: the legacy tables stand, no archive, the missing table was not created either
    assert _columns(fresh_db, "outcome_positions_v2") == before
    assert fresh_db.query("EXISTS TABLE fee_charged").result_rows == [(0,)]
    db = fresh_db.query("SELECT currentDatabase()").result_rows[0][0]
    assert fresh_db.query("SELECT count() FROM system.databases WHERE name LIKE {p:String}",
                          parameters={"p": db + "\\_%"}).result_rows == [(0,)]  # no archive, no probe left


def test_adopt_legacy_archives_renames_and_creates(fresh_db):
    _make_legacy(fresh_db)
    fresh_db.command("DROP TABLE fee_charged")
    legacy_sum = fresh_db.query("SELECT sum(net_shares), count() FROM outcome_positions_v2").result_rows[0]
    lines = []
    apply_schema(fresh_db, adopt_legacy=True, report=lines.append)
    assert len(lines) == 2 and all("verified" in ln for ln in lines)
    assert legacy_tables(fresh_db) == []
    db = fresh_db.query("SELECT currentDatabase()").result_rows[0][0]
    backups = fresh_db.query(
        "SELECT source_table, archive_db, archive_table, source_rows, archive_rows, verified, reason FROM backups "
        "ORDER BY source_table").result_rows
    assert [(b[0], b[1], b[3], b[4], b[5]) for b in backups] == [
        ("outcome_positions_v2", f"{db}_archive", 500, 500, 1), ("winning_index", f"{db}_archive", 40, 40, 1)]
    for table, _adb, atable, *_rest, reason in backups:
        aside = reason.split("renamed to ", 1)[1]
        assert aside.startswith(f"{table}_legacy_adopt_")
        assert _columns(fresh_db, aside) == _columns(fresh_db, atable, f"{db}_archive") != _columns(fresh_db, table)
        assert fresh_db.query(f"SELECT count() FROM `{aside}`").result_rows[0][0] == \
            fresh_db.query(f"SELECT count() FROM `{db}_archive`.`{atable}`").result_rows[0][0] > 0
    (aside,) = [b[6].split("renamed to ", 1)[1] for b in backups if b[0] == "outcome_positions_v2"]
    assert fresh_db.query(f"SELECT sum(net_shares), count() FROM `{aside}`").result_rows[0] == legacy_sum
    assert _columns(fresh_db, "outcome_positions_v2")["net_shares"] == "Int128"
    assert fresh_db.query("SELECT count() FROM outcome_positions_v2").result_rows == [(0,)]
    assert fresh_db.query("EXISTS TABLE fee_charged").result_rows == [(1,)]


def test_a_view_of_the_harness_name_is_legacy_even_with_the_same_columns(fresh_db):
    fresh_db.command("CREATE TABLE wi_src AS winning_index")
    fresh_db.command("DROP TABLE winning_index")
    fresh_db.command("CREATE VIEW winning_index AS SELECT * FROM wi_src")
    (lt,) = legacy_tables(fresh_db)
    assert (lt.table, lt.missing, lt.unexpected, lt.retyped, lt.engine) == \
        ("winning_index", (), (), (), ("MergeTree", "View"))
    assert lt.describe() == "winning_index: engine View, expected MergeTree"


def test_a_pending_alter_is_not_mistaken_for_a_legacy_table(fresh_db, tmp_path):
    folder = _schema_copy(tmp_path)
    (folder / "900_trades_raw_note.sql").write_text("ALTER TABLE trades_raw ADD COLUMN IF NOT EXISTS note String")
    assert legacy_tables(fresh_db, schema_files(folder)) == []
    apply_schema(fresh_db, folder=folder)
    assert "note" in _columns(fresh_db, "trades_raw")


def test_expected_columns_come_from_the_ddl(fresh_db):
    tables = sorted({f.table for f in schema_files() if f.kind == "create"})
    from harness.warehouse.schema import expected_columns, recorded_files

    expected = expected_columns(fresh_db, schema_files(), tables, recorded_files(fresh_db))
    assert expected == {t: _columns(fresh_db, t) for t in tables}
    assert expected["outcome_positions_v2"]["wallet"] == "String"


_COLS = st.dictionaries(st.sampled_from("abcdefg"), st.sampled_from(["String", "Int128", "Float64", "UInt8"]))


@given(_COLS, _COLS)
def test_column_diff_accounts_for_every_column(expected, found):
    d = column_diff("t", expected, found)
    if expected == found:
        assert d is None
        return
    assert d is not None and d.table == "t"
    # expected, changed by the diff, gives what was found
    rebuilt = {n: t for n, t in expected.items() if n not in dict(d.missing)}
    rebuilt.update(dict(d.unexpected))
    rebuilt.update({n: f for n, _e, f in d.retyped})
    assert rebuilt == found
    assert all(expected[n] == e != f for n, e, f in d.retyped)


# --- retired tables (issue 20: Join/Memory/Set engines are unsafe on a replicated server) ----------------------

def test_no_schema_file_in_force_creates_a_non_mergetree_table(fresh_db):
    """A replicated server keeps Memory, Join and Set tables on each replica apart: every table the schema leaves
    is of the MergeTree family (091's Join-engine market_names is retired by 100)."""
    engines = {r[0]: r[1] for r in fresh_db.query(
        "SELECT name, engine FROM system.tables WHERE database = currentDatabase() AND engine NOT LIKE '%View'"
    ).result_rows}
    assert engines and {t: e for t, e in engines.items() if not e.endswith("MergeTree")} == {}
    assert "091_market_names.sql" not in {f.name for f in schema_files()}


def test_a_warehouse_with_the_join_table_gets_the_mergetree_one(fresh_db, tmp_path):
    """A warehouse whose schema stopped at 091 (market_names a Join table, names in it) moves forward: 100 drops
    the Join table once, 101 creates the MergeTree; the applied 091 is not an edited file, the Join not legacy."""
    from harness.config import SQL_DIR

    folder = _schema_copy(tmp_path)
    for f in folder.glob("*.sql"):
        if int(f.name.split("_")[0]) >= 100:
            f.unlink()
    fresh_db.command("DROP TABLE market_names SYNC")
    for (table,) in fresh_db.query("SELECT table FROM system.columns WHERE database = currentDatabase() "
                                   "AND name = 'condition_key'").result_rows:  # added by 160-166
        fresh_db.command(f"ALTER TABLE {table} DROP COLUMN condition_key")
    fresh_db.command("ALTER TABLE schema_version DELETE WHERE version >= 100 SETTINGS mutations_sync = 2")
    assert schema_files(folder)[-1].version < 100
    apply_schema(fresh_db, folder=folder)
    assert _tables(fresh_db)["market_names"].startswith("Join")
    fresh_db.command("INSERT INTO market_names VALUES ('0xc1', 'Q?', 'q', ['Yes', 'No'])")
    apply_schema(fresh_db)  # the shipped files
    assert _tables(fresh_db)["market_names"].startswith("MergeTree")
    assert _version_rows(fresh_db, "100_market_names_retired.sql") == 1
    assert drifted(fresh_db) == [] and legacy_tables(fresh_db) == []
    assert (SQL_DIR / "schema" / "091_market_names.sql").is_file()  # kept: it was applied, never edited
    fresh_db.command("INSERT INTO market_names VALUES ('0xc1', 'Q?', 'q', ['Yes', 'No'])")
    apply_schema(fresh_db)  # applied once: the names loaded since are not dropped again
    assert fresh_db.query("SELECT count() FROM market_names").result_rows == [(1,)]


def test_a_drop_file_retires_only_the_files_before_it(tmp_path):
    folder = _schema_copy(tmp_path)
    (folder / "902_fee_refunds_retired.sql").write_text("DROP TABLE IF EXISTS fee_refunds SYNC")
    names = [f.name for f in schema_files(folder)]
    assert not any(n.startswith("019_") for n in names) and "902_fee_refunds_retired.sql" in names
    assert "101_market_names.sql" in names and "091_market_names.sql" not in names
