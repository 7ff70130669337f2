"""The CLOB: matched orders on the CTF and negRisk exchanges, V1 and V2, with their maker and taker legs.

A match is normal (shares for collateral), MINT (a split with stakeholder = the exchange) or MERGE; its logs come
in the exchange's order, with order hashes keccak256(abi.encode(order)) over salts the simulator picks. A share of
V1 matches with fee-paying orders go through the fee module, which refunds part of each fee (FeeRefunded).
"""
from __future__ import annotations

from eth_hash.auto import keccak

from harness.worlds import ctf
from harness.worlds.model import ZERO32, Market
from harness.worlds.state import WorldState


def exchange_fee(bps: int, making: int, taking: int, buy: bool) -> int:
    """CTF exchange fee in the proceeds asset: BUY -> shares, SELL -> collateral (CalculatorHelper form)."""
    if bps == 0 or making == 0 or taking == 0:
        return 0
    if buy:  # price = making / taking (collateral per share); outcome tokens = taking
        return bps * min(making, taking - making) * taking // (making * 10_000) if taking > making else 0
    return bps * min(taking, making - taking) // 10_000 if making > taking else 0


def credit_fill(sim: WorldState, wallet: str, cid: str, buy: bool, usdc: int, fee_usdc: int) -> None:
    """A fill's cash: a buy pays, a sell receives, less a collateral fee."""
    sim.cash[(wallet, cid)] += (-usdc if buy else usdc) - fee_usdc


def op_match(sim: WorldState) -> bool:
    """One matchOrders tx in a live market: a taker against 1-3 makers; False when no maker could be found."""
    r = sim.rng
    if not sim.live:
        return False
    m = r.choice(sim.live)
    ci = r.randrange(len(m.conditions))
    ex = sim.addr[m.exchange_key]
    # drift the price; informed wallets lean to the eventual winner
    m.price[ci] = min(99, max(1, m.price[ci] + r.randint(-3, 3)))
    taker = r.choice(sim.wallets)
    win_outcome = None
    if m.winner is not None:
        win_outcome = (0 if m.winner == ci else 1) if m.neg_risk else m.winner
    o = (win_outcome if taker in sim.informed and win_outcome is not None and r.random() < 0.7
         else r.randrange(2))
    tok, comp = m.tokens[ci][o], m.tokens[ci][1 - o]
    p = m.price[ci] if o == 0 else 100 - m.price[ci]  # price of `tok` in cents
    taker_buy = r.random() < 0.55 or sim.book.get(taker, tok) == 0
    nmakers = r.randint(1, 3)
    others = frozenset({taker})
    makers: list[tuple[str, int]] = []  # (maker, shares)
    if taker_buy:
        kind = "mint" if r.random() < 0.35 else "normal"
        for _ in range(nmakers):
            if kind == "normal":
                mk = sim.book.random_holder(r, tok, others)
                if mk is None:
                    if makers:
                        break
                    kind = "mint"
                    continue
                n = min(sim.size(), sim.book.get(mk, tok) // 100 * 100)
            else:
                mk = r.choice(sim.wallets)
                n = sim.size()
            if mk in others or n <= 0:
                continue
            others |= {mk}
            makers.append((mk, n))
    else:
        have = sim.book.get(taker, tok) // 100 * 100
        kind = "merge" if r.random() < 0.35 else "normal"
        budget = have
        for _ in range(nmakers):
            if budget <= 0:
                break
            if kind == "merge":
                mk = sim.book.random_holder(r, comp, others)
                if mk is None:
                    if makers:
                        break
                    kind = "normal"
                    continue
                n = min(sim.size(), sim.book.get(mk, comp) // 100 * 100, budget)
            else:
                mk = r.choice(sim.wallets)
                n = min(sim.size(), budget)
            if mk in others or n <= 0:
                continue
            others |= {mk}
            budget -= n
            makers.append((mk, n))
    if not makers:
        return False
    # a share of V1 matches with a fee-paying order go through the fee module, which refunds part of each fee
    quarters = None
    if not m.v2 and any(sim.fee_bps[w] for w in [taker] + [x for x, _ in makers]) and r.random() < 0.5:
        quarters = r.randrange(4)
    sim.new_tx()
    match_orders(sim, m, ci, ex, taker, taker_buy, kind, tok, comp, p, makers, quarters)
    sim.ops[f"match_{kind}"] += 1
    if quarters is not None:
        sim.ops["fee_module_routed"] += 1
    return True


def hash_order(o: tuple) -> str:
    """keccak256(abi.encode(order)) of (salt, maker, tokenId, makerAmount, takerAmount, feeRateBps, side): the
    exchanges' hashOrder (all static words, so abi.encode is the 7 words end to end)."""
    maker, tok, side, making, taking, bps, salt = o
    words = (salt, int(maker, 16), tok, making, taking, bps, side)
    return "0x" + keccak(b"".join(w.to_bytes(32, "big") for w in words)).hex()


def match_orders(sim: WorldState, m: Market, ci: int, ex: str, taker: str, taker_buy: bool, kind: str, tok: int,
                 comp: int, p: int, makers: list[tuple[str, int]], quarters: int | None = None) -> None:
    """One matchOrders tx, in the exchange's order: the taker's asset in; per maker order its asset in, the
    MINT/MERGE, its proceeds, fee and OrderFilled (taker = the taker's wallet); the taker order's proceeds, fee
    and OrderFilled (taker = the exchange); on V1 OrdersMatched; through the fee module (``quarters`` = the
    operator's fee in quarters of the exchange fee) its refunds, taker first."""
    n_total = sum(n for _mk, n in makers)
    t_usdc = n_total * p // 100  # collateral side of the taker order
    # orders as (maker, token, side, makerAmount, takerAmount, feeRateBps, salt); each fills completely
    orders = [(taker, tok, 0 if taker_buy else 1, t_usdc if taker_buy else n_total,
               n_total if taker_buy else t_usdc, sim.fee_bps[taker])]
    legs = []  # per maker: (buy, token, shares, collateral)
    for mk, n in makers:
        if kind == "normal":
            mk_buy, mtok, usdc = not taker_buy, tok, n * p // 100
        else:  # complementary: maker trades the other outcome at the complementary price
            mk_buy, mtok, usdc = taker_buy, comp, n * (100 - p) // 100
        legs.append((mk_buy, mtok, n, usdc))
        orders.append((mk, mtok, 0 if mk_buy else 1, usdc if mk_buy else n, n if mk_buy else usdc,
                       sim.fee_bps[mk]))
    salted = []
    for o in orders:
        sim.order_salt += 1
        salted.append(o + (sim.order_salt,))
    hashes = [hash_order(o) for o in salted]
    fm = sim.fee_module[m.neg_risk] if quarters is not None else None
    op_fees = None
    if fm is not None:  # the operator's intended fee per order: a part of the exchange's (taker first)
        op_fees = [exchange_fee(o[5], o[3], o[4], o[2] == 0) * quarters // 4 for o in orders]
    sim.play("match", m=m, orders=salted, fee_module=fm is not None, operator_fees=op_fees)
    receiver = fm or sim.fee_receiver
    mover = sim.adapter if m.neg_risk and not m.v2 else ex  # the negRisk V1 exchange moves shares via the adapter
    if not taker_buy:  # taker's shares go to the exchange first
        sim.single(mover, taker, ex, tok, n_total)
    fees = []
    for (mk, _n), (mk_buy, mtok, n, usdc), h in zip(makers, legs, hashes[1:]):
        if not mk_buy:
            sim.single(mover, mk, ex, mtok, n)
        if kind != "normal":
            ctf.split_any(sim, ex, m, ci, n, merge=kind == "merge")
        fees.append(fill_order(sim, m, ex, mover, receiver, h, mk, taker, mk_buy, mtok, n, usdc)[2])
    making, taking, fee = fill_order(sim, m, ex, mover, receiver, hashes[0], taker, ex, taker_buy, tok, n_total,
                                     t_usdc)
    fees.insert(0, fee)
    if not m.v2:
        ma, ta = (0, tok) if taker_buy else (tok, 0)
        sim.emit("exchange.OrdersMatched", {"takerOrderHash": hashes[0], "takerOrderMaker": taker,
                                            "makerAssetId": ma, "takerAssetId": ta,
                                            "makerAmountFilled": making, "takerAmountFilled": taking}, ex)
    if fm is None:
        return
    for o, h, fee, op in zip(orders, hashes, fees, op_fees):
        if fee <= op:
            continue
        who, otok, buy = o[0], o[1], o[2] == 0
        refund = fee - op
        if buy:
            sim.single(sim.adapter if m.neg_risk else fm, fm, who, otok, refund)
            sim.refunds_shares += refund
        else:
            sim.cash[(who, sim.tmap[otok][0])] += refund
            sim.refunds_usdc += refund
        sim.emit("fee_module.FeeRefunded", {"orderHash": h, "to": who, "id": otok if buy else 0,
                                            "refund": refund, "feeCharged": op}, fm)


def fill_order(sim: WorldState, m: Market, ex: str, mover: str, receiver: str, order_hash: str, who: str,
               counterparty: str, buy: bool, tok: int, n: int, usdc: int) -> tuple[int, int, int]:
    """Pay ``who`` its order's proceeds less the fee, emit its OrderFilled, credit its cash."""
    bps = sim.fee_bps[who]
    making, taking = (usdc, n) if buy else (n, usdc)
    if m.v2:  # V2: the fee is always collateral; a BUY receives every share
        fee = bps * min(usdc, n - usdc) // 10_000 if n > usdc else 0
        if buy:
            sim.single(mover, ex, who, tok, n)
        sim.fees_usdc += fee
        sim.emit("exchange_v2.OrderFilled", {
            "orderHash": order_hash, "maker": who, "taker": counterparty, "side": 0 if buy else 1, "tokenId": tok,
            "makerAmountFilled": making, "takerAmountFilled": taking, "fee": fee, "builder": ZERO32,
            "metadata": ZERO32}, ex)
        credit_fill(sim, who, sim.tmap[tok][0], buy, usdc, fee)
        return making, taking, fee
    fee = exchange_fee(bps, making, taking, buy)  # V1: from the proceeds asset
    if buy:
        sim.single(mover, ex, who, tok, n - fee)
        if fee:
            sim.single(mover, ex, receiver, tok, fee)
            sim.fees_shares += fee
    else:
        sim.fees_usdc += fee
    if fee:
        sim.emit("exchange.FeeCharged", {"receiver": receiver, "tokenId": tok if buy else 0, "amount": fee}, ex)
    sim.emit("exchange.OrderFilled", {
        "orderHash": order_hash, "maker": who, "taker": counterparty, "makerAssetId": 0 if buy else tok,
        "takerAssetId": tok if buy else 0, "makerAmountFilled": making, "takerAmountFilled": taking, "fee": fee},
        ex)
    credit_fill(sim, who, sim.tmap[tok][0], buy, usdc, 0 if buy else fee)
    return making, taking, fee
