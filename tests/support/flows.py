"""Hand-built contract scenarios, one per Polymarket flow, with each wallet's P&L written by hand.

Why: the expected numbers come from reading the story, not from any code of the harness, so a test that compares
them with balances read from the contracts checks the contracts (and later the warehouse) against arithmetic a
reader can redo. Each function plays its flow on an installed ``Polymarket`` with fresh wallets and conditions and
returns a ``Flow``; the lead's tests can push the same node logs through the warehouse.
Amounts are micro-units: ``U = 1_000_000`` is one USDC or one share.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from eth_hash.auto import keccak

from harness.chain.contracts.polymarket import Polymarket

U = 1_000_000


def addr(*parts) -> str:
    return "0x" + keccak(repr(parts).encode()).hex()[:40]


def b32(*parts) -> str:
    return "0x" + keccak(repr(parts).encode()).hex()


@dataclass
class Flow:
    """What a scenario did: wallets by role, the tokens they may hold, and the hand-written expectations."""

    name: str
    wallets: dict[str, str]  # role -> address
    tokens: dict[str, int]  # label -> position id
    token_value: dict[int, int]  # position id -> micro-USDC per share-unit x U (payout or mark, 0..U)
    expected_pnl: dict[str, int]  # role -> cash-flow P&L in micro-USDC, by hand
    expected_cash: dict[str, int] = field(default_factory=dict)  # role -> collateral balance at the end, by hand
    expected_shares: dict[tuple[str, str], int] = field(default_factory=dict)  # (role, token label) -> balance
    conditions: list[str] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)  # non-wallet roles checked by expected_shares
    first_block: int = 0
    last_block: int = 0


def state_pnl(pm: Polymarket, flow: Flow) -> dict[str, int]:
    """Cash-flow P&L per role from contract state only: collateral now - funded + sum shares x value."""
    roles = list(flow.wallets)
    ws = [flow.wallets[r] for r in roles]
    coll = pm.collateral(ws)
    ids = list(flow.token_value)
    held = pm.positions(ws, ids)
    out = {}
    for r, w in zip(roles, ws):
        cash = coll[w] - pm.funded[w]["usdc"] - pm.funded[w]["pusd"]
        value = sum(n * flow.token_value[t] for (o, t), n in held.items() if o == w)
        out[r] = cash + value // U
    return out


def ctf_split_merge_redeem(pm: Polymarket, tag: str = "ctf") -> Flow:
    """A splits 10, merges 4, gives 6 NO to B; NO wins; A redeems (YES worth 0), B keeps its NO unredeemed.

    A: 100 -> 90 (split) -> 94 (merge) -> 94 (redeems 6 YES for 0): P&L -6.
    B: 50 funded, receives 6 NO worth 1 each, never redeems: P&L +6.
    """
    a, b, oracle = addr(tag, "A"), addr(tag, "B"), addr(tag, "oracle")
    q = b32(tag, "question")
    first = pm.node.block_number() + 1
    pm.fund(a, usdc=100 * U)
    pm.fund(b, usdc=50 * U)
    pm.approve([a, b])
    cid = pm.prepare_condition(oracle, q)
    yes, no = pm.token_ids(cid)
    pm.split(a, cid, 10 * U)
    pm.merge(a, cid, 4 * U)
    pm.transfer(a, b, no, 6 * U)
    pm.resolve(oracle, q, [0, 1])
    pm.redeem(a, cid)
    return Flow("ctf_split_merge_redeem", {"A": a, "B": b}, {"YES": yes, "NO": no}, {yes: 0, no: U},
                expected_pnl={"A": -6 * U, "B": 6 * U}, expected_cash={"A": 94 * U, "B": 50 * U},
                expected_shares={("A", "YES"): 0, ("A", "NO"): 0, ("B", "NO"): 6 * U, ("B", "YES"): 0},
                conditions=[cid], first_block=first, last_block=pm.node.block_number())




def _binary(pm: Polymarket, tag: str) -> tuple[str, int, int]:
    """A registered standard condition: (condition id, YES id, NO id)."""
    cid = pm.prepare_condition(addr(tag, "oracle"), b32(tag, "question"))
    yes, no = pm.register(cid)
    return cid, yes, no


def _wallets(pm: Polymarket, tag: str, roles: str, *, usdc: int = 0, pusd: int = 0) -> dict[str, str]:
    ws = {r: addr(tag, r) for r in roles}
    with pm.block():
        for w in ws.values():
            pm.fund(w, usdc=usdc, pusd=pusd)
        pm.approve(ws.values())
    return ws


def v1_normal_with_fees(pm: Polymarket, tag: str = "v1n") -> Flow:
    """B splits 10 and sells its 10 YES at 0.50 to A (taker) on CTF Exchange V1; both orders carry 100 bps.

    A pays 5 USDC, fee 100 x min(.5,.5) x 10 / .5 / 1e4 = 0.1 YES, receives 9.9 YES; YES wins, A redeems 9.9:
    95 + 9.9 = 104.9, P&L +4.9. B: 100 - 10 (split) + 5 - fee 0.05 USDC = 94.95, its 10 NO worth 0: P&L -5.05.
    """
    first = pm.node.block_number() + 1
    w = _wallets(pm, tag, "AB", usdc=100 * U)
    cid, yes, no = _binary(pm, tag)
    pm.split(w["B"], cid, 10 * U)
    taker = pm.order(w["A"], yes, "BUY", 5 * U, 10 * U, 100)
    maker = pm.order(w["B"], yes, "SELL", 10 * U, 5 * U, 100)
    pm.match("ctf_exchange", taker, [maker], 5 * U, [10 * U])
    pm.resolve(cid, [1, 0])
    pm.redeem(w["A"], cid)
    return Flow("v1_normal_with_fees", w, {"YES": yes, "NO": no}, {yes: U, no: 0},
                expected_pnl={"A": 4_900_000, "B": -5_050_000},
                expected_cash={"A": 104_900_000, "B": 94_950_000},
                expected_shares={("A", "YES"): 0, ("B", "YES"): 0, ("B", "NO"): 10 * U},
                conditions=[cid], first_block=first, last_block=pm.node.block_number())


def v1_mint(pm: Polymarket, tag: str = "v1m") -> Flow:
    """MINT: A (taker) buys 10 YES at 0.60, B (maker) buys 10 NO at 0.40; the exchange splits 10. NO wins, B redeems.

    A: 100 - 6 = 94, YES worth 0: P&L -6. B: 100 - 4 + 10 (redeemed) = 106: P&L +6.
    """
    first = pm.node.block_number() + 1
    w = _wallets(pm, tag, "AB", usdc=100 * U)
    cid, yes, no = _binary(pm, tag)
    taker = pm.order(w["A"], yes, "BUY", 6 * U, 10 * U)
    maker = pm.order(w["B"], no, "BUY", 4 * U, 10 * U)
    pm.match("ctf_exchange", taker, [maker], 6 * U, [4 * U])
    pm.resolve(cid, [0, 1])
    pm.redeem(w["B"], cid)
    return Flow("v1_mint", w, {"YES": yes, "NO": no}, {yes: 0, no: U},
                expected_pnl={"A": -6 * U, "B": 6 * U}, expected_cash={"A": 94 * U, "B": 106 * U},
                expected_shares={("A", "YES"): 10 * U, ("B", "NO"): 0},
                conditions=[cid], first_block=first, last_block=pm.node.block_number())


def v1_merge_with_taker_fee(pm: Polymarket, tag: str = "v1g") -> Flow:
    """MERGE: both split 10; A (taker, 200 bps) sells 10 YES at 0.70, B (maker) sells 10 NO at 0.30. YES wins.

    A: 90 + 7 - fee 200 x 0.3 x 10 / 1e4 = 0.06 -> 96.94, keeps 10 NO worth 0: P&L -3.06.
    B: 90 + 3 = 93, keeps 10 YES worth 1 (unredeemed): P&L +3.
    """
    first = pm.node.block_number() + 1
    w = _wallets(pm, tag, "AB", usdc=100 * U)
    cid, yes, no = _binary(pm, tag)
    pm.split(w["A"], cid, 10 * U)
    pm.split(w["B"], cid, 10 * U)
    taker = pm.order(w["A"], yes, "SELL", 10 * U, 7 * U, 200)
    maker = pm.order(w["B"], no, "SELL", 10 * U, 3 * U)
    pm.match("ctf_exchange", taker, [maker], 10 * U, [10 * U])
    pm.resolve(cid, [1, 0])
    return Flow("v1_merge_with_taker_fee", w, {"YES": yes, "NO": no}, {yes: U, no: 0},
                expected_pnl={"A": -3_060_000, "B": 3 * U}, expected_cash={"A": 96_940_000, "B": 93 * U},
                expected_shares={("A", "NO"): 10 * U, ("A", "YES"): 0, ("B", "YES"): 10 * U, ("B", "NO"): 0},
                conditions=[cid], first_block=first, last_block=pm.node.block_number())


def fee_module_refund(pm: Polymarket, tag: str = "fm") -> Flow:
    """V1 match through the FeeModule: A buys 10 YES at 0.50 from B, both at 200 bps; the operator's own fee is
    0.1 YES for A and 0 for B, so the module refunds A 0.2 - 0.1 = 0.1 YES and B its whole 0.1 USDC.

    A: 95 USDC + 9.9 YES, YES wins (unredeemed): P&L +4.9. B: 90 + 5 = 95, 10 NO worth 0: P&L -5.
    """
    first = pm.node.block_number() + 1
    w = _wallets(pm, tag, "AB", usdc=100 * U)
    cid, yes, no = _binary(pm, tag)
    pm.split(w["B"], cid, 10 * U)
    taker = pm.order(w["A"], yes, "BUY", 5 * U, 10 * U, 200)
    maker = pm.order(w["B"], yes, "SELL", 10 * U, 5 * U, 200)
    pm.match("ctf_exchange", taker, [maker], 5 * U, [10 * U], fee_module=True, operator_fees=[100_000, 0])
    pm.resolve(cid, [1, 0])
    return Flow("fee_module_refund", w, {"YES": yes, "NO": no}, {yes: U, no: 0},
                expected_pnl={"A": 4_900_000, "B": -5 * U}, expected_cash={"A": 95 * U, "B": 95 * U},
                expected_shares={("A", "YES"): 9_900_000, ("B", "NO"): 10 * U, ("B", "YES"): 0},
                conditions=[cid], first_block=first, last_block=pm.node.block_number())


def _neg_market(pm: Polymarket, n: int, *, register: bool = False):
    m = pm.prepare_neg_risk_market(n)
    ids = [pm.token_ids(c, neg_risk=True) for c in m.condition_ids]
    if register:
        for c in m.condition_ids:
            pm.register(c, neg_risk=True)
    return m, ids


def neg_risk_exchange(pm: Polymarket, tag: str = "nrx") -> Flow:
    """negRisk V1 exchange, 3 questions. B splits 10 on q0 via the adapter and sells its 10 YES0 at 0.25 to A;
    MINT: C (taker) buys 10 NO0 at 0.75, D (maker) buys 10 YES0 at 0.25. Questions resolve one by one (q0 NO,
    q1 YES, q2 NO); B redeems its NO0 through the adapter.

    A: 100 - 2.5, YES0 worth 0: -2.5. B: 100 - 10 + 2.5 + 10 (redeemed) = 102.5: +2.5.
    C: 100 - 7.5, 10 NO0 worth 1: +2.5. D: 100 - 2.5, YES0 worth 0: -2.5.
    """
    first = pm.node.block_number() + 1
    w = _wallets(pm, tag, "ABCD", usdc=100 * U)
    m, ids = _neg_market(pm, 3, register=True)
    y0, n0 = ids[0]
    pm.split(w["B"], m.condition_ids[0], 10 * U, via="neg_risk_adapter")
    pm.match("neg_risk_exchange", pm.order(w["A"], y0, "BUY", 2_500_000, 10 * U),
             [pm.order(w["B"], y0, "SELL", 10 * U, 2_500_000)], 2_500_000, [10 * U])
    pm.match("neg_risk_exchange", pm.order(w["C"], n0, "BUY", 7_500_000, 10 * U),
             [pm.order(w["D"], y0, "BUY", 2_500_000, 10 * U)], 7_500_000, [2_500_000])
    for i, outcome in enumerate((False, True, False)):
        pm.resolve_question(m, i, outcome)
    pm.redeem(w["B"], m.condition_ids[0], via="neg_risk_adapter")
    value = {y0: 0, n0: U}
    return Flow("neg_risk_exchange", w, {"YES0": y0, "NO0": n0}, value,
                expected_pnl={"A": -2_500_000, "B": 2_500_000, "C": 2_500_000, "D": -2_500_000},
                expected_cash={"A": 97_500_000, "B": 102_500_000, "C": 92_500_000, "D": 97_500_000},
                expected_shares={("A", "YES0"): 10 * U, ("B", "NO0"): 0, ("C", "NO0"): 10 * U,
                                 ("D", "YES0"): 10 * U},
                conditions=list(m.condition_ids), first_block=first, last_block=pm.node.block_number())


def neg_risk_adapter(pm: Polymarket, tag: str = "nra") -> Flow:
    """NegRiskAdapter, 3 questions: W splits 10 on each (70 left), merges 2 on q2 (72), converts NO0+NO1 x 5
    (index set 0b011): gives 5 NO0 and 5 NO1, gets 5 YES2 and (2 - 1) x 5 = 5 USDC (77). q0 NO, q1 YES, q2 NO
    resolve one by one; W redeems q1 (the adapter takes its whole q1 position: 10 YES1 -> 10 USDC, 5 NO1 -> 0: 87).

    W holds YES0 10 (0), NO0 5 (1), YES2 13 (0), NO2 8 (1): value 13; 87 + 13 - 100 = 0.
    The burn address holds the 5 NO0 and 5 NO1 handed in and the adapter's spare 5 NO2.
    """
    first = pm.node.block_number() + 1
    w = _wallets(pm, tag, "W", usdc=100 * U)
    m, ids = _neg_market(pm, 3)
    for c in m.condition_ids:
        pm.split(w["W"], c, 10 * U, via="neg_risk_adapter")
    pm.merge(w["W"], m.condition_ids[2], 2 * U, via="neg_risk_adapter")
    pm.convert(w["W"], m.market_id, 0b011, 5 * U)
    for i, outcome in enumerate((False, True, False)):
        pm.resolve_question(m, i, outcome)
    pm.redeem(w["W"], m.condition_ids[1], via="neg_risk_adapter")
    tokens = {f"{s}{i}": t for i, pair in enumerate(ids) for s, t in zip(("YES", "NO"), pair)}
    value = {ids[0][0]: 0, ids[0][1]: U, ids[1][0]: U, ids[1][1]: 0, ids[2][0]: 0, ids[2][1]: U}
    return Flow("neg_risk_adapter", w, tokens, value, expected_pnl={"W": 0},
                expected_cash={"W": 87 * U},
                expected_shares={("W", "YES0"): 10 * U, ("W", "NO0"): 5 * U, ("W", "YES1"): 0, ("W", "NO1"): 0,
                                 ("W", "YES2"): 13 * U, ("W", "NO2"): 8 * U, ("BURN", "NO0"): 5 * U,
                                 ("BURN", "NO1"): 5 * U, ("BURN", "NO2"): 5 * U, ("BURN", "YES2"): 0},
                conditions=list(m.condition_ids), extra={"BURN": pm.addr.no_token_burn}, first_block=first,
                last_block=pm.node.block_number())


def v2_exchange(pm: Polymarket, tag: str = "v2x") -> Flow:
    """CTF Exchange V2 in pUSD. B splits 10 through the V2 adapter and sells 10 YES at 0.40 to A (taker, 100 bps:
    collateral fee 100 x min(4, 6) / 1e4 = 0.04 pUSD); MINT: C (taker) buys 10 YES at 0.30, D buys 10 NO at 0.70.
    YES wins; A redeems through the V2 adapter.

    A: 100 - 4 - 0.04 + 10 = 105.96: +5.96. B: 100 - 10 + 4 = 94, NO worth 0: -6. C: 97 + 10 YES: +7. D: 93: -7.
    """
    first = pm.node.block_number() + 1
    w = _wallets(pm, tag, "ABCD", pusd=100 * U)
    cid, yes, no = _binary(pm, tag)
    pm.split(w["B"], cid, 10 * U, via="ctf_adapter_v2")
    pm.match("ctf_exchange_v2", pm.order(w["A"], yes, "BUY", 4 * U, 10 * U, 100),
             [pm.order(w["B"], yes, "SELL", 10 * U, 4 * U)], 4 * U, [10 * U])
    pm.match("ctf_exchange_v2", pm.order(w["C"], yes, "BUY", 3 * U, 10 * U),
             [pm.order(w["D"], no, "BUY", 7 * U, 10 * U)], 3 * U, [7 * U])
    pm.resolve(cid, [1, 0])
    pm.redeem(w["A"], cid, via="ctf_adapter_v2")
    return Flow("v2_exchange", w, {"YES": yes, "NO": no}, {yes: U, no: 0},
                expected_pnl={"A": 5_960_000, "B": -6 * U, "C": 7 * U, "D": -7 * U},
                expected_cash={"A": 105_960_000, "B": 94 * U, "C": 97 * U, "D": 93 * U},
                expected_shares={("A", "YES"): 0, ("B", "NO"): 10 * U, ("C", "YES"): 10 * U, ("D", "NO"): 10 * U},
                conditions=[cid], first_block=first, last_block=pm.node.block_number())


def v2_adapter(pm: Polymarket, tag: str = "v2a") -> Flow:
    """V2 CTF collateral adapter: W splits 20 pUSD (30 left), merges 5 (35), gives its 15 NO to V; NO wins;
    W redeems its 15 YES for 0, V redeems 15 NO for 15 pUSD.

    W: 35 - 50: -15. V (funded 0): +15.
    """
    first = pm.node.block_number() + 1
    w = _wallets(pm, tag, "WV")
    pm.fund(w["W"], pusd=50 * U)
    cid, yes, no = _binary(pm, tag)
    pm.split(w["W"], cid, 20 * U, via="ctf_adapter_v2")
    pm.merge(w["W"], cid, 5 * U, via="ctf_adapter_v2")
    pm.transfer(w["W"], w["V"], no, 15 * U)
    pm.resolve(cid, [0, 1])
    pm.redeem(w["W"], cid, via="ctf_adapter_v2")
    pm.redeem(w["V"], cid, via="ctf_adapter_v2")
    return Flow("v2_adapter", w, {"YES": yes, "NO": no}, {yes: 0, no: U},
                expected_pnl={"W": -15 * U, "V": 15 * U}, expected_cash={"W": 35 * U, "V": 15 * U},
                expected_shares={("W", "YES"): 0, ("W", "NO"): 0, ("V", "NO"): 0},
                conditions=[cid], first_block=first, last_block=pm.node.block_number())


def v2_neg_risk_adapter(pm: Polymarket, tag: str = "v2n") -> Flow:
    """V2 negRisk collateral adapter, 3 questions, in pUSD: W splits 10 on q0 and q1 (80), converts NO0+NO1 x 4
    (84; gets 4 YES2), merges 6 on q0 (90). q0 NO, q1 NO, q2 YES; W redeems its whole q1 position (6 NO1 -> 6,
    10 YES1 -> 0: 96) and q2 (4 YES2 -> 4: 100).

    W: 100 - 100 + YES0 4 x 0 = 0.
    """
    first = pm.node.block_number() + 1
    w = _wallets(pm, tag, "W", pusd=100 * U)
    m, ids = _neg_market(pm, 3)
    pm.split(w["W"], m.condition_ids[0], 10 * U, via="neg_risk_adapter_v2")
    pm.split(w["W"], m.condition_ids[1], 10 * U, via="neg_risk_adapter_v2")
    pm.convert(w["W"], m.market_id, 0b011, 4 * U, via="neg_risk_adapter_v2")
    pm.merge(w["W"], m.condition_ids[0], 6 * U, via="neg_risk_adapter_v2")
    for i, outcome in enumerate((False, False, True)):
        pm.resolve_question(m, i, outcome)
    pm.redeem(w["W"], m.condition_ids[1], via="neg_risk_adapter_v2")
    pm.redeem(w["W"], m.condition_ids[2], via="neg_risk_adapter_v2")
    tokens = {f"{s}{i}": t for i, pair in enumerate(ids) for s, t in zip(("YES", "NO"), pair)}
    value = {ids[0][0]: 0, ids[0][1]: U, ids[1][0]: 0, ids[1][1]: U, ids[2][0]: U, ids[2][1]: 0}
    return Flow("v2_neg_risk_adapter", w, tokens, value, expected_pnl={"W": 0}, expected_cash={"W": 100 * U},
                expected_shares={("W", "YES0"): 4 * U, ("W", "NO0"): 0, ("W", "YES1"): 0, ("W", "NO1"): 0,
                                 ("W", "YES2"): 0},
                conditions=list(m.condition_ids), first_block=first, last_block=pm.node.block_number())


def neg_risk_fee_module(pm: Polymarket, tag: str = "nfm") -> Flow:
    """negRisk V1 through the NegRiskFeeModule, 2 questions: B splits 10 on q0 through the adapter and sells its 10
    YES0 at 0.50 to A; both orders at 200 bps. Operator fees: A 0, B 0.05 USDC, so A gets back its whole 0.2 YES0
    fee and B 0.1 - 0.05 = 0.05 USDC. q0 YES, q1 NO.

    A: 95 USDC + 10 YES0 worth 1: +5. B: 90 + 5 - 0.1 + 0.05 = 94.95, 10 NO0 worth 0: -5.05.
    """
    first = pm.node.block_number() + 1
    w = _wallets(pm, tag, "AB", usdc=100 * U)
    m, ids = _neg_market(pm, 2, register=True)
    y0, n0 = ids[0]
    pm.split(w["B"], m.condition_ids[0], 10 * U, via="neg_risk_adapter")
    pm.match("neg_risk_exchange", pm.order(w["A"], y0, "BUY", 5 * U, 10 * U, 200),
             [pm.order(w["B"], y0, "SELL", 10 * U, 5 * U, 200)], 5 * U, [10 * U], fee_module=True,
             operator_fees=[0, 50_000])
    pm.resolve_question(m, 0, True)
    pm.resolve_question(m, 1, False)
    return Flow("neg_risk_fee_module", w, {"YES0": y0, "NO0": n0}, {y0: U, n0: 0},
                expected_pnl={"A": 5 * U, "B": -5_050_000}, expected_cash={"A": 95 * U, "B": 94_950_000},
                expected_shares={("A", "YES0"): 10 * U, ("B", "NO0"): 10 * U, ("B", "YES0"): 0},
                conditions=list(m.condition_ids), first_block=first, last_block=pm.node.block_number())


def neg_risk_exchange_v2(pm: Polymarket, tag: str = "nx2") -> Flow:
    """NegRisk Exchange V2 in pUSD, 2 questions. MINT through the V2 negRisk adapter: A (taker, 200 bps) buys 10
    YES0 at 0.40 (fee 200 x min(4, 6) / 1e4 = 0.08 pUSD), B (maker) buys 10 NO0 at 0.60. q0 YES, q1 NO; A redeems
    through the V2 negRisk adapter.

    A: 100 - 4 - 0.08 + 10 = 105.92: +5.92. B: 100 - 6 = 94, NO0 worth 0: -6.
    """
    first = pm.node.block_number() + 1
    w = _wallets(pm, tag, "AB", pusd=100 * U)
    m, ids = _neg_market(pm, 2, register=True)
    y0, n0 = ids[0]
    pm.match("neg_risk_exchange_v2", pm.order(w["A"], y0, "BUY", 4 * U, 10 * U, 200),
             [pm.order(w["B"], n0, "BUY", 6 * U, 10 * U)], 4 * U, [6 * U])
    pm.resolve(m.condition_ids[0], [1, 0])  # a negRisk question through the condition-id form
    pm.resolve(m.condition_ids[1], [0, 1])
    pm.redeem(w["A"], m.condition_ids[0], via="neg_risk_adapter_v2")
    return Flow("neg_risk_exchange_v2", w, {"YES0": y0, "NO0": n0}, {y0: U, n0: 0},
                expected_pnl={"A": 5_920_000, "B": -6 * U}, expected_cash={"A": 105_920_000, "B": 94 * U},
                expected_shares={("A", "YES0"): 0, ("B", "NO0"): 10 * U},
                conditions=list(m.condition_ids), first_block=first, last_block=pm.node.block_number())


FLOWS = (ctf_split_merge_redeem, v1_normal_with_fees, v1_mint, v1_merge_with_taker_fee, fee_module_refund,
         neg_risk_exchange, neg_risk_adapter, v2_exchange, v2_adapter, v2_neg_risk_adapter, neg_risk_fee_module,
         neg_risk_exchange_v2)
