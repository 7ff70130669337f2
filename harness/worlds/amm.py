"""The legacy AMM: FixedProductMarketMaker markets created by the factory, funded, traded and defunded.

The pool arithmetic is harness.pnl.fpmm's; here are the logs and the share movements the contract makes around it
(its CTF splits and merges, its transfers), and the cash each call moves: a buy pays investmentAmount, a sell
receives returnAmount, adding funding pays the deposit, removing it receives the funder's fees.
"""
from __future__ import annotations

from harness.pnl.fpmm import PoolError
from harness.worlds import ctf
from harness.worlds.model import SCALE, Market, seeded_address
from harness.worlds.state import WorldState


def create(sim: WorldState, m: Market) -> None:
    """The factory creates the market's FPMM (fee 2%), and a wallet funds it at the market's price."""
    r = sim.rng
    sim.new_tx()
    creator = seeded_address("fpmm-creator", sim.p.seed)
    sim.play("fpmm_create", m=m, creator=creator, fee=sim.pools[m.fpmm].fee)
    sim.emit("fpmm_factory.FixedProductMarketMakerCreation",
             {"creator": creator, "fixedProductMarketMaker": m.fpmm,
              "conditionalTokens": sim.addr["ctf"], "collateralToken": sim.usdc,
              "conditionIds": [m.conditions[0]], "fee": sim.pools[m.fpmm].fee}, sim.addr["fpmm_factory"])
    fund(sim, m, r.choice(sim.wallets), r.randint(50, 500) * SCALE, [100 - m.price[0], m.price[0]])


def fund(sim: WorldState, m: Market, w: str, funds: int, hint: list[int] | None = None) -> None:
    """addFunding: the FPMM splits the funds, sends back what the pool's balance ratio leaves over."""
    fp, toks = m.fpmm, list(m.tokens[0])
    a = sim.pools[fp].add_funding(w, funds, hint)
    sim.new_tx()
    sim.play("fpmm_add", w=w, m=m, funds=funds, hint=hint)
    ctf.split(sim, fp, m, 0, funds)
    sim.batch(fp, fp, w, toks, a.send_back)
    sim.emit("fpmm.FPMMFundingAdded", {"funder": w, "amountsAdded": a.amounts_added, "sharesMinted": a.minted},
             fp)
    sim.cash[(w, m.conditions[0])] -= funds
    sim.ops["fpmm_add"] += 1


def op_fpmm(sim: WorldState) -> bool:
    """One FPMM call: buy (most), sell, add funding or remove it (also after resolution)."""
    r = sim.rng
    live = [m for m in sim.live if m.fpmm is not None]
    kind = r.choices(("buy", "sell", "add", "remove"), (5, 3, 1, 1))[0]
    if kind == "remove":
        ms = [m for m in sim.markets if m.fpmm is not None and sim.pools[m.fpmm].supply > 0]
        if not ms:
            return False
        m = r.choice(ms)
        pool = sim.pools[m.fpmm]
        lps = sorted(a for a, n in pool.shares.items() if n > 0)
        w = r.choice(lps)
        burnt = max(1, pool.shares[w] // r.choice((1, 2, 4)))
        try:
            rm = pool.remove_funding(w, burnt)
        except PoolError:  # the contract reverts it (a fee rounding shortfall): no chain could log it
            return False
        sim.new_tx()
        sim.play("fpmm_remove", w=w, m=m, shares=burnt)
        sim.batch(m.fpmm, m.fpmm, w, list(m.tokens[0]), rm.amounts)
        sim.emit("fpmm.FPMMFundingRemoved", {"funder": w, "amountsRemoved": rm.amounts,
                                             "collateralRemovedFromFeePool": rm.fees, "sharesBurnt": burnt},
                 m.fpmm)
        sim.cash[(w, m.conditions[0])] += rm.fees
        sim.ops["fpmm_remove"] += 1
        return True
    if not live:
        return False
    m = r.choice(live)
    fp, cid = m.fpmm, m.conditions[0]
    pool = sim.pools[fp]
    if kind == "add":
        fund(sim, m, r.choice(sim.wallets), r.randint(10, 300) * SCALE)
        return True
    if kind == "buy":
        w = r.choice(sim.wallets)
        o = m.winner if w in sim.informed and m.winner is not None and r.random() < 0.7 else r.randrange(2)
        try:
            b = pool.buy(r.randint(1, 100) * 100_000, o)
        except PoolError:
            return False
        sim.new_tx()
        sim.play("fpmm_buy", w=w, m=m, outcome=o, investment=b.investment, tokens=b.tokens)
        ctf.split(sim, fp, m, 0, b.investment - b.fee)
        sim.single(fp, fp, w, m.tokens[0][o], b.tokens)
        sim.emit("fpmm.FPMMBuy", {"buyer": w, "investmentAmount": b.investment, "feeAmount": b.fee,
                                  "outcomeIndex": o, "outcomeTokensBought": b.tokens}, fp)
        sim.cash[(w, cid)] -= b.investment
        sim.ops["fpmm_buy"] += 1
        return True
    o = r.randrange(2)
    tok = m.tokens[0][o]
    w = sim.book.random_holder(r, tok, frozenset({sim.fee_receiver}))
    if w is None:
        return False
    have = sim.book.get(w, tok)
    num, den = pool.price(o)
    if den == 0:  # every LP has left: nothing to sell into
        return False
    returned = have * num // den * r.randint(10, 80) // 100 // 10_000 * 10_000
    if returned <= 0:
        return False
    try:
        if pool.calc_sell(returned, o) > have:
            return False
        sl = pool.sell(returned, o)
    except PoolError:
        return False
    sim.new_tx()
    sim.play("fpmm_sell", w=w, m=m, outcome=o, returned=sl.returned, tokens=sl.tokens)
    sim.single(fp, w, fp, tok, sl.tokens)
    ctf.split(sim, fp, m, 0, sl.returned + sl.fee, merge=True)
    sim.emit("fpmm.FPMMSell", {"seller": w, "returnAmount": sl.returned, "feeAmount": sl.fee,
                               "outcomeIndex": o, "outcomeTokensSold": sl.tokens}, fp)
    sim.cash[(w, cid)] += sl.returned
    sim.ops["fpmm_sell"] += 1
    return True
