"""Polymarket flows on the real ConditionalTokens bytecode and our settlement contracts, checked by balances.

Each scenario's expected balances and P&L are written by hand in tests/support/flows.py; here they are compared
with what the contracts hold (balanceOf / balanceOfBatch), never with anything read from events.
"""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.chain import events as ev
from harness.chain.contracts.abi import ZERO, calldata
from harness.chain.contracts.artefacts import ARTEFACT_DIR, ContractError, available, ctf_runtime, event_abis
from harness.chain.contracts.exchange import Side, v1_fee
from harness.chain.contracts.polymarket import Addresses, Polymarket
from harness.chain.decode import COLUMNS, decode_logs
from harness.chain.encode import decode_event
from harness.config import PROJECT_ROOT
from tests.support import flows
from tests.support.flows import U

pytestmark = pytest.mark.anvil


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


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from((0, 1, 100, 200, 1000)), st.integers(1, 10**12), st.integers(1, 10**12), st.integers(0, 1))
def test_exchange_fee_on_chain_equals_v1_fee(pm, bps, making, taking, side):
    """The exchange's calculateFee (what it charges) and the Python formula the FeeModule refund path mirrors."""
    sd = Side(side)
    tokens = taking if sd == Side.BUY else making
    out = pm.call(pm.addr.ctf_exchange, calldata("calculateFee(uint256,uint256,uint256,uint256,uint8)", bps,
                                                 tokens, making, taking, side))
    assert int.from_bytes(out, "big") == v1_fee(bps, tokens, making, taking, sd)


def test_revert_names_the_call_and_the_reason(pm):
    w = flows.addr("revert", "W")
    cid = pm.prepare_condition(flows.addr("revert", "oracle"), flows.b32("revert", "q"))
    with pytest.raises(ContractError, match=r"mergePositions\(0x[0-9a-f]{40}, 0x[0-9a-f]{64}, 5\) via ctf reverted.*"
                                            r"SafeMath: subtraction overflow"):
        pm.merge(w, cid, 5)


def test_market_unpacks_and_collateral_sums_both_tokens(pm):
    mid, qids, cids = pm.prepare_neg_risk_market(2)
    assert len(qids) == len(cids) == 2 and int(qids[1], 16) == int(mid, 16) + 1
    w = flows.addr("coll", "W")
    pm.fund(w, usdc=2 * U, pusd=3 * U)
    assert pm.collateral([w]) == {w: 5 * U}


def test_exchange_refuses_overfills_and_orders_that_do_not_cross(pm):
    w = {r: flows.addr("xcheck", r) for r in "AB"}
    for a in w.values():
        pm.fund(a, usdc=100 * U)
    pm.approve(w.values())
    cid = pm.prepare_condition(flows.addr("xcheck", "oracle"), flows.b32("xcheck", "q"))
    yes, no = pm.register(cid)
    # two buys at 0.40 + 0.50 < 1 cannot mint a complete set
    with pytest.raises(ContractError, match="not crossing"):
        pm.match("ctf_exchange", pm.order(w["A"], yes, "BUY", 4 * U, 10 * U),
                 [pm.order(w["B"], no, "BUY", 5 * U, 10 * U)], 4 * U, [5 * U])
    taker = pm.order(w["A"], yes, "BUY", 6 * U, 10 * U)
    maker = pm.order(w["B"], no, "BUY", 4 * U, 10 * U)
    pm.match("ctf_exchange", taker, [maker], 3 * U, [2 * U])  # half of each
    with pytest.raises(ContractError, match="making greater than remaining"):
        pm.match("ctf_exchange", taker, [maker], 4 * U, [2 * U])
    assert pm.balance_of_batch([w["A"], w["B"]], [yes, no]) == [5 * U, 5 * U]


def test_a_route_that_cannot_hold_the_condition_is_refused(pm):
    m = pm.prepare_neg_risk_market(2)
    w = flows.addr("route", "W")
    with pytest.raises(ValueError, match=r"negRisk condition cannot go that way"):
        pm.split(w, m.condition_ids[0], U, via="ctf")
    cid = pm.prepare_condition(flows.addr("route", "oracle"), flows.b32("route", "q"))
    with pytest.raises(ValueError, match=r"standard condition cannot go that way"):
        pm.redeem(w, cid, via="neg_risk_adapter")
    with pytest.raises(ValueError, match=r"negRisk question pays \[1, 0\] or \[0, 1\]"):
        pm.resolve(m.condition_ids[1], [1, 1])
    with pytest.raises(ValueError, match=r"not prepared through this Polymarket"):
        pm.resolve(flows.b32("route", "unknown"), [1, 0])


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
    if available():
        pytest.skip(available())
    code = ctf_runtime()
    assert code.startswith("0x") and "__" not in code and len(code) > 10_000


def test_artefacts_recompile_byte_identical(tmp_path):
    if not (PROJECT_ROOT / ".tools/node_modules/solc/package.json").is_file() or shutil.which("node") is None:
        pytest.skip("solc (npm) not installed: run bash scripts/setup.sh")
    subprocess.run(["bash", str(PROJECT_ROOT / "scripts/compile-contracts.sh"), str(tmp_path)], check=True,
                   capture_output=True, timeout=300)
    committed = sorted(p.name for p in ARTEFACT_DIR.glob("*.json"))
    assert sorted(p.name for p in tmp_path.glob("*.json")) == committed
    for name in committed:
        assert (tmp_path / name).read_bytes() == (ARTEFACT_DIR / name).read_bytes(), name
        assert json.loads((tmp_path / name).read_text())["deployedBytecode"].startswith("0x")


# --- layouts: the emulated logs against the registry and against real Polygon logs ------------------------------

@pytest.fixture(scope="module")
def all_flows(anvil_bin):
    """A node of its own on which every flow has run once: (pm, flows, every log)."""
    why = available()
    if why:
        pytest.skip(why)
    from harness.chain.node import Anvil

    node = Anvil.start(binary=anvil_bin)
    try:
        pm = Polymarket.install(node)
        played = [play(pm, f"layout-{play.__name__}") for play in flows.FLOWS]
        yield pm, played, pm.logs(1)
    finally:
        node.stop()


def test_every_event_our_contracts_declare_has_the_registry_layout():
    """Same name, same field names, types, indexing and order as harness.chain.events (matched by topic0)."""
    if available():
        pytest.skip(available())
    known = {e.topic0: e for e in ev.EVENTS + ev.UNREAD_EVENTS}
    checked = 0
    for topic0, (contract, abi) in event_abis().items():
        e = known.get(topic0)
        if e is None:
            continue
        got = [(i["name"], i["type"], i["indexed"]) for i in abi["inputs"]]
        assert abi["name"] == e.name, contract
        assert got == [(f.name, f.type, f.indexed) for f in e.fields], f"{contract}.{abi['name']}"
        checked += 1
    assert {e.topic0 for e in ev.EVENTS + ev.UNREAD_EVENTS} <= set(event_abis()), "an event no contract emits"
    assert checked == len(known)


def test_every_emulated_log_decodes_and_only_setup_events_are_unknown(all_flows):
    _pm, _played, logs = all_flows
    out = decode_logs(logs)
    names = {t: abi["name"] for t, (_c, abi) in event_abis().items()}
    unknown = {names.get(t, t) for (_a, t) in out.unknown}
    # ERC20 movements, approvals and the admin events of the exchanges / adapter / fee module: no table reads them
    assert unknown <= {"Transfer", "Approval", "ApprovalForAll", "TokenRegistered", "MarketPrepared",
                       "OutcomeReported", "FeeRefunded"}, unknown
    counts = out.row_counts()
    for table in ("trades_raw", "erc1155_transfers", "ctf_actions", "condition_preparations",
                  "condition_resolutions", "neg_risk_conversions", "neg_risk_questions", "orders_matched",
                  "fee_charged"):
        assert counts[table] > 0, table


def _real_logs() -> dict:
    return json.loads((PROJECT_ROOT / "fixtures" / "real" / "erc1155_split_logs.json").read_text())


def _fields(log):
    e, args = decode_event(log)
    return e.key, list(args), args


def test_v2_adapter_split_mint_has_the_real_layout_and_roles(all_flows):
    """Real: adapter 0xada1 splits to itself (TransferBatch operator = adapter, from 0x0, to = adapter, two ids,
    equal values). Ours, from a user split through the same adapter: the same fields in the same order, the same
    roles."""
    pm, _played, logs = all_flows
    real = _real_logs()["TB_LOG"]
    adapter = pm.addr.ctf_adapter_v2
    ours = [lg for lg in logs if lg["topics"][0] == ev.BY_KEY["ctf.TransferBatch"].topic0
            and lg["topics"][1] == "0x" + "0" * 24 + adapter[2:] and lg["topics"][2] == "0x" + "0" * 64]
    assert ours, "no TransferBatch minted to the V2 CTF adapter"
    for log in (real, ours[0]):
        key, names, args = _fields(log)
        assert (key, names) == ("ctf.TransferBatch", ["operator", "from", "to", "ids", "values"])
        assert args["operator"] == args["to"] == adapter and args["from"] == ZERO
        assert len(args["ids"]) == 2 and args["values"][0] == args["values"][1] > 0
        rows = decode_logs([dict(log, blockTimestamp="0x1")]).as_dicts("erc1155_transfers")
        assert [(r["operator"], r["from_addr"], r["to_addr"]) for r in rows] == [(adapter, ZERO, adapter)] * 2


def test_v2_exchange_payout_has_the_real_layout_and_roles(all_flows):
    """Real: in the same tx as the adapter's mint, CTF Exchange V2 sends one of the minted ids to the buyer
    (TransferSingle operator = from = the exchange). Ours (V2 MINT match): the same."""
    pm, _played, logs = all_flows
    ex = pm.addr.ctf_exchange_v2
    real = _real_logs()
    by_tx: dict[str, list] = {}
    for lg in logs:
        by_tx.setdefault(lg["transactionHash"], []).append(lg)
    pairs = [(real["TB_LOG"], real["TS_LOG"])]
    for txl in by_tx.values():
        tb = [lg for lg in txl if lg["topics"][0] == ev.BY_KEY["ctf.TransferBatch"].topic0
              and lg["topics"][2] == "0x" + "0" * 64 and lg["topics"][1].endswith(pm.addr.ctf_adapter_v2[2:])]
        ts = [lg for lg in txl if lg["topics"][0] == ev.BY_KEY["ctf.TransferSingle"].topic0
              and lg["topics"][1].endswith(ex[2:])]
        if tb and ts:
            pairs.append((tb[0], ts[0]))
    assert len(pairs) > 1, "no V2 MINT match among the flows"
    for tb, ts in pairs[:2]:
        key, names, args = _fields(ts)
        assert (key, names) == ("ctf.TransferSingle", ["operator", "from", "to", "id", "value"])
        assert args["operator"] == args["from"] == ex and args["to"] not in (ex, ZERO)
        assert args["id"] in _fields(tb)[2]["ids"] and args["value"] > 0
        assert int(ts["logIndex"], 16) > int(tb["logIndex"], 16)


def test_real_and_emulated_decode_to_the_same_columns(all_flows):
    """The fast decoder reads both into erc1155_transfers rows with one column order."""
    _pm, _played, logs = all_flows
    real = [dict(v, blockTimestamp="0x1") for v in _real_logs().values()]
    ours = [lg for lg in logs if lg["address"] == Addresses.from_config().ctf
            and lg["topics"][0] in (ev.BY_KEY["ctf.TransferBatch"].topic0, ev.BY_KEY["ctf.TransferSingle"].topic0)]
    a, b = decode_logs(real), decode_logs(ours)
    assert not a.unknown and not b.unknown
    assert a.rows["erc1155_transfers"] and b.rows["erc1155_transfers"]
    assert {len(r) for r in a.rows["erc1155_transfers"]} == {len(r) for r in b.rows["erc1155_transfers"]} \
        == {len(COLUMNS["erc1155_transfers"])}
