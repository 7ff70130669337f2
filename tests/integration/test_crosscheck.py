"""The validate stage's oracle cross-check, bounded: only the checked wallets' rows are read, yet each checked
wallet's oracle P&L equals the whole-warehouse oracle's, and a wrong SQL row of a checked wallet is caught."""
from __future__ import annotations

import pytest

from harness import ingest
from harness.config import non_wallets
from harness.gates.pipeline import ORACLE_TABLES
from harness.pnl.asof import wallet_tables
from harness.pnl.build import create_views, rebuild
from harness.pnl.crosscheck import NO_CUTOFF, avgcost_oracle, cashflow_oracle, cross_check, sample_wallets
from tests.support.worlds import WORLD, built, variant

pytestmark = pytest.mark.skipif(not (WORLD / "logs.jsonl.gz").is_file(), reason="fixture world not generated")


@pytest.fixture(scope="module")
def world_db(module_db):
    return built(module_db())


@pytest.fixture(scope="module")
def unpriced_db(module_db, tmp_path_factory):
    """The world without its prices file: open positions are marked by other wallets' last fills."""
    db = module_db()
    ingest.ingest_world(db, variant(tmp_path_factory.mktemp("unpriced") / "w", prices=False))
    rebuild(db, allow_unmapped=True)
    create_views(db)
    return db


def _whole(db) -> dict:
    """Every raw row, as the old unbounded check read them: the reference the bounded read must reproduce."""
    tables = {}
    for t in ORACLE_TABLES:
        res = db.query(f"SELECT * FROM {t}")
        tables[t] = [dict(zip(res.column_names, r)) for r in res.result_rows]
    return tables


@pytest.mark.parametrize("which", ["world_db", "unpriced_db"])
def test_a_wallets_own_rows_give_the_same_oracle_pnl_as_the_whole_warehouse(which, request):
    """For every wallet of the world, P&L from only its transactions' rows (plus structure, resolutions and last
    fills) equals P&L from every row: the bounded read leaves out nothing a wallet's P&L depends on."""
    db = request.getfixturevalue(which)
    whole = _whole(db)
    full_cf, full_ui = cashflow_oracle(whole, None), avgcost_oracle(whole, None)
    wallets = sample_wallets(db, 10_000, seed=1)
    assert len(wallets) >= 250
    for i in range(0, len(wallets), 40):  # a few wallets at a time: each batch's read holds only its own rows
        batch = wallets[i:i + 40]
        part = wallet_tables(db, batch, NO_CUTOFF)
        cf, ui = cashflow_oracle(part, None), avgcost_oracle(part, None)
        for w in batch:
            assert cf.get(w) == full_cf.get(w), w
            assert ui.get(w) == full_ui.get(w), w


def test_sample_is_seeded_drawn_from_raw_rows_and_never_a_contract(world_db):
    a, b = sample_wallets(world_db, 20, seed=3), sample_wallets(world_db, 20, seed=3)
    c = sample_wallets(world_db, 20, seed=4)
    assert a == b and len(a) == 20 and a != c
    every = sample_wallets(world_db, 10_000, seed=0)
    assert not set(every) & set(non_wallets())
    # drawn from the raw side: a wallet whose P&L rows the build lost can still be drawn
    makers = {r[0] for r in world_db.query("SELECT DISTINCT wallet FROM trades_raw").result_rows}
    assert (makers - set(non_wallets())) <= set(every)


def test_cross_check_passes_on_the_world_without_prices(unpriced_db):
    assert cross_check(unpriced_db, sample=60, seed=2).ok


def test_cross_check_passes_and_reads_a_fraction_of_the_rows(world_db):
    total = sum(int(world_db.query(f"SELECT count() FROM {t}").result_rows[0][0]) for t in ORACLE_TABLES)
    res = cross_check(world_db, sample=5, seed=0)
    assert res.ok, res.summary()
    assert len(res.wallets) == 5 and res.references == 0
    assert 0 < res.rows_read < total / 4, (res.rows_read, total)


def test_a_wrong_sql_row_of_a_checked_wallet_is_caught_and_named(world_db, module_db):
    db = built(module_db())
    victim, bystander = sample_wallets(db, 2, seed=9)
    db.command("INSERT INTO wallet_market_pnl (wallet, condition_id, resolved, cashflow, value, pnl) "
               "VALUES ({w:String}, '0xfeed', 1, 1, 0, 1)", parameters={"w": victim})
    res = cross_check(db, wallets=[victim.upper().replace("0X", "0x")], sample=0)
    assert not res.ok and res.references == 1
    assert [d.wallet for d in res.cashflow] == [victim]
    assert res.cashflow[0].sql[2] == res.cashflow[0].oracle[2] + 1
    # honest about sampling: a wallet outside the checked set is not compared
    assert cross_check(db, wallets=[bystander], sample=0).ok


def test_a_contract_with_a_pnl_row_fails_the_check(world_db, module_db):
    db = built(module_db())
    contract = non_wallets()[0]
    db.command("INSERT INTO wallet_market_pnl (wallet, condition_id, resolved, cashflow, value, pnl) "
               "VALUES ({w:String}, '0xfeed', 1, 0, 0, 0)", parameters={"w": contract})
    res = cross_check(db, sample=3, seed=0)
    assert res.contracts_with_rows == [contract] and not res.ok


def test_a_negative_sample_is_refused(world_db):
    with pytest.raises(ValueError, match="sample"):
        cross_check(world_db, sample=-1)
