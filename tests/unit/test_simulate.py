"""Simulator: determinism, the committed fixture world, exchange leg shapes, balances, and exact ground truth.

The truth is checked two independent ways: against the pure-Python P&L oracle run over the *decoded logs* (so the
logs really carry the P&L), and by conservation (a fully resolved world's P&L sums to minus the collateral fees).
"""
from __future__ import annotations

import hashlib
import json
import types
from collections import defaultdict
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.chain.decode import COLUMNS, decode_logs
from harness.chain.events import BY_KEY
from harness.config import PROJECT_ROOT, contracts
from harness.gates.wallets import load_wallets
from harness.pnl import oracle as pnl
from harness.worlds.ledger import Book
from harness.worlds.model import SimulationError, WorldParams
from harness.worlds.simulate import (
    WORLD_FILES,
    Simulation,
    iter_world,
    read_world_logs,
    world_hashes,
    write_world,
)

FIXTURE = PROJECT_ROOT / "fixtures" / "world"
C = contracts()
EXCHANGES = {C[k].address for k in ("ctf_exchange", "neg_risk_exchange", "ctf_exchange_v2", "neg_risk_exchange_v2")}
V2 = {C["ctf_exchange_v2"].address, C["neg_risk_exchange_v2"].address}
ADAPTER = C["neg_risk_adapter"].address
FEE_MODULES = {C["fee_module"].address, C["neg_risk_fee_module"].address}
ZERO = "0x" + "00" * 20


def _run(**kw):
    sim = Simulation(WorldParams(**kw))
    logs = list(sim.logs())
    return sim, logs


def _digest(logs) -> str:
    return hashlib.sha256("\n".join(json.dumps(lg, sort_keys=True) for lg in logs).encode()).hexdigest()


def test_deterministic_by_seed():
    a = _digest(_run(seed=3, wallets=20, markets=4, fills=60)[1])
    b = _digest(_run(seed=3, wallets=20, markets=4, fills=60)[1])
    c = _digest(_run(seed=4, wallets=20, markets=4, fills=60)[1])
    assert a == b != c


def test_iter_world_streams():
    it = iter_world(seed=1, wallets=10, markets=2, fills=20)
    assert isinstance(it, types.GeneratorType)
    first = next(it)
    assert first["topics"][0] == "0xab3760c3bd2bb38b5bcf54dc79802ed67338b4cf29f3054ded67ed24661e4177"  # preparation


def test_committed_fixture_regenerates_byte_identically(tmp_path):
    if not (FIXTURE / "world.json").is_file():
        pytest.fail(f"fixture world missing at {FIXTURE}")
    params = json.loads((FIXTURE / "world.json").read_text())["params"]
    write_world(tmp_path, WorldParams(**params))
    assert world_hashes(tmp_path) == world_hashes(FIXTURE)
    assert sum((FIXTURE / f).stat().st_size for f in WORLD_FILES) < 1_000_000


def _tables(sim, logs):
    d = decode_logs(logs)
    assert not d.unknown and d.count == len(logs)
    tables = {t: d.as_dicts(t) for t in COLUMNS}
    tables["market_prices"] = [{"condition_id": c, "outcome_index": o, "price_micros": v, "as_of": 0, "source": "sim"}
                               for c, o, v in sim.prices()]
    return tables


def _assert_truth_matches_oracle(sim, logs):
    res = pnl.cashflow_pnl(_tables(sim, logs))
    truth = sim.truth()
    got = {w: (x.realized, x.unrealized, x.total, x.markets_resolved, x.markets_open) for w, x in res.wallets.items()}
    exp = {w: (x.realized, x.unrealized, x.total, x.markets_resolved, x.markets_open) for w, x in truth.items()}
    assert got == exp


@settings(max_examples=8)
@given(seed=st.integers(0, 10**6), neg=st.sampled_from([0.0, 0.5, 1.0]), open_share=st.sampled_from([0.0, 0.3, 1.0]))
def test_ledger_equals_oracle_over_decoded_logs(seed, neg, open_share):
    sim, logs = _run(seed=seed, wallets=25, markets=5, fills=120, neg_risk_share=neg, open_share=open_share)
    _assert_truth_matches_oracle(sim, logs)


def test_fixture_truth_file_equals_oracle_over_its_logs():
    truth = json.loads((FIXTURE / "truth.json").read_text())["wallets"]
    sim = Simulation(WorldParams(**json.loads((FIXTURE / "world.json").read_text())["params"]))
    logs = list(read_world_logs(FIXTURE))
    for _ in sim.logs():
        pass
    res = pnl.cashflow_pnl(_tables(sim, logs))
    assert {w: {"realized": x.realized, "unrealized": x.unrealized, "total": x.total} for w, x in res.wallets.items()} \
        == {w: {k: t[k] for k in ("realized", "unrealized", "total")} for w, t in truth.items()}
    refs = load_wallets(FIXTURE / "wallets.yaml")
    assert 6 <= len(refs) <= 10 and len({r.name for r in refs}) == len(refs)
    for r in refs:
        assert r.tolerance_pct == 0 and r.level == "must"
        assert r.target_micros == truth[r.address][r.metric]
    assert {r.metric for r in refs} >= {"total", "unrealized"}


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_fully_resolved_world_sums_to_minus_collateral_fees(seed):
    sim, _logs = _run(seed=seed, wallets=30, markets=6, fills=200, open_share=0.0, neg_risk_share=0.5)
    truth = sim.truth()
    assert sim.meta()["markets"]["open"] == 0
    total = sum(t.total for t in truth.values())
    # shares paid as fees to the operator stay inside (the fee receiver is a wallet); collateral fees leave, less
    # the fee module's collateral refunds; the shares the fee modules keep leave at their payout; floors drop dust.
    # The fee modules' part is read from the decoded logs, not from the simulator.
    d = decode_logs(_logs)
    pay = {r["condition_id"]: r["payout_numerators"] for r in d.as_dicts("condition_resolutions")}
    tmap = {r["token_id"]: (r["condition_id"], r["outcome_index"]) for r in d.as_dicts("token_map")}
    kept: dict[int, int] = defaultdict(int)
    for r in d.as_dicts("erc1155_transfers"):
        kept[r["token_id"]] += (r["to_addr"] in FEE_MODULES) * r["value"] - (r["from_addr"] in FEE_MODULES) * r["value"]
    kept_value = sum((Fraction(v * pay[tmap[t][0]][tmap[t][1]], sum(pay[tmap[t][0]])) for t, v in kept.items()),
                     Fraction(0))
    refunds = sum(r["refund"] for r in d.as_dicts("fee_refunds") if r["token_id"] == 0)
    assert Fraction(total) + sim.value_dust + sim.redeem_dust + kept_value == -(sim.fees_usdc - refunds)
    assert sim.fees_usdc > 0 and sim.fee_receiver in truth


def test_balances_never_negative_and_contracts_end_each_tx_empty():
    _sim, logs = _run(seed=11, wallets=30, markets=6, fills=300, neg_risk_share=0.5)
    d = decode_logs(logs)
    bal: dict[tuple[str, int], int] = defaultdict(int)
    by_tx = defaultdict(list)
    for r in d.as_dicts("erc1155_transfers"):
        by_tx[r["tx_hash"]].append(r)
    for tx, rows in by_tx.items():
        for r in rows:
            if r["from_addr"] != ZERO:
                bal[(r["from_addr"], r["token_id"])] -= r["value"]
                assert bal[(r["from_addr"], r["token_id"])] >= 0, (tx, r)
            if r["to_addr"] != ZERO:
                bal[(r["to_addr"], r["token_id"])] += r["value"]
        for (a, _t), v in bal.items():
            if a in EXCHANGES:
                assert v == 0, f"exchange holds shares after tx {tx}"


def test_match_legs_have_the_exchange_shape():
    sim, logs = _run(seed=5, wallets=30, markets=8, fills=300, neg_risk_share=0.5, v2_share=0.4)
    d = decode_logs(logs)
    fills = defaultdict(list)
    for r in d.as_dicts("trades_raw"):
        fills[r["tx_hash"]].append(r)
    splits_by_exchange = {r["tx_hash"] for r in d.as_dicts("ctf_actions") if r["stakeholder"] in EXCHANGES}
    fees = defaultdict(int)
    for r in d.as_dicts("fee_charged"):
        fees[r["tx_hash"]] += r["amount"]
    matched = d.as_dicts("orders_matched")
    taker_legs = [r for r in d.as_dicts("trades_raw") if r["counterparty"] in EXCHANGES]
    assert len(taker_legs) == sim.fills_done and sum(sim.ops[k] for k in sim.ops if k.startswith("match")) == len(taker_legs)
    assert {r["tx_hash"] for r in taker_legs if r["exchange"] not in V2} == {m["tx_hash"] for m in matched}
    v2 = [r for r in d.as_dicts("trades_raw") if r["exchange"] in V2]
    assert v2 and all(r["fee_shares"] == 0 for r in v2) and any(r["fee_usdc"] for r in v2)
    for m in matched:
        legs = sorted(fills[m["tx_hash"]], key=lambda r: r["log_index"])
        taker_leg = legs[-1]
        assert taker_leg["counterparty"] == m["exchange"] and taker_leg["wallet"] == m["taker_order_maker"]
        assert taker_leg["log_index"] < m["log_index"] and taker_leg["order_hash"] == m["taker_order_hash"]
        assert (taker_leg["usdc"] if taker_leg["side"] == "BUY" else taker_leg["shares"]) == m["maker_amount"]
        for leg in legs[:-1]:
            assert leg["counterparty"] == m["taker_order_maker"] and leg["wallet"] != leg["counterparty"]
        assert fees[m["tx_hash"]] == sum(leg["fee_shares"] + leg["fee_usdc"] for leg in legs)
        if any(leg["side"] == taker_leg["side"] for leg in legs[:-1]):  # complementary: the exchange split/merged
            assert m["tx_hash"] in splits_by_exchange or any(
                r["tx_hash"] == m["tx_hash"] and r["stakeholder"] in EXCHANGES for r in d.as_dicts("ctf_actions"))
    assert sim.ops["match_mint"] > 0 and sim.ops["match_normal"] > 0


def test_adapter_internal_legs_are_adapter_stakeholders():
    _sim, logs = _run(seed=9, wallets=30, markets=6, fills=300, neg_risk_share=1.0)
    d = decode_logs(logs)
    acts = d.as_dicts("ctf_actions")
    ctf_by_adapter = [r for r in acts if r["source"] == "ctf" and r["stakeholder"] == ADAPTER]
    user_adapter = [r for r in acts if r["source"] == "neg_risk_adapter"]
    assert ctf_by_adapter and user_adapter and d.rows["neg_risk_conversions"]
    assert all(r["collateral"] == "0x3a3bd7bb9528e159577f7c2e685cc81a765002e2" for r in ctf_by_adapter)
    assert all(r["neg_risk"] == 1 for r in d.as_dicts("token_map"))


def test_book_refuses_negative_balances():
    b = Book()
    b.move(ZERO, "0xa", 1, 5)
    with pytest.raises(SimulationError, match="negative"):
        b.move("0xa", "0xb", 1, 6)


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="wallets"):
        WorldParams(wallets=1)


def test_cli_writes_a_loadable_world(tmp_path, capsys):
    from harness.__main__ import main

    assert main(["simulate", "--seed", "5", "--wallets", "12", "--markets", "3", "--fills", "40",
                 "--out", str(tmp_path)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert all((tmp_path / f).is_file() for f in WORLD_FILES)
    meta = json.loads((tmp_path / "world.json").read_text())
    assert meta["params"]["seed"] == 5 and meta["logs"] == sum(1 for _ in read_world_logs(tmp_path))
    assert load_wallets(tmp_path / "wallets.yaml")


@given(st.integers(-(10**15), 10**15))
def test_micros_to_usd_is_exact(v):
    from decimal import Decimal

    from harness.pnl.money import micros_to_decimal

    text = micros_to_decimal(v)
    assert Decimal(text) * 1_000_000 == v and len(text.split(".")[1]) == 6


def test_contract_routes_burn_address_fee_module_and_v2_adapters():
    """The legs the contracts emit: converted NOs end at the burn address (never a wallet, never picked as a
    holder), fee-module matches refund fees with FeeRefunded, V2 splits have the V2 collateral adapter as
    stakeholder, and no two orders share a hash (each gets its own salt; equality with the exchange's hashOrder is
    checked against the contracts in test_chain_world)."""
    sim, logs = _run(seed=5, wallets=30, markets=8, fills=300, neg_risk_share=0.5, v2_share=0.4)
    d = decode_logs(logs)
    burn = C["neg_risk_no_token_burn"].address
    to_burn = [r for r in d.as_dicts("erc1155_transfers") if r["to_addr"] == burn]
    assert to_burn and not any(r["from_addr"] == burn for r in d.as_dicts("erc1155_transfers"))
    truth = sim.truth()
    assert not (set(truth) & (FEE_MODULES | {burn, C["ctf_collateral_adapter"].address,
                                             C["neg_risk_collateral_adapter"].address}))
    refunds = d.as_dicts("fee_refunds")
    assert refunds and all(r["module"] in FEE_MODULES and 0 < r["refund"] for r in refunds)
    v2_adapters = {C["ctf_collateral_adapter"].address, C["neg_risk_collateral_adapter"].address}
    assert any(r["stakeholder"] in v2_adapters for r in d.as_dicts("ctf_actions"))
    assert len({r["order_hash"] for r in d.as_dicts("trades_raw")}) == len(d.as_dicts("trades_raw"))


def test_the_documented_command_regenerates_the_fixture_byte_for_byte(tmp_path):
    """The command fixtures/world/README.md (and README.md) give, run as written but for --out."""
    import re
    import shlex

    from harness.__main__ import main

    text = (FIXTURE / "README.md").read_text()
    cmd = shlex.split(re.search(r"^\s*\.venv/bin/python -m harness (simulate .*)$", text, re.MULTILINE).group(1))
    assert cmd[cmd.index("--out") + 1] == "fixtures/world"
    cmd[cmd.index("--out") + 1] = str(tmp_path)
    assert main(cmd) == 0
    assert world_hashes(tmp_path) == world_hashes(FIXTURE)


def test_the_fixture_world_spans_weeks_on_two_second_blocks():
    """The demo needs days and weeks of history: the trades span at least 30 days, the clock runs 2 s per block
    (empty blocks skipped, as on Polygon), and trading happens on most days, not in a burst."""
    logs = list(read_world_logs(FIXTURE))
    meta = json.loads((FIXTURE / "world.json").read_text())
    start_block, start_time = meta["params"]["start_block"], meta["params"]["start_time"]
    times = [int(lg["blockTimestamp"], 16) for lg in logs]
    blocks = [int(lg["blockNumber"], 16) for lg in logs]
    assert all(t == start_time + 2 * (b - start_block) for b, t in zip(blocks, times))
    assert max(times) - min(times) >= 30 * 86_400
    assert meta["time_range"] == [start_time, max(times)] and meta["block_range"][1] == max(blocks)
    fill = BY_KEY["exchange.OrderFilled"].topic0
    days = {(int(lg["blockTimestamp"], 16) - start_time) // 86_400 for lg in logs if lg["topics"][0] == fill}
    assert len(days) >= 30


def test_a_small_world_keeps_its_content_whatever_the_span():
    """The span moves blocks and times only: the same seed with span 0 (one block after another) decodes to
    the same trades and the same truth."""
    def rows(span):
        sim = Simulation(WorldParams(seed=3, wallets=20, markets=4, fills=60, span_days=span))
        logs = list(sim.logs())
        d = decode_logs(logs)
        keep = ("order_hash", "wallet", "counterparty", "side", "token_id", "shares", "usdc", "fee_shares", "fee_usdc")
        return [tuple(r.get(k) for k in keep) for r in d.as_dicts("trades_raw")], sim.truth(), logs

    a, truth_a, logs_a = rows(0)
    b, truth_b, logs_b = rows(35)
    assert a == b and truth_a == truth_b
    assert int(logs_a[-1]["blockTimestamp"], 16) - int(logs_a[0]["blockTimestamp"], 16) < 86_400
    assert int(logs_b[-1]["blockTimestamp"], 16) - int(logs_b[0]["blockTimestamp"], 16) >= 35 * 86_400


def test_the_markets_file_names_every_condition_with_its_own_token_ids():
    """markets.jsonl: one Gamma record per condition of the world, token ids equal to the position-id math (both
    readers accept it), unique slugs, and closed exactly for the resolved conditions."""
    from harness.chain.tokens import token_id
    from harness.ingest.markets import read_gamma_markets
    from harness.ingest.metadata import read_markets

    path = FIXTURE / "markets.jsonl"
    names = read_markets(path)
    tokens = {m.condition_id: m for m in read_gamma_markets(path)}
    prep = BY_KEY["ctf.ConditionPreparation"].topic0
    conditions = {lg["topics"][1] for lg in read_world_logs(FIXTURE) if lg["topics"][0] == prep}
    assert {m.condition_id for m in names} == conditions == set(tokens)
    for m in names:
        assert m.question.startswith("Will ") and m.question.endswith("?") and m.outcomes == ("Yes", "No")
        assert m.token_ids == tuple(token_id(m.condition_id, o, neg_risk=m.neg_risk) for o in (0, 1))
    assert len({m.slug for m in names}) == len(names)
    resolved = {lg["topics"][1] for lg in read_world_logs(FIXTURE)
                if lg["topics"][0] == BY_KEY["ctf.ConditionResolution"].topic0}
    closed = {json.loads(x)["conditionId"] for x in path.read_text().splitlines() if json.loads(x)["closed"]}
    assert closed == resolved
