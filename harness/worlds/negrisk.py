"""negRisk markets: the NegRiskAdapter's market and question ids, and convertPositions (NO shares of some
questions into YES shares of the others plus collateral).

The adapter's own split, merge and redemption legs are CTF flows (harness.worlds.ctf); a conversion's cash goes to
the questions it came from, as the oracle's ``conversion_cash`` shares it out.
"""
from __future__ import annotations

from eth_abi import encode as abi_encode
from eth_hash.auto import keccak

from harness.pnl.oracle import conversion_cash
from harness.worlds import ctf
from harness.worlds.state import WorldState


def neg_risk_market_id(oracle: str, fee_bips: int, metadata: bytes) -> str:
    """The NegRiskAdapter's market id: keccak256(abi.encode(oracle, feeBips, metadata)) with the last byte zeroed
    (its questions are market id + index)."""
    mid = int.from_bytes(keccak(abi_encode(["address", "uint256", "bytes"], [oracle, fee_bips, metadata])), "big")
    return "0x" + format(mid & ~0xFF, "064x")


def market_metadata(k: int) -> bytes:
    """The metadata the world's k-th negRisk market is prepared with (its id depends on it)."""
    return f"market {k}".encode()


def question_data(i: int) -> bytes:
    """The data of a negRisk market's i-th question (QuestionPrepared)."""
    return f"question {i}".encode()


def op_convert(sim: WorldState) -> bool:
    """A holder of NO shares in a live negRisk market converts some of them (through the V2 adapter in V2)."""
    r = sim.rng
    live = sim.live_neg
    if not live:
        return False
    m = r.choice(live)
    q = len(m.conditions)
    w = sim.book.random_holder(r, m.tokens[r.randrange(q)][1])
    if w is None:
        return False
    held = [i for i in range(q) if sim.book.get(w, m.tokens[i][1]) > 0]
    s = sorted(r.sample(held, r.randint(1, len(held))))
    amount = min(sim.book.get(w, m.tokens[i][1]) for i in s)
    amount = r.choice((amount, max(1, amount // 2)))
    rest = [j for j in range(q) if j not in s]
    sim.new_tx()
    sim.play("convert", w=w, m=m, index_set=sum(1 << i for i in s), amount=amount)
    iset = sum(1 << i for i in s)
    nos, yes = [m.tokens[i][1] for i in s], [m.tokens[j][0] for j in rest]
    who = w
    if m.v2:  # the V2 adapter takes the NOs, converts as the stakeholder, and hands the YES and pUSD on
        who = sim.v2_adapter[True]
        sim.batch(who, w, who, nos, [amount] * len(s))
    for j in rest:  # the adapter mints the YES it hands out; the spare NOs go to the burn address
        ctf.split(sim, sim.adapter, m, j, amount)
    sim.batch(sim.adapter, who, sim.burn, nos, [amount] * len(s))
    sim.batch(sim.adapter, sim.adapter, sim.burn, [m.tokens[j][1] for j in rest], [amount] * len(rest))
    if rest:
        sim.batch(sim.adapter, sim.adapter, who, yes, [amount] * len(rest))
    sim.emit("adapter.PositionsConverted", {"stakeholder": who, "marketId": m.market_id, "indexSet": iset,
                                            "amount": amount}, sim.adapter)
    if m.v2 and rest:
        sim.batch(who, who, w, yes, [amount] * len(rest))
    for qi, share in conversion_cash(iset, amount):  # the collateral goes to the questions it came from
        sim.cash[(w, m.conditions[qi])] += share
    sim.converters.add(w)
    sim.ops["convert"] += 1
    return True
