"""The schema applies idempotently and raw tables collapse duplicate logs."""
from datetime import datetime, timezone

from harness.schema import apply_schema, current_version, drifted, schema_files

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
    t = datetime(2024, 10, 1, tzinfo=timezone.utc)
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
