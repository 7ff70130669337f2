"""Polymarket flows on the real ConditionalTokens bytecode and our settlement contracts, checked by balances.

Each scenario's expected balances and P&L are written by hand in tests/support/flows.py; here they are compared
with what the contracts hold (balanceOf / balanceOfBatch), never with anything read from events.
"""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from harness.chain import contracts as cx
from harness.chain.contracts import ContractError, Polymarket
from harness.config import PROJECT_ROOT
from tests.support import flows
from tests.support.flows import U

pytestmark = pytest.mark.anvil


@pytest.fixture(scope="module")
def pm(anvil_bin):
    why = cx.available()
    if why:
        pytest.skip(why)
    from harness.chain.node import Anvil

    node = Anvil.start(binary=anvil_bin)
    try:
        yield Polymarket.install(node)
    finally:
        node.stop()


def _check(pm: Polymarket, flow: flows.Flow) -> None:
    ws = flow.wallets
    cash = {r: pm.balance_of("usdc", [w])[w] + pm.balance_of("pusd", [w])[w] for r, w in ws.items()}
    for role, want in flow.expected_cash.items():
        assert cash[role] == want, f"{flow.name}: {role} collateral {cash[role]} != {want}"
    who = dict(ws, **flow.extra)
    for (role, label), want in flow.expected_shares.items():
        got = pm.balance_of_batch([who[role]], [flow.tokens[label]])[0]
        assert got == want, f"{flow.name}: {role} holds {got} {label}, expected {want}"
    assert flows.state_pnl(pm, flow) == flow.expected_pnl


@pytest.mark.parametrize("play", flows.FLOWS, ids=lambda f: f.__name__)
def test_flow_balances_and_pnl_match_the_hand_written_story(pm, play):
    _check(pm, play(pm))


def test_revert_names_the_call_and_the_reason(pm):
    w = flows.addr("revert", "W")
    cid = pm.prepare_condition(flows.addr("revert", "oracle"), flows.b32("revert", "q"))
    with pytest.raises(ContractError, match=r"mergePositions\(0x[0-9a-f]{40}, 0x[0-9a-f]{64}, 5\) via ctf reverted.*"
                                            r"SafeMath: subtraction overflow"):
        pm.merge(w, cid, 5)


def test_one_block_holds_the_queued_calls_at_the_given_time(pm):
    w = flows.addr("block", "W")
    before = pm.node.block_number()
    ts = int(pm.node.call("eth_getBlockByNumber", "latest", False)["timestamp"], 16) + 1000
    with pm.block(ts):
        pm.fund(w, usdc=3 * U)
        pm.fund(w, pusd=2 * U)
    blk = pm.node.call("eth_getBlockByNumber", "latest", False)
    assert int(blk["number"], 16) == before + 1 and int(blk["timestamp"], 16) == ts
    assert len(blk["transactions"]) == 2
    assert pm.balance_of("usdc", [w])[w] == 3 * U and pm.balance_of("pusd", [w])[w] == 2 * U
    assert pm.funded[w] == {"usdc": 3 * U, "pusd": 2 * U}


def test_ctf_bytecode_comes_from_the_npm_package_without_link_placeholders():
    if cx.available():
        pytest.skip(cx.available())
    code = cx.ctf_runtime()
    assert code.startswith("0x") and "__" not in code and len(code) > 10_000


def test_artefacts_recompile_byte_identical(tmp_path):
    if not (PROJECT_ROOT / ".tools/node_modules/solc/package.json").is_file() or shutil.which("node") is None:
        pytest.skip("solc (npm) not installed: run bash scripts/setup.sh")
    subprocess.run(["bash", str(PROJECT_ROOT / "scripts/compile-contracts.sh"), str(tmp_path)], check=True,
                   capture_output=True, timeout=300)
    committed = sorted(p.name for p in cx.ARTEFACT_DIR.glob("*.json"))
    assert sorted(p.name for p in tmp_path.glob("*.json")) == committed
    for name in committed:
        assert (tmp_path / name).read_bytes() == (cx.ARTEFACT_DIR / name).read_bytes(), name
        assert json.loads((tmp_path / name).read_text())["deployedBytecode"].startswith("0x")
