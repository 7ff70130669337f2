"""ConditionalTokens flows: splits and merges (directly, through the NegRiskAdapter, or a V2 collateral adapter),
wallet-to-wallet transfers, resolutions and redemptions.

Each function plays one operation on a ``WorldState`` in the order the contracts emit it; ``op_*`` draw a random
operation of their kind and return False when the world has none to offer.
"""
from __future__ import annotations

import bisect
from fractions import Fraction

from harness.worlds.model import ZERO, ZERO32, Market
from harness.worlds.state import WorldState


def split(sim: WorldState, who: str, m: Market, ci: int, amount: int, merge: bool = False) -> None:
    """ConditionalTokens split/merge by ``who`` (mint from / burn to 0x0, then the CTF event)."""
    toks = list(m.tokens[ci])
    coll = sim.wcol if m.neg_risk else sim.usdc
    if merge:
        sim.batch(who, who, ZERO, toks, [amount, amount])
    else:
        sim.batch(who, ZERO, who, toks, [amount, amount])
    sim.emit("ctf.PositionsMerge" if merge else "ctf.PositionSplit",
             {"stakeholder": who, "collateralToken": coll, "parentCollectionId": ZERO32,
              "conditionId": m.conditions[ci], "partition": [1, 2], "amount": amount}, sim.addr["ctf"])


def adapter_split(sim: WorldState, who: str, m: Market, ci: int, amount: int, merge: bool = False) -> None:
    """NegRiskAdapter split/merge for ``who``: its internal CTF legs (stakeholder = adapter) + its event."""
    toks = list(m.tokens[ci])
    if merge:
        sim.batch(sim.adapter, who, sim.adapter, toks, [amount, amount])
        split(sim, sim.adapter, m, ci, amount, merge=True)
    else:
        split(sim, sim.adapter, m, ci, amount)
        sim.batch(sim.adapter, sim.adapter, who, toks, [amount, amount])
    sim.emit("adapter.PositionsMerge" if merge else "adapter.PositionSplit",
             {"stakeholder": who, "conditionId": m.conditions[ci], "amount": amount}, sim.adapter)


def split_any(sim: WorldState, who: str, m: Market, ci: int, amount: int, merge: bool = False) -> None:
    """A split/merge by ``who`` in market ``m``: CTF (standard) or NegRiskAdapter (negRisk); in a V2 market
    through the V2 collateral adapter, which is then the stakeholder and passes the shares on to ``who``."""
    v1 = adapter_split if m.neg_risk else split
    if not m.v2:
        v1(sim, who, m, ci, amount, merge)
        return
    a, toks = sim.v2_adapter[m.neg_risk], list(m.tokens[ci])
    if merge:
        sim.batch(a, who, a, toks, [amount, amount])
        v1(sim, a, m, ci, amount, True)
    else:
        v1(sim, a, m, ci, amount)
        sim.batch(a, a, who, toks, [amount, amount])


def op_split(sim: WorldState) -> bool:
    """A wallet splits collateral into both outcomes of a live condition."""
    r = sim.rng
    if not sim.live:
        return False
    m = r.choice(sim.live)
    ci = r.randrange(len(m.conditions))
    w = r.choice(sim.wallets)
    amount = sim.size()
    sim.new_tx()
    sim.play("split", w=w, m=m, ci=ci, amount=amount)
    split_any(sim, w, m, ci, amount)
    sim.cash[(w, m.conditions[ci])] -= amount
    sim.ops["split_adapter" if m.neg_risk else "split"] += 1
    return True


def op_merge(sim: WorldState) -> bool:
    """A holder of both outcomes merges some back into collateral."""
    r = sim.rng
    if not sim.live:
        return False
    m = r.choice(sim.live)
    ci = r.randrange(len(m.conditions))
    t0, t1 = m.tokens[ci]
    w = sim.book.random_holder(r, t0)
    if w is None:
        return False
    amount = min(sim.book.get(w, t0), sim.book.get(w, t1))
    if amount <= 0:
        return False
    amount = r.choice((amount, max(1, amount // 2)))
    sim.new_tx()
    sim.play("merge", w=w, m=m, ci=ci, amount=amount)
    split_any(sim, w, m, ci, amount, merge=True)
    sim.cash[(w, m.conditions[ci])] += amount
    sim.ops["merge_adapter" if m.neg_risk else "merge"] += 1
    return True


def op_transfer(sim: WorldState) -> bool:
    """A holder sends shares to another wallet (safeTransferFrom; no cash moves)."""
    r = sim.rng
    m = r.choice(sim.markets)
    ci = r.randrange(len(m.conditions))
    tok = m.tokens[ci][r.randrange(2)]
    w = sim.book.random_holder(r, tok)
    if w is None:
        return False
    to = r.choice(sim.wallets)
    if to == w:
        return False
    v = max(1, sim.book.get(w, tok) * r.choice((1, 2, 3, 4)) // 4)
    sim.new_tx()
    sim.play("transfer", frm=w, to=to, tok=tok, v=v)
    sim.single(w, w, to, tok, v)
    sim.ops["transfer"] += 1
    return True


def resolve(sim: WorldState, m: Market, questions: list[int] | None = None) -> None:
    """Resolve ``questions`` of the market (default: every one not resolved yet) in one tx. A market stops
    trading at its first resolution; it is fully resolved when every question is."""
    r = sim.rng
    sim.new_tx()
    todo = [i for i in range(len(m.conditions)) if (questions is None or i in questions)
            and m.conditions[i] not in m.payouts]
    for i in todo:
        c, q = m.conditions[i], m.question_ids[i]
        if m.neg_risk:
            nums = [1, 0] if i == m.winner else [0, 1]
        else:
            nums = [1, 1] if r.random() < 0.05 else ([1, 0] if m.winner == 0 else [0, 1])
        m.payouts[c] = nums
        sim.resolved_time[c] = sim.time
        sim.emit("ctf.ConditionResolution", {"conditionId": c, "oracle": sim.adapter if m.neg_risk
                                             else sim.oracle, "questionId": q, "outcomeSlotCount": 2,
                                             "payoutNumerators": nums}, sim.addr["ctf"])
    sim.play("resolve", m=m, questions=todo)  # the payouts are decided above
    m.resolved = len(m.payouts) == len(m.conditions)
    if m in sim.live:  # first resolution: no more trading, redemptions from now on
        sim.live.remove(m)
        if m.neg_risk:
            sim.live_neg.remove(m)
        bisect.insort(sim.resolved, m, key=lambda x: x.key)  # market order, like a filter over markets
    sim.ops["resolve"] += 1


def op_redeem(sim: WorldState) -> bool:
    """A holder of a resolved condition redeems its whole balance of both outcomes."""
    r = sim.rng
    if not sim.resolved:
        return False
    m = r.choice(sim.resolved)
    ci = r.choice([i for i, c in enumerate(m.conditions) if c in m.payouts])  # resolved questions only
    cid = m.conditions[ci]
    toks = m.tokens[ci]
    w = sim.book.random_holder(r, toks[r.randrange(2)], frozenset({sim.fee_receiver}))
    if w is None:
        return False
    nums = m.payouts[cid]
    den = sum(nums)
    bals = [sim.book.get(w, t) for t in toks]
    sim.new_tx()
    sim.play("redeem", w=w, m=m, ci=ci, amounts=bals)
    who = w
    if m.v2:  # the V2 adapter takes both balances and redeems them as its own
        who = sim.v2_adapter[m.neg_risk]
        sim.batch(who, w, who, list(toks), bals)
    if m.neg_risk:
        sim.batch(sim.adapter, who, sim.adapter, list(toks), bals)
        payout = redeem(sim, sim.adapter, m, ci)
        sim.emit("adapter.PayoutRedemption", {"redeemer": who, "conditionId": cid, "amounts": bals,
                                              "payout": payout}, sim.adapter)
    else:
        payout = redeem(sim, who, m, ci)
    sim.redeem_dust += Fraction(sum(b * n for b, n in zip(bals, nums)), den) - payout
    sim.cash[(w, cid)] += payout
    sim.ops["redeem_adapter" if m.neg_risk else "redeem"] += 1
    return True


def redeem(sim: WorldState, who: str, m: Market, ci: int) -> int:
    """ConditionalTokens redeemPositions by ``who``: burns its whole balance of each outcome, pays per outcome
    floor(balance x numerator / denominator); the payout."""
    cid, toks = m.conditions[ci], m.tokens[ci]
    nums = m.payouts[cid]
    den = sum(nums)
    payout = 0
    for t, n in zip(toks, nums):
        b = sim.book.get(who, t)
        if b:
            sim.single(who, who, ZERO, t, b)
            payout += b * n // den
    sim.emit("ctf.PayoutRedemption", {"redeemer": who, "collateralToken": sim.wcol if m.neg_risk else sim.usdc,
                                      "parentCollectionId": ZERO32, "conditionId": cid, "indexSets": [1, 2],
                                      "payout": payout}, sim.addr["ctf"])
    return payout
