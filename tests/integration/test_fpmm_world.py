"""The legacy AMM end to end: a simulated world with FPMM markets (fixtures/world_fpmm) regenerates byte for byte,
ingests and builds to the simulator's cash-flow truth and to both oracles, no FPMM holds a P&L row, and the FPMM
logs come over JSON-RPC from a node (anvil) by the topic filter over every address."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness import ingest
from harness.chain.decode import COLUMNS, decode_logs
from harness.ingest.world_files import read_logs, write_prices
from harness.pnl import build
from harness.pnl.crosscheck import cross_check
from harness.worlds.model import WorldParams
from harness.worlds.simulate import world_hashes, write_world

WORLD = Path(__file__).resolve().parents[2] / "fixtures" / "world_fpmm"
PARAMS = WorldParams(seed=31, wallets=40, markets=6, fills=300, fpmm_markets=4)
FPMM_TABLES = ("fpmm_creations", "fpmm_trades", "fpmm_funding")


def test_fixture_regenerates_byte_for_byte(tmp_path):
    write_world(tmp_path, PARAMS)
    assert world_hashes(tmp_path) == world_hashes(WORLD)


def test_world_pnl_equals_truth_and_oracles(fresh_db):
    ingest.ingest_world(fresh_db, WORLD)
    counts = {t: fresh_db.query(f"SELECT count() FROM {t} FINAL").result_rows[0][0] for t in FPMM_TABLES}
    meta = json.loads((WORLD / "world.json").read_text())["logs_by_event"]
    assert counts == {"fpmm_creations": meta["fpmm_factory.FixedProductMarketMakerCreation"],
                      "fpmm_trades": meta["fpmm.FPMMBuy"] + meta["fpmm.FPMMSell"],
                      "fpmm_funding": meta["fpmm.FPMMFundingAdded"] + meta["fpmm.FPMMFundingRemoved"]}
    build.rebuild(fresh_db)
    build.create_views(fresh_db)
    truth = json.loads((WORLD / "truth.json").read_text())["wallets"]
    got = {w: (int(r), int(u), int(t)) for w, r, u, t in fresh_db.query(
        "SELECT wallet, realized_pnl, unrealized_pnl, total_pnl FROM wallet_pnl_summary_final").result_rows}
    assert got == {w: (t["realized"], t["unrealized"], t["total"]) for w, t in truth.items()}
    # both methods against the pure-Python oracles, reading only each wallet's rows; no contract has a row
    check = cross_check(fresh_db, wallets=sorted(truth), sample=0)
    assert check.ok, check.summary()
    fpmms = [r[0] for r in fresh_db.query("SELECT fpmm FROM fpmm_creations FINAL").result_rows]
    for table in ("wallet_market_pnl", "wallet_market_pnl_avgcost", "outcome_positions_v2", "trade_cashflows_v3"):
        n = fresh_db.query(f"SELECT count() FROM {table} WHERE wallet IN {{f:Array(String)}}",
                           parameters={"f": fpmms}).result_rows[0][0]
        assert n == 0, table
    # the FPMM traders' average-cost rows exist (LP shares included, at outcome 255)
    traders = {r[0] for r in fresh_db.query("SELECT trader FROM fpmm_trades FINAL").result_rows}
    lp = fresh_db.query("SELECT count() FROM wallet_token_avgcost WHERE outcome_index = 255").result_rows[0][0]
    assert lp > 0 and traders <= {r[0] for r in fresh_db.query("SELECT wallet FROM wallet_token_avgcost").result_rows}


@pytest.mark.anvil
def test_fpmm_logs_come_over_rpc(anvil_bin, new_db):
    """Replayed on anvil (the log emitter at every address, the FPMMs' included), a full backfill fetches the
    factory's creations by address and the FPMM events by topic over every address: the same rows as decoding
    the world's own logs."""
    from harness.chain.node import Anvil

    logs = list(read_logs(WORLD))
    node = Anvil.start(binary=anvil_bin, timestamp=int(logs[0]["blockTimestamp"], 16) - 3600)
    try:
        rep = node.replay(logs)
        remapped = [{**lg, "blockNumber": hex(rep.blocks[int(lg["blockNumber"], 16)])} for lg in logs]
        want = decode_logs(remapped).rows
        db = new_db()
        ingest.backfill(db, node.url, 0, rep.last_block, confirmations=0, preparations=False, window=50)
        for table in FPMM_TABLES:
            cols = [c for c in COLUMNS[table] if c not in ("tx_hash", "_version", "_deleted", "block_time")]
            got = sorted(tuple(r) for r in db.query(f"SELECT {', '.join(cols)} FROM {table} FINAL").result_rows)
            idx = [COLUMNS[table].index(c) for c in cols]
            assert got and got == sorted(tuple(r[i] for i in idx) for r in want[table]), table
    finally:
        node.stop()


@pytest.mark.anvil
def test_fpmm_chain_world_equals_contract_state(anvil_bin, new_db, tmp_path):
    """FPMM markets played as transactions: the FPMM double (contracts/FixedProductMarketMaker.sol) moves real
    USDC.e and real CTF shares. The fast simulator's logs decode to the node's rows; the warehouse, backfilled from
    the node over JSON-RPC, gives every wallet the P&L read from balances; reconcile finds no ERC1155 mismatch; no
    FPMM has a P&L row."""
    from harness.chain.contracts.artefacts import available

    if available():
        pytest.skip(available())
    _chain_world_equals_contract_state(WorldParams(seed=8, wallets=20, markets=4, fills=150, fpmm_markets=3),
                                       new_db, tmp_path)


#: Issue 21's medium FPMM world (120 wallets, 20 markets, 1,200 fills, 4 FPMMs). Seeds 6262 and 7373 failed on a
#: removeFunding the contract reverts (the simulator skipped a 1-unit fee shortfall); other seeds are checked with
#: HARNESS_FPMM_SEEDS="1 2 3" (each seed is a world played on anvil, see the README's chain-world section).
MEDIUM_SEEDS = [int(x) for x in os.environ.get("HARNESS_FPMM_SEEDS", "6262").split()]


@pytest.mark.anvil
@pytest.mark.parametrize("seed", MEDIUM_SEEDS)
def test_medium_fpmm_chain_world_plays_and_equals_contract_state(anvil_bin, new_db, tmp_path, seed):
    from harness.chain.contracts.artefacts import available

    if available():
        pytest.skip(available())
    _chain_world_equals_contract_state(WorldParams(seed=seed, wallets=120, markets=20, fills=1200, fpmm_markets=4),
                                       new_db, tmp_path)


def _chain_world_equals_contract_state(params, new_db, tmp_path):
    from harness.chain.rpc import RpcClient
    from harness.gates.reconcile import reconcile
    from harness.ingest import backfill, ingest_prices
    from harness.worlds.chain_world import decoded_rows, first_differences, node_logs, play, start_node

    with start_node(params) as node:
        world = play(params, node)
        logs = node_logs(node, world.first_block, world.last_block)
        assert first_differences(decoded_rows(world.sim_logs), decoded_rows(logs)) == []
        ops = world.sim.meta()["ops"]
        assert all(ops.get(k, 0) > 0 for k in ("fpmm_buy", "fpmm_sell", "fpmm_add", "fpmm_remove")), ops
        db = new_db()
        backfill(db, node.url, world.first_block, world.last_block, confirmations=0, progress=False)
        write_prices(tmp_path / "prices.csv", world.sim.prices())
        ingest_prices(db, tmp_path / "prices.csv", source="chain-world", as_of=0)
        build.rebuild(db)
        build.create_views(db)
        truth = {w: t.total for w, t in world.truth.items()}
        got = {w: int(t) for w, t in db.query(
            "SELECT wallet, total_pnl FROM wallet_pnl_summary_final WHERE wallet IN {w:Array(String)}",
            parameters={"w": sorted(truth)}).result_rows}
        assert {w: got.get(w, 0) for w in truth} == truth
        res = reconcile(db, RpcClient(node.url).batch, block=world.last_block, wallets=sorted(truth))
        assert res.ok and res.positions > 0, str(res)[:2000]
        fpmms = sorted(world.sim.pools)
        assert db.query("SELECT count() FROM wallet_market_pnl WHERE wallet IN {f:Array(String)}",
                        parameters={"f": fpmms}).result_rows[0][0] == 0
