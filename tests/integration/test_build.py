"""Build mechanics on the embedded warehouse: build-then-swap on failure, join grain, floors, views, lookups."""
from __future__ import annotations

import pytest

from harness.pnl import build
from harness.pnl.build import BuildError, create_views, rebuild, wallet_summary
from harness.warehouse import sql
from tests.property.pnl_stream import Stream, addr
from tests.property.sqlcheck import load

U = 1_000_000
A, B = addr(1), addr(2)


def _tables(client, like: str) -> list[str]:
    return [r[0] for r in client.query(
        "SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE {p:String}",
        parameters={"p": like}).result_rows]


def _snapshot(client) -> dict:
    return {t: sorted(map(tuple, client.query(f"SELECT * FROM {t}").result_rows)) for t in build.DERIVED_TABLES}


def test_failed_rebuild_leaves_old_tables_and_no_new(fresh_db, monkeypatch):
    s = Stream()
    m = s.market()
    s.split(A, m, 5 * U)
    load(fresh_db, s.rows)
    before = _snapshot(fresh_db)
    assert before["outcome_positions_v2"], "setup should produce positions"
    s.split(B, m, 7 * U)  # new data that a successful rebuild would pick up
    from tests.property.pnl_stream import insert
    insert(fresh_db, {"ctf_actions": s.rows["ctf_actions"][-1:], "erc1155_transfers": s.rows["erc1155_transfers"][-2:]})
    real = sql.load

    def broken(name):  # the third step fails after two _new tables were filled
        return "SELECT throwIf(1, 'injected failure')" if name == "build/winning_index" else real(name)

    monkeypatch.setattr(build.sql, "load", broken)
    with pytest.raises(BuildError, match="winning_index.*injected failure"):
        rebuild(fresh_db)
    assert _snapshot(fresh_db) == before
    assert _tables(fresh_db, "%\\_new%") == []
    monkeypatch.setattr(build.sql, "load", real)
    rebuild(fresh_db)
    assert _snapshot(fresh_db) != before and _tables(fresh_db, "%\\_new%") == []


def test_cashflow_is_not_repeated_per_outcome_row(fresh_db):
    """A 3-outcome condition: one cashflow row, three position rows. The plan's join shape would count -30 three
    times; the view must count it once."""
    s = Stream()
    m = s.market(3)
    s.split(A, m, 30 * U)  # -30, holds 30 of each outcome
    s.resolve(m, [0, 1, 0])
    load(fresh_db, s.rows)
    rows = fresh_db.query("SELECT cashflow, value, realized_pnl FROM realized_pnl_by_market_final "
                          "WHERE wallet = {w:String}", parameters={"w": A}).result_rows
    assert rows == [(-30 * U, 30 * U, 0)]
    plan_shape = fresh_db.query(
        "SELECT sum(c.cashflow) FROM outcome_positions_v2 p JOIN trade_cashflows_v3 c "
        "ON p.wallet = c.wallet AND p.condition_id = c.condition_id WHERE p.wallet = {w:String}",
        parameters={"w": A}).result_rows[0][0]
    assert plan_shape == -90 * U  # what the double count looks like: this test would see it


def test_values_floor_toward_minus_infinity(fresh_db):
    """Net shares can be negative (history cut by a cutoff or a retraction); floor, not truncation, applies."""
    s = Stream()
    m = s.market()
    s.split(B, m, 7)
    s.send(B, A, m.tokens[0], 7)
    s.rows["erc1155_transfers"] = s.rows["erc1155_transfers"][2:]  # B's mint is missing: B at -7 YES, 0 NO
    s.resolve(m, [1, 1])
    m2 = s.market()
    s.split(B, m2, 3)
    s.rows["erc1155_transfers"] = [r for r in s.rows["erc1155_transfers"] if r["to_addr"] != B]  # B at 0, A at 0
    s.send(B, A, m2.tokens[0], 3)  # B at -3 of outcome 0
    s.price(m2, 0, 500_000)
    load(fresh_db, s.rows)
    realized = dict(fresh_db.query("SELECT wallet, value FROM realized_pnl_by_market_final").result_rows)
    assert realized[B] == -4  # -7 * 1 / 2 = -3.5 -> floor -4 (truncation would say -3)
    assert realized[A] == 3  # 7 / 2 = 3.5 -> 3
    unreal = dict(fresh_db.query("SELECT wallet, position_value FROM wallet_unrealized_pnl_v2").result_rows)
    assert unreal[B] == -2  # -3 * 0.5 = -1.5 -> floor -2 (truncation would say -1)
    assert unreal[A] == 1  # 3 * 0.5 = 1.5 -> 1


def test_wallet_summary_and_test_views(fresh_db):
    s = Stream()
    m = s.market()
    s.split(A, m, 10 * U)
    s.trade(B, A, m.tokens[0], 10 * U, 6 * U)
    s.resolve(m, [1, 0])
    m2 = s.market()
    s.split(A, m2, 4 * U)
    s.price(m2, 0, 250_000)
    s.price(m2, 1, 800_000)
    load(fresh_db, s.rows)
    got = wallet_summary(fresh_db, A.upper().replace("0X", "0x"))
    # resolved: -10 + 6 + 0 (NO lost) = -4; open: -4 + 4 * 1.05 = +0.2
    assert (got.realized_pnl, got.unrealized_pnl, got.total_pnl) == (-4 * U, 200_000, -4 * U + 200_000)
    assert (got.markets_resolved, got.markets_open) == (1, 1)
    assert wallet_summary(fresh_db, addr(99)) is None
    assert create_views(fresh_db, suffix="_test") == [v + "_test" for v in (*build.VIEWS, build.UI_VIEW)]
    assert wallet_summary(fresh_db, A, suffix="_test") == got
    with pytest.raises(ValueError, match="suffix"):
        create_views(fresh_db, suffix="; DROP TABLE x")
    types = dict(fresh_db.query("SELECT name, type FROM system.columns WHERE database = currentDatabase() "
                                "AND table = 'wallet_pnl_summary_final'").result_rows)
    assert {types[c] for c in ("realized_pnl", "unrealized_pnl", "total_pnl")} == {"Int128"}


def test_cutoff_excludes_later_events(fresh_db):
    s = Stream()
    m = s.market()
    s.split(A, m, 10 * U)
    t_first = s.time
    s.next_block(3600)
    s.split(A, m, 5 * U)
    load(fresh_db, s.rows, cutoff=t_first)
    assert wallet_summary(fresh_db, A).unrealized_pnl == -10 * U  # unpriced: value 0
    rebuild(fresh_db, cutoff=None)
    assert wallet_summary(fresh_db, A).unrealized_pnl == -15 * U


def test_range_rebuild_rejects_reversed_range(fresh_db):
    with pytest.raises(ValueError, match="cannot have to_block=3 < from_block=9"):
        build.rebuild_range(fresh_db, 9, 3)
