"""Hypothesis strategies: random but chain-consistent P&L event streams, played through pnl_stream.Stream."""
from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

from tests.property.pnl_stream import CTF_ADAPTER_V2, NEG_ADAPTER_V2, Stream, addr

WALLETS = [addr(i) for i in range(5)]
amount = st.integers(1, 5_000_000)
price = st.integers(0, 1_000_000)


def ops(*, transfers: bool = True, fees: bool = True, one_hot: bool = False, max_size: int = 30):
    """A list of ("kind", args...) tuples; indexes are taken modulo what exists when played."""
    w = st.integers(0, len(WALLETS) - 1)
    m = st.integers(0, 50)
    fee = st.integers(0, 20_000) if fees else st.just(0)
    setup = st.one_of(st.tuples(st.just("market"), st.integers(2, 3)), st.tuples(st.just("negrisk"), st.integers(2, 4)))
    kinds = [
        st.tuples(st.just("block"), st.integers(1, 3)),
        st.tuples(st.just("split"), w, m, amount, st.booleans()),
        st.tuples(st.just("merge"), w, m, amount, st.booleans()),
        st.tuples(st.just("trade"), w, w, m, st.integers(0, 3), amount, price, fee, fee, st.integers(0, 3)),
        st.tuples(st.just("resolve"), m, st.lists(st.integers(0, 3), min_size=3, max_size=3)),
        st.tuples(st.just("redeem"), w, m, st.booleans()),
        st.tuples(st.just("price"), m, st.integers(0, 2), price),
        st.tuples(st.just("convert"), w, m, st.integers(1, 15), amount, st.booleans()),
    ]
    if transfers:
        kinds.append(st.tuples(st.just("send"), w, w, m, st.integers(0, 2), amount))
    return st.tuples(st.lists(setup, min_size=1, max_size=3), st.lists(st.one_of(kinds), min_size=4, max_size=max_size)) \
        .map(lambda x: [("one_hot", one_hot)] + x[0] + x[1])


def _via(mk, flag: tuple) -> str | None:
    """The V2 collateral adapter for the market when the op's flag asks for it (old op lists have no flag)."""
    if flag[:1] != (True,):
        return None
    return NEG_ADAPTER_V2 if mk.neg_risk else CTF_ADAPTER_V2


@dataclass
class Markets:
    """What an op list has set up (markets, negRisk markets, resolutions): passed to the next op list of the same
    history, its ops address these markets too (a later block range trading an earlier range's tokens)."""

    markets: list = field(default_factory=list)
    negs: list = field(default_factory=list)
    resolved: dict = field(default_factory=dict)
    one_hot: bool = False


def play(op_list, stream: Stream | None = None, state: Markets | None = None) -> Stream:
    """Apply ops; an op that the chain would reject (selling what you lack, redeeming unresolved) is skipped.
    With ``state``, the markets an earlier op list set up are addressed too, and this list's are added to it."""
    s = stream or Stream()
    state = state if state is not None else Markets()
    markets, negs, resolved = state.markets, state.negs, state.resolved
    for op in op_list:
        kind, args = op[0], op[1:]
        if kind == "one_hot":
            state.one_hot = state.one_hot or args[0]
            continue
        if kind == "block":
            s.next_block(args[0])
        elif kind == "market":
            markets.append(s.market(args[0]))
        elif kind == "negrisk":
            nm = s.neg_risk_market(args[0])
            negs.append(nm)
            markets.extend(nm.questions)
        if not markets or kind in ("block", "market", "negrisk"):
            continue
        if kind == "split":  # the last flag routes the flow through the V2 collateral adapter
            mk = markets[args[1] % len(markets)]
            s.split(WALLETS[args[0]], mk, args[2], via=_via(mk, args[3:]))
        elif kind == "merge":
            wl, mk, a = WALLETS[args[0]], markets[args[1] % len(markets)], args[2]
            a = min([a] + [s.balances[(wl, t)] for t in mk.tokens])
            if a > 0 and mk.condition_id not in resolved:
                s.merge(wl, mk, a, via=_via(mk, args[3:]))
        elif kind == "trade":
            buyer, seller, mk = WALLETS[args[0]], WALLETS[args[1]], markets[args[2] % len(markets)]
            tok = mk.tokens[args[3] % len(mk.tokens)]
            if buyer == seller or mk.condition_id in resolved:
                continue
            shares = args[4]
            if s.balances[(seller, tok)] < shares:  # the seller mints what it sells first
                s.split(seller, mk, shares - s.balances[(seller, tok)])
            usdc = shares * args[5] // 1_000_000
            fee_sh = min(args[6] % 7, shares)
            back = args[8] if len(args) > 8 else 0  # FeeModule refunds: 0..3 thirds of the fee
            buyer_fee = fee_sh if args[6] else 0
            s.trade(buyer, seller, tok, shares, usdc, buyer_fee_shares=buyer_fee, seller_fee_usdc=args[7],
                    seller_refund=args[7] * back // 3, buyer_share_refund=buyer_fee * back // 3)
        elif kind == "resolve":
            mk = markets[args[0] % len(markets)]
            if mk.condition_id in resolved or (state.one_hot and mk.neg_risk):
                continue  # one_hot streams leave negRisk questions for a consistent one-winner resolution
            n = len(mk.tokens)
            nums = list(args[1][:n])
            if state.one_hot or sum(nums) == 0:
                nums = [1 if i == sum(args[1]) % n else 0 for i in range(n)]
            s.resolve(mk, nums)
            resolved[mk.condition_id] = nums
        elif kind == "redeem":
            mk = markets[args[1] % len(markets)]
            if mk.condition_id in resolved:
                s.redeem(WALLETS[args[0]], mk, resolved[mk.condition_id], via=_via(mk, args[2:]))
        elif kind == "price":
            mk = markets[args[0] % len(markets)]
            s.price(mk, args[1] % len(mk.tokens), args[2])
        elif kind == "convert" and negs:
            wl, nm = WALLETS[args[0]], negs[args[1] % len(negs)]
            n = len(nm.questions)
            iset = args[2] % (1 << n)
            if iset == 0 or iset == (1 << n) - 1 or any(q.condition_id in resolved for q in nm.questions):
                continue
            a = args[3]
            for i, q in enumerate(nm.questions):  # NO shares are minted first where missing
                if iset >> i & 1 and s.balances[(wl, q.tokens[1])] < a:
                    s.split(wl, q, a - s.balances[(wl, q.tokens[1])])
            s.convert(wl, nm, iset, a, via=NEG_ADAPTER_V2 if args[4:5] == (True,) else None)
        elif kind == "send":
            frm, to, mk = WALLETS[args[0]], WALLETS[args[1]], markets[args[2] % len(markets)]
            tok = mk.tokens[args[3] % len(mk.tokens)]
            a = min(args[4], s.balances[(frm, tok)])
            if a > 0 and frm != to:
                s.send(frm, to, tok, a)
    return s


#: Op lists played into one stream per example by the SQL property tests. A load + rebuild costs about one CPU-second
#: whatever the stream's size (some 40 statements' fixed cost; 1 and 8 lists measured 1.0-1.6 CPU-s alike), so
#: an example checks PACK independent random streams for the price of one rebuild.
PACK = 4


def packed(strategy, n: int = PACK):
    """``n`` op lists drawn from ``strategy``, for play_all."""
    return st.lists(strategy, min_size=n, max_size=n)


def play_all(op_lists, stream: Stream | None = None, states: list[Markets] | None = None) -> Stream:
    """Each op list played after the previous one into one stream: each sets up its own markets (so they are
    independent histories in disjoint conditions), over the same five wallets, whose totals then sum them. With
    ``states`` (one per op list), list i continues history i: its ops address the markets list i of an earlier
    call set up."""
    s = stream or Stream()
    for i, op_list in enumerate(op_lists):
        s = play(op_list, s, None if states is None else states[i])
    return s
