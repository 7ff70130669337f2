"""Random mixes of every flow on the emulated contracts: no value is created or lost, nothing sticks in a contract.

Why: the hand-built flows check each route once; a seeded random mix checks the routes against each other
(partial merges, multi-maker matches, conversions of several NO positions, V1 and V2, fee modules) with a law that
holds whatever happened: after resolution, the wallets' cash-flow P&L plus the value held by the operator and the
fee modules sums to exactly zero, and the exchanges and adapters hold nothing at rest. The NO-token burn address is
left out: what it holds is backed by the wcol a conversion mints without collateral and can never be redeemed.
"""
from __future__ import annotations

import random

import pytest

from harness.chain.contracts.artefacts import available
from harness.chain.contracts.exchange import OPERATOR
from harness.chain.contracts.polymarket import Polymarket
from tests.support.flows import U, addr, b32

pytestmark = pytest.mark.anvil


@pytest.fixture
def node(anvil_bin):
    why = available()
    if why:
        pytest.skip(why)
    from harness.chain.node import Anvil

    n = Anvil.start(binary=anvil_bin)
    yield n
    n.stop()


class Mix:
    """Plays random valid operations, reading balances from the node before each one."""

    def __init__(self, pm: Polymarket, seed: int, wallets: int = 12):
        self.pm, self.r = pm, random.Random(seed)
        self.ws = [addr("mix", seed, i) for i in range(wallets)]
        with pm.block():
            for w in self.ws:
                pm.fund(w, usdc=1_000 * U, pusd=1_000 * U)
        pm.approve(self.ws)
        self.std = []  # (cid, (yes, no))
        for k in range(2):
            cid = pm.prepare_condition(addr("mix", seed, "oracle"), b32("mix", seed, k))
            self.std.append((cid, pm.register(cid)))
        self.neg = []  # (market, [(yes, no) per question])
        for n in (3, 4):
            m = pm.prepare_neg_risk_market(n)
            self.neg.append((m, [pm.register(c, neg_risk=True) for c in m.condition_ids]))
        self.ops: dict[str, int] = {}

    def bal(self, w: str, tok: int) -> int:
        return self.pm.balance_of_batch([w], [tok])[0]

    def holder(self, *toks: int) -> str | None:
        """A random wallet holding every one of ``toks``, or None."""
        bals = self.pm.positions(self.ws, list(toks))
        ok = [w for w in self.ws if all(bals.get((w, t)) for t in toks)]
        return self.r.choice(ok) if ok else None

    def pick_condition(self):
        if self.r.random() < 0.5:
            cid, toks = self.r.choice(self.std)
            return cid, toks, False, None
        m, pairs = self.r.choice(self.neg)
        i = self.r.randrange(len(pairs))
        return m.condition_ids[i], pairs[i], True, m

    def size(self) -> int:
        return self.r.randint(1, 40) * U // 10  # 0.1 .. 4 shares: multiples of 100 micro-units

    def step(self) -> None:
        op = self.r.choice(("split", "split", "merge", "transfer", "match", "match", "match", "convert"))
        getattr(self, op)()

    def _done(self, op: str) -> None:
        self.ops[op] = self.ops.get(op, 0) + 1

    def split(self) -> None:
        cid, _t, neg, _m = self.pick_condition()
        via = self.r.choice(("neg_risk_adapter", "neg_risk_adapter_v2") if neg else ("ctf", "ctf_adapter_v2"))
        self.pm.split(self.r.choice(self.ws), cid, self.size() * 4, via=via)
        self._done(f"split:{via}")

    def merge(self) -> None:
        cid, (y, n), neg, _m = self.pick_condition()
        w = self.holder(y, n)
        if w is None:
            return
        amount = min(self.bal(w, y), self.bal(w, n))
        via = self.r.choice(("neg_risk_adapter", "neg_risk_adapter_v2") if neg else ("ctf", "ctf_adapter_v2"))
        self.pm.merge(w, cid, self.r.choice((amount, amount // 2 or amount)), via=via)
        self._done(f"merge:{via}")

    def transfer(self) -> None:
        _cid, toks, _neg, _m = self.pick_condition()
        tok = self.r.choice(toks)
        w = self.holder(tok)
        v = self.r.choice([x for x in self.ws if x != w])
        if w is not None:
            have = self.bal(w, tok)
            self.pm.transfer(w, v, tok, max(1, have // 2))
            self._done("transfer")

    def match(self) -> None:
        _cid, (y, n), neg, _m = self.pick_condition()
        v2 = self.r.random() < 0.4
        ex = ("neg_risk_exchange" if neg else "ctf_exchange") + ("_v2" if v2 else "")
        fee_module = not v2 and self.r.random() < 0.4
        kind = self.r.choice(("normal", "mint", "merge"))
        p = self.r.randint(5, 95)  # YES price in cents
        taker, *makers = self.r.sample(self.ws, 1 + self.r.randint(1, 3))
        bps = lambda: self.r.choice((0, 100, 200))
        shares = [self.size() for _ in makers]
        total = sum(shares)
        pm = self.pm
        if kind == "mint":  # taker buys YES at p, makers buy NO at 100 - p
            t = pm.order(taker, y, "BUY", total * p // 100, total, bps())
            ms = [pm.order(mk, n, "BUY", s * (100 - p) // 100, s, bps()) for mk, s in zip(makers, shares)]
            fills = [o.maker_amount for o in ms]
        elif kind == "merge":  # taker sells YES at p, makers sell NO at 100 - p: each must hold enough
            if self.bal(taker, y) < total or any(self.bal(mk, n) < s for mk, s in zip(makers, shares)):
                return
            t = pm.order(taker, y, "SELL", total, total * p // 100, bps())
            ms = [pm.order(mk, n, "SELL", s, s * (100 - p) // 100, bps()) for mk, s in zip(makers, shares)]
            fills = shares
        else:  # taker buys YES at p from makers who hold it
            if any(self.bal(mk, y) < s for mk, s in zip(makers, shares)):
                return
            t = pm.order(taker, y, "BUY", total * p // 100, total, bps())
            ms = [pm.order(mk, y, "SELL", s, s * p // 100, bps()) for mk, s in zip(makers, shares)]
            fills = shares
        op_fees = [self.r.choice((0, 1_000)) for _ in range(1 + len(ms))] if fee_module else None
        pm.match(ex, t, ms, t.maker_amount, fills, fee_module=fee_module, operator_fees=op_fees)
        self._done(f"match:{ex}:{kind}{':fm' if fee_module else ''}")

    def convert(self) -> None:
        m, pairs = self.r.choice(self.neg)
        w = self.holder(self.r.choice(pairs)[1]) or self.ws[0]
        held = [i for i, (_y, n) in enumerate(pairs) if self.bal(w, n) > 0]
        if not held:
            return
        s = self.r.sample(held, self.r.randint(1, len(held)))
        amount = min(self.bal(w, pairs[i][1]) for i in s)
        via = self.r.choice(("neg_risk_adapter", "neg_risk_adapter_v2"))
        self.pm.convert(w, m.market_id, sum(1 << i for i in s), amount, via=via)
        self._done(f"convert:{via}:{len(s)}")

    def resolve(self) -> dict[int, int]:
        """Resolve everything (negRisk question by question, exactly one YES); token -> payout per share x U."""
        value = {}
        for cid, (y, n) in self.std:
            yes_wins = self.r.random() < 0.5
            self.pm.resolve(cid, [1, 0] if yes_wins else [0, 1])
            value[y], value[n] = (U, 0) if yes_wins else (0, U)
        for m, pairs in self.neg:
            winner = self.r.randrange(len(pairs))
            for i, (y, n) in enumerate(pairs):
                self.pm.resolve_question(m, i, i == winner)
                value[y], value[n] = (U, 0) if i == winner else (0, U)
        return value


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_mix_conserves_value_and_leaves_contracts_empty(node, seed):
    pm = Polymarket.install(node)
    mix = Mix(pm, seed)
    for _ in range(120):
        mix.step()
    value = mix.resolve()
    a = pm.addr
    sinks = [OPERATOR, a.fee_module, a.neg_risk_fee_module]
    holders = mix.ws + sinks
    tokens = sorted(value)
    held = pm.positions(holders, tokens)
    usdc, pusd = pm.balance_of("usdc", holders), pm.balance_of("pusd", holders)
    total = 0
    for h in holders:
        total += (usdc[h] + pusd[h] - pm.funded[h]["usdc"] - pm.funded[h]["pusd"]) * U
        total += sum(n * value[t] for (o, t), n in held.items() if o == h)
    assert total == 0, f"value created or lost: {total / U / U} USDC over ops {mix.ops}"
    # nothing stays with the exchanges or adapters between transactions
    at_rest = [a.ctf_exchange, a.neg_risk_exchange, a.ctf_exchange_v2, a.neg_risk_exchange_v2,
               a.neg_risk_adapter, a.ctf_adapter_v2, a.neg_risk_adapter_v2]
    assert not pm.positions(at_rest, tokens)
    for tok in ("usdc", "pusd", "wcol"):
        assert set(pm.balance_of(tok, at_rest).values()) == {0}, tok
    kinds = {k.split(":")[0] for k in mix.ops}
    assert {"split", "merge", "transfer", "match", "convert"} <= kinds, mix.ops
