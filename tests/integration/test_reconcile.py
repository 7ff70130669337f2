"""reconcile: warehouse net shares against balanceOfBatch on a node running the real ConditionalTokens bytecode."""
from __future__ import annotations

import pytest

from harness.chain.rpc import RpcClient
from harness.gates.reconcile import ReconcileError, chain_balances, reconcile
from harness.ingest import backfill
from tests.support import flows

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def played(pm):
    """A node where A split, merged, gave B some NO and redeemed (tests/support/flows.py)."""
    return pm, flows.ctf_split_merge_redeem(pm, "reconcile")


@pytest.fixture
def ingested(played, fresh_db):
    pm, flow = played
    backfill(fresh_db, pm.node.url, flow.first_block, flow.last_block, confirmations=0, progress=False)
    return fresh_db, pm, flow


def test_complete_warehouse_reconciles_with_zero_mismatches(ingested):
    client, pm, flow = ingested
    res = reconcile(client, RpcClient(pm.node.url).batch, block=flow.last_block, wallets=list(flow.wallets.values()))
    assert res.ok, str(res)
    # both outcomes of the condition, for both wallets: 4 positions compared, B holding 6 NO
    assert res.positions == 4
    assert pm.balance_of_batch([flow.wallets["B"]], [flow.tokens["NO"]])[0] == 6 * flows.U


def test_a_deleted_transfer_row_is_named_by_wallet_and_token(ingested):
    client, pm, flow = ingested
    b, no = flow.wallets["B"], flow.tokens["NO"]
    client.command("ALTER TABLE erc1155_transfers DELETE WHERE to_addr = {b:String} AND token_id = {t:UInt256}",
                   parameters={"b": b, "t": no}, settings={"mutations_sync": 2})
    res = reconcile(client, RpcClient(pm.node.url).batch, block=flow.last_block, wallets=list(flow.wallets.values()))
    a = flow.wallets["A"]  # the lost A -> B transfer: A still has 6 NO in the warehouse, B none
    got = {(m.wallet, m.token_id): (m.warehouse, m.chain) for m in res.mismatches}
    assert got == {(a, no): (6 * flows.U, 0), (b, no): (0, 6 * flows.U)}
    assert {m.condition_id for m in res.mismatches} == {flow.conditions[0]}
    assert f"{b} | {no} |" in str(res)


def test_a_credit_to_the_wrong_wallet_is_caught(ingested):
    """A's YES burns (merge 4, redemption 6) re-pointed to come from B: A keeps its 10 minted YES in the
    warehouse, B goes to -10; on chain both hold 0 YES."""
    client, pm, flow = ingested
    a, b, yes = flow.wallets["A"], flow.wallets["B"], flow.tokens["YES"]
    client.command("ALTER TABLE erc1155_transfers UPDATE from_addr = {b:String} WHERE from_addr = {a:String} "
                   "AND to_addr = {z:String} AND token_id = {t:UInt256}",
                   parameters={"a": a, "b": b, "z": "0x" + "00" * 20, "t": yes}, settings={"mutations_sync": 2})
    res = reconcile(client, RpcClient(pm.node.url).batch, block=flow.last_block, wallets=[a, b])
    got = {(m.wallet, m.token_id): (m.warehouse, m.chain) for m in res.mismatches}
    assert got == {(a, yes): (10 * flows.U, 0), (b, yes): (-10 * flows.U, 0)}


def test_a_wallet_whose_only_transfer_is_lost_is_still_checked(played, fresh_db):
    """A buys 10 YES in a V1 MINT match and holds them: its one share transfer lost, A has no row left in
    erc1155_transfers, yet its fill still names the condition, so A is compared there (warehouse 0, chain 10)."""
    pm, _ = played
    flow = flows.v1_mint(pm, "reconcile-mint")
    backfill(fresh_db, pm.node.url, flow.first_block, flow.last_block, confirmations=0, progress=False)
    a, yes = flow.wallets["A"], flow.tokens["YES"]
    fresh_db.command("ALTER TABLE erc1155_transfers DELETE WHERE to_addr = {a:String}", parameters={"a": a},
                     settings={"mutations_sync": 2})
    res = reconcile(fresh_db, RpcClient(pm.node.url).batch, block=flow.last_block, wallets=[a])
    assert [(m.wallet, m.token_id, m.warehouse, m.chain) for m in res.mismatches] == [(a, yes, 0, 10 * flows.U)]


def test_an_earlier_block_compares_the_state_then(ingested):
    """Before the transfer to B, B held nothing on chain and in the warehouse."""
    client, pm, flow = ingested
    res = reconcile(client, RpcClient(pm.node.url).batch, block=flow.first_block, wallets=[flow.wallets["B"]])
    assert res.ok and res.positions == 0


def test_node_without_archive_state_says_so():
    def pruned(_calls):
        raise RuntimeError("eth_call: JSON-RPC error -32000: missing trie node 1234abcd (path )")

    with pytest.raises(ReconcileError, match="archive node"):
        chain_balances(pruned, "0x" + "11" * 20, [("0x" + "22" * 20, 1)], 5)


def test_a_contract_that_is_not_the_ctf_is_a_clear_error():
    with pytest.raises(ReconcileError, match="not a uint256"):
        chain_balances(lambda calls: ["0x" for _ in calls], "0x" + "11" * 20, [("0x" + "22" * 20, 1)], 5)


def test_bad_wallet_is_named(fresh_db):
    with pytest.raises(ReconcileError, match="'0x12'"):
        reconcile(fresh_db, lambda c: [], block=1, wallets=["0x12"])


@pytest.mark.embedded_only("runs commands on an embedded warehouse directory of its own (HARNESS_WAREHOUSE_DIR / chdb://), the default path")
def test_cli_exit_codes(played, tmp_path):
    """The command as a user runs it on the embedded warehouse: 0 when the warehouse agrees with the node, 1 with
    the mismatch table when a transfer is lost, 2 with one line for unusable options."""
    import os
    import subprocess
    import sys

    from harness.config import PROJECT_ROOT

    pm, flow = played
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLICKHOUSE_", "POLYGON_"))}
    db = ["--clickhouse", f"chdb://{tmp_path / 'wh'}", "--database", "rc"]

    def run(*args):
        return subprocess.run([sys.executable, "-m", "harness", *args], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, timeout=300, check=False)

    wallets = [a for w in flow.wallets.values() for a in ("--wallet", w)]
    done = run("backfill", "--rpc-url", pm.node.url, "--from-block", str(flow.first_block), "--to-block",
               str(flow.last_block), "--confirmations", "0", *db)
    assert done.returncode == 0, done.stderr
    ok = run("reconcile", "--rpc-url", pm.node.url, "--block", str(flow.last_block), *wallets, *db)
    assert ok.returncode == 0 and ", 0 mismatches" in ok.stdout, ok.stdout + ok.stderr
    code = ("import sys; from harness.warehouse import connect, resolve_settings\n"
            "c = connect(resolve_settings(clickhouse=sys.argv[1], database='rc'))\n"
            "c.command('ALTER TABLE erc1155_transfers DELETE WHERE to_addr = {b:String}', "
            "parameters={'b': sys.argv[2]}, settings={'mutations_sync': 2})\n")
    cut = subprocess.run([sys.executable, "-c", code, f"chdb://{tmp_path / 'wh'}", flow.wallets["B"]],
                         cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert cut.returncode == 0, cut.stderr
    bad = run("reconcile", "--rpc-url", pm.node.url, "--block", str(flow.last_block), *wallets, *db)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert f"{flow.wallets['B']} | {flow.tokens['NO']} |" in bad.stdout
    usage = run("reconcile", "--rpc-url", pm.node.url, *db)
    assert usage.returncode == 2 and usage.stderr.count("\n") == 1 and "--wallet" in usage.stderr
