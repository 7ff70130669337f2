"""chain-world: a seeded world played as transactions on the real ConditionalTokens bytecode; the warehouse's P&L
against a truth read from balances (never from events), reconcile, faults, and the fast simulator against it."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal

import pytest

from harness.chain.contracts.artefacts import available
from harness.chain.contracts.exchange import OPERATOR
from harness.chain.rpc import RpcClient
from harness.config import PROJECT_ROOT, contracts, non_wallets
from harness.gates.reconcile import reconcile
from harness.ingest import backfill, ingest_prices
from harness.pnl.build import create_views, rebuild
from harness.worlds.chain_world import decoded_rows, first_differences, node_logs, play, start_node
from harness.worlds.model import WorldParams
from tests.support.played import WORLDS, played, serve, session_root

# The module's first test pays for playing the 300-wallet world on anvil: beyond the suite's 900 s on a loaded machine.
pytestmark = [pytest.mark.anvil, pytest.mark.timeout(2700)]

#: The acceptance world: 300 wallets, 40 markets, 3,000 matched trades (about 70 CPU-s to play, once per session).
BIG_NAME = "chain-world-big"
BIG = WORLDS[BIG_NAME]


def _need_contracts():
    why = available()
    if why:
        pytest.skip(why)


@pytest.fixture(scope="module")
def big(anvil_bin, tmp_path_factory):
    """The world played once per session (tests/support/played.py), served by this worker's own node."""
    _need_contracts()
    out = played(BIG, session_root(tmp_path_factory), BIG_NAME)
    world = serve(out)
    try:
        yield world, out
    finally:
        world.node.stop()


@pytest.fixture(scope="module")
def big_db(big, module_db):
    """The world backfilled from the node over JSON-RPC (as `harness backfill` does), its marks imported."""
    world, out = big
    client = module_db()
    backfill(client, world.node.url, world.first_block, world.last_block, confirmations=0, progress=False)
    ingest_prices(client, out / "prices.csv", source="chain-world", as_of=0)
    rebuild(client)
    create_views(client)
    return client


def _totals(client, wallets) -> dict[str, int]:
    rows = client.query("SELECT wallet, total_pnl FROM wallet_pnl_summary_final WHERE wallet IN {w:Array(String)}",
                        parameters={"w": list(wallets)}).result_rows
    return {w: int(t) for w, t in rows}


def test_world_exercises_every_flow(big):
    """The node's own logs hold every flow the issue lists, so the comparison below covers them."""
    world, _out = big
    rows = decoded_rows(node_logs(world.node, world.first_block, world.last_block))
    tables = {t for t, _r in rows}
    assert {"trades_raw", "erc1155_transfers", "ctf_actions", "neg_risk_conversions", "condition_resolutions",
            "fee_refunds", "wallet_proxies"} <= tables
    exchanges = {r[0] for t, r in rows if t == "trades_raw"}
    addrs = {c.key: c.address for c in contracts().values()}
    assert {addrs["ctf_exchange"], addrs["neg_risk_exchange"], addrs["ctf_exchange_v2"]} <= exchanges
    stakeholders = {r[2] for t, r in rows if t == "ctf_actions"}
    assert addrs["ctf_collateral_adapter"] in stakeholders or addrs["neg_risk_collateral_adapter"] in stakeholders
    ops = world.sim.meta()["ops"]
    assert ops.get("convert", 0) > 0 and ops.get("redeem", 0) > 0 and ops.get("transfer", 0) > 0
    assert any(m.early for m in world.sim.markets), "no negRisk market resolved question by question"
    assert any(not m.resolved for m in world.sim.markets), "no market left open"
    assert len(world.sim.wallets) == 300 and world.sim.fills_done == BIG.fills


def test_every_wallet_equals_contract_state_truth(big, big_db):
    world, _out = big
    truth = {w: t.total for w, t in world.truth.items()}
    assert len(truth) >= 250
    got = _totals(big_db, truth)
    diff = {w: (got.get(w), t) for w, t in truth.items() if got.get(w, 0) != t}
    assert diff == {}, f"{len(diff)} wallets differ (warehouse, truth): {list(diff.items())[:5]}"


def test_no_contract_gets_a_pnl_row(big_db):
    rows = big_db.query("SELECT DISTINCT wallet FROM wallet_market_pnl WHERE wallet IN {w:Array(String)}",
                        parameters={"w": non_wallets()}).result_rows
    assert rows == []
    # the exchanges' operator among them (issue 21), though it holds fee shares the contracts paid it
    assert OPERATOR in non_wallets()
    assert big_db.query("SELECT count() FROM erc1155_transfers FINAL WHERE to_addr = {o:String}",
                        parameters={"o": OPERATOR}).result_rows[0][0] > 0


def test_reconcile_reports_zero_mismatches(big, big_db):
    world, _out = big
    res = reconcile(big_db, RpcClient(world.node.url).batch, block=world.last_block, wallets=sorted(world.truth))
    assert res.ok, str(res)[:2000]
    assert res.positions > 1000


def test_validate_stage_gate_reconciles_references_and_a_sample(big, big_db):
    """What the validate stage runs when a node is given: reference wallets plus a seeded sample, at the watermark."""
    from harness.gates.reconcile import reconcile_gate

    world, _out = big
    refs = sorted(world.truth)[:3] + ["0x" + "77" * 20]  # a wallet the warehouse never saw is still asked about
    res = reconcile_gate(big_db, world.node.url, refs, sample=50, seed=1)
    assert res.ok, str(res)[:2000]
    assert len(res.wallets) >= 51 and res.block <= world.last_block and res.positions > 200


def test_a_deleted_fill_transfer_fails_both_checks(big, module_db):
    """One fill's share delivery removed from the warehouse: reconcile and the truth comparison both name the
    wallet (and reconcile the token)."""
    world, out = big
    client = module_db()
    backfill(client, world.node.url, world.first_block, world.last_block, confirmations=0, progress=False)
    ingest_prices(client, out / "prices.csv", source="chain-world", as_of=0)
    ex = contracts()["ctf_exchange"].address
    victim, token = client.query(
        "SELECT to_addr, token_id FROM erc1155_transfers WHERE from_addr = {ex:String} AND to_addr IN "
        "{w:Array(String)} ORDER BY tx_hash, log_index LIMIT 1", parameters={"ex": ex, "w": sorted(world.truth)}
    ).result_rows[0]
    client.command("ALTER TABLE erc1155_transfers DELETE WHERE to_addr = {v:String} AND token_id = {t:UInt256} "
                   "AND from_addr = {ex:String}", parameters={"v": victim, "t": token, "ex": ex},
                   settings={"mutations_sync": 2})
    rebuild(client)
    create_views(client)
    res = reconcile(client, RpcClient(world.node.url).batch, block=world.last_block, wallets=[victim])
    assert [(m.wallet, m.token_id) for m in res.mismatches] == [(victim, int(token))]
    assert _totals(client, [victim]).get(victim, 0) != world.truth[victim].total


def test_a_taker_credited_fails_the_truth_comparison(big, module_db):
    """A fill credited to its taker as well (the double count the domain notes warn of): that wallet's P&L no
    longer equals the balances' truth."""
    world, out = big
    client = module_db()
    backfill(client, world.node.url, world.first_block, world.last_block, confirmations=0, progress=False)
    ingest_prices(client, out / "prices.csv", source="chain-world", as_of=0)
    wallets = sorted(world.truth)
    row = client.query("SELECT * FROM trades_raw WHERE counterparty IN {w:Array(String)} AND usdc > 0 "
                       "ORDER BY tx_hash, log_index LIMIT 1", parameters={"w": wallets}).result_rows[0]
    cols = [c for c, *_ in client.query("DESCRIBE trades_raw").result_rows]
    r = dict(zip(cols, row))
    taker = r["counterparty"]
    client.insert("trades_raw", [[{**r, "wallet": taker, "side": "BUY" if r["side"] == "SELL" else "SELL",
                                   "log_index": r["log_index"] + 100_000}[c] for c in cols]], column_names=cols)
    rebuild(client)
    create_views(client)
    assert _totals(client, [taker])[taker] != world.truth[taker].total


def test_fast_simulator_agrees_with_the_contracts(anvil_bin):
    """The same seeded world both ways: the simulator's logs and the node's decode to the same rows (tx hashes,
    blocks and times aside) and give the same P&L; where they differ, the contract run is right."""
    _need_contracts()
    params = WorldParams(seed=5, wallets=30, markets=8, fills=300, neg_risk_share=0.5, v2_share=0.3)
    with start_node(params) as node:
        world = play(params, node)
        chain = decoded_rows(node_logs(node, world.first_block, world.last_block))
    sim = decoded_rows(world.sim_logs)
    assert first_differences(sim, chain) == []
    ledger = {w: t.total for w, t in world.sim.truth().items() if w in world.truth}
    assert ledger == {w: t.total for w, t in world.truth.items()}


@pytest.mark.embedded_only("runs commands on an embedded warehouse directory of its own (HARNESS_WAREHOUSE_DIR / chdb://), the default path")
def test_cli_chain_world_then_ingest_files(tmp_path, anvil_bin):
    """The command a user runs: chain-world writes a file world whose truth.json the warehouse reproduces."""
    _need_contracts()
    out = tmp_path / "w"
    run = subprocess.run([sys.executable, "-m", "harness", "chain-world", "--seed", "3", "--wallets", "20",
                          "--markets", "5", "--fills", "80", "--out", str(out), "--progress-every", "0"],
                         cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    assert "wallets with P&L from contract state" in run.stdout
    # never silent for minutes: its phases, then progress in matched trades, ending at all 80 of them
    for phase in ("installing the contracts", "funding and approving 20 wallets", "playing 80 matched trades",
                  "reading the truth from contract state", "reading the node's logs"):
        assert f"INFO harness.worlds.chain_world: chain-world: {phase}" in run.stderr, run.stderr[-3000:]
    done = [int(m) for m in re.findall(r"chain-world: playing (\d+)/80 matched trades", run.stderr)]
    assert len(done) > 10 and done == sorted(done)
    assert "chain-world: played 80/80 matched trades (100%)" in run.stderr
    truth = json.loads((out / "truth.json").read_text())
    assert "no event was read" in truth["definition"] and truth["wallets"]
    db = ["--clickhouse", f"chdb://{tmp_path / 'wh'}", "--database", "cw"]
    for cmd in (["ingest-files", str(out)], ["build"]):
        done = subprocess.run([sys.executable, "-m", "harness", *cmd, *db], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
    w, t = min(truth["wallets"].items())
    pnl = subprocess.run([sys.executable, "-m", "harness", "pnl", w, *db], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, timeout=120, check=False)
    assert pnl.returncode == 0, pnl.stderr
    assert f"total {Decimal(t['total']) / 10**6:,.6f}" in pnl.stdout


@pytest.mark.embedded_only("runs commands on an embedded warehouse directory of its own (HARNESS_WAREHOUSE_DIR / chdb://), the default path")
def test_cli_serve_backfill_build_reconcile(tmp_path, anvil_bin):
    """As an operator would: chain-world --serve in the background, then backfill over JSON-RPC, build, and
    reconcile a seeded sample against the same node (exit 0, 0 mismatches)."""
    import os
    import re
    import signal

    _need_contracts()
    out = tmp_path / "w"
    srv = subprocess.Popen([sys.executable, "-m", "harness", "chain-world", "--seed", "4", "--wallets", "20",
                            "--markets", "5", "--fills", "80", "--out", str(out), "--serve"], cwd=PROJECT_ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        url = None
        for line in srv.stdout:  # "serving the chain on http://127.0.0.1:PORT ..."
            m = re.search(r"serving the chain on (http://127\.0\.0\.1:\d+)", line)
            if m:
                url = m.group(1)
                break
        assert url, srv.stderr.read()
        meta = json.loads((out / "world.json").read_text())
        lo, hi = meta["block_range"]
        db = ["--clickhouse", f"chdb://{tmp_path / 'wh'}", "--database", "cw"]
        steps = [["backfill", "--rpc-url", url, "--from-block", str(lo), "--to-block", str(hi),
                  "--confirmations", "0"],
                 ["build"],
                 ["reconcile", "--rpc-url", url, "--block", str(hi), "--sample", "20"]]
        for cmd in steps:
            done = subprocess.run([sys.executable, "-m", "harness", *cmd, *db], cwd=PROJECT_ROOT,
                                  capture_output=True, text=True, timeout=300, check=False)
            assert done.returncode == 0, (cmd[0], done.stdout[-2000:], done.stderr[-2000:])
        assert ", 0 mismatches" in done.stdout and "20 wallets" in done.stdout
    finally:
        os.killpg(srv.pid, signal.SIGINT)
        srv.wait(30)


# ---- check-wallet (issue 25): one wallet from its own logs, against the full warehouse and the balances' truth ----


def _by_market(client, table: str, cols: str, wallets) -> dict[str, dict[str, tuple]]:
    out: dict[str, dict[str, tuple]] = {}
    for w, c, *rest in client.query(f"SELECT wallet, condition_id, {cols} FROM {table} WHERE wallet IN "
                                    "{w:Array(String)}", parameters={"w": list(wallets)}).result_rows:
        out.setdefault(w, {})[c] = tuple(int(v) for v in rest)
    return out


def test_check_wallet_every_wallet_equals_the_warehouse_and_the_truth(big, big_db, module_db):
    """Every wallet of the 300-wallet world, and every proxy owner (an EOA), checked from its own logs on a scratch
    database: totals equal contract-state truth, and every market of both methods equals the full warehouse's."""
    from harness.gates.checkwallet.scratch import check_wallets

    world, out = big
    proxies = world.sim.meta()["proxies"]  # owner EOA -> {proxy, kind}
    wallets = sorted(world.truth)
    figs = check_wallets(module_db(), world.node.url, wallets + sorted(proxies), from_block=world.first_block,
                         to_block=world.last_block, prices=out / "prices.csv", explain=False, count_chain=True)
    got = {f.wallet: f for f in figs}
    assert {w: got[w].total for w in wallets} == {w: t.total for w, t in world.truth.items()}
    for owner, p in proxies.items():  # an EOA answers with its proxy's figures, as the API does
        assert (got[owner].proxy, got[owner].link.kind) == (p["proxy"], p["kind"])
        assert got[owner].total == world.truth[p["proxy"]].total
    cf = _by_market(big_db, "wallet_market_pnl", "resolved, cashflow, value, pnl", wallets)
    ac = _by_market(big_db, "wallet_market_pnl_avgcost", "resolved, realized, unrealized, pnl", wallets)
    summary = {w: tuple(int(x) for x in r) for w, *r in big_db.query(
        "SELECT s.wallet, s.realized_pnl, s.unrealized_pnl, u.ui_realized_pnl, u.ui_unrealized_pnl "
        "FROM wallet_pnl_summary_final AS s LEFT JOIN ui_wallet_pnl_summary AS u ON u.wallet = s.wallet "
        "WHERE s.wallet IN {w:Array(String)}", parameters={"w": wallets}).result_rows}
    diff = []
    for w in wallets:
        f = got[w]
        mine_cf = {m.condition_id: (int(m.resolved), m.cashflow, m.value, m.cf_pnl) for m in f.markets
                   if m.in_cash_flow}
        mine_ac = {m.condition_id: (int(m.resolved), m.ac_realized, m.ac_unrealized, m.ac_pnl) for m in f.markets
                   if m.in_average_cost}
        if (mine_cf != cf.get(w, {}) or mine_ac != ac.get(w, {})
                or (f.realized, f.unrealized, f.ui_realized, f.ui_unrealized) != summary[w]):
            diff.append(w)
    assert diff == [], f"{len(diff)} wallets differ from the warehouse, first {diff[:3]}"
    assert sum(len(cf.get(w, {})) for w in wallets) > 1000
    logs = figs[0].fetch.logs_fetched
    assert 0 < logs < figs[0].chain_logs * 2  # all 300 wallets at once: about the chain; one wallet: below


def test_check_wallet_cli_one_eoa_fetches_few_logs(big):
    """The command for one EOA: it answers with its proxy's P&L (= truth), both methods in --json as decimal
    strings, and fetches a small part of the chain's logs."""
    world, out = big
    owner, p = min(world.sim.meta()["proxies"].items())
    run = subprocess.run([sys.executable, "-m", "harness", "check-wallet", owner, "--rpc-url", world.node.url,
                          "--from-block", str(world.first_block), "--to-block", str(world.last_block),
                          "--prices", str(out / "prices.csv"), "--count-chain", "--json"],
                         cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    doc = json.loads(run.stdout)
    assert (doc["wallet"], doc["proxy"], doc["resolved_from"]["kind"]) == (owner, p["proxy"], p["kind"])
    assert Decimal(doc["cash_flow"]["total"]) * 10**6 == world.truth[p["proxy"]].total
    assert Decimal(doc["cash_flow"]["realized"]) + Decimal(doc["cash_flow"]["unrealized"]) == \
        Decimal(doc["cash_flow"]["total"])
    assert set(doc["average_cost"]) == {"realized", "unrealized", "total"} and doc["markets"]
    assert all(len(m["cash_flow"]["pnl"].split(".")[1]) == 6 for m in doc["markets"])
    assert 0 < doc["logs_fetched"] < doc["chain_logs"] / 10, (doc["logs_fetched"], doc["chain_logs"])


def test_check_wallet_through_a_node_that_refuses_wide_ranges(big, module_db, fault_proxy):
    """A node refusing getLogs over more than 64 blocks: the backfill's window logic halves and the figures are
    unchanged."""
    from harness.chain.faultproxy import FaultPlan
    from harness.chain.rpc import RetryPolicy
    from harness.gates.checkwallet.scratch import check_wallet

    world, out = big
    wallet = max(world.truth, key=lambda w: abs(world.truth[w].total))
    proxy = fault_proxy(world.node.url, FaultPlan(rate=0.0, max_range=64))
    rpc = RpcClient(proxy.url, retry=RetryPolicy(attempts=4, base=0.0, cap=0.0), sleep=lambda s: None)
    fig = check_wallet(module_db(), rpc, wallet, from_block=world.first_block, to_block=world.last_block,
                       prices=out / "prices.csv", explain=False)
    assert fig.total == world.truth[wallet].total
    assert proxy.stats.faults["too_many(range)"] > 0 and rpc.stats.range_errors > 0

