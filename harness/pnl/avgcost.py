"""Pure-Python average-cost P&L oracle: Polymarket's pnl-subgraph rules per user and token, in chain order (what
the UI shows); sql/build/wallet_token_avgcost.sql is checked against it to the micro-dollar.

Units as in the subgraph: prices in micro-USDC per whole share (1 USDC = 1_000_000), amounts in base units.
rounding="subgraph": every division truncates toward zero like graph-ts BigInt.div (fill price, average price,
each realized delta, noPrice, yesPrice). rounding="exact": the same rules on Fractions, no rounding at all; this
is the form in which the average-cost total equals the cash-flow total (no transfers, no fees).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from harness.pnl.rows import (
    SCALE,
    Row,
    Tables,
    adapter_users,
    collateral_adapters,
    excluded_addresses,
    fpmm_addresses,
    fpmm_markets,
    live,
    prices,
)

#: The average-cost book's outcome index for an FPMM's LP shares (token id = the FPMM address as a number, as the
#: pnl-subgraph keys them): no condition has 256 outcomes, so no payout or price ever marks them (valued at 0).
LP_OUTCOME = 255


def tdiv(a: int, b: int) -> int:
    """Integer division truncating toward zero (graph-ts BigInt.div), unlike Python's floor //."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


@dataclass
class TokenState:
    amount: int = 0
    avg: Any = 0  # micro-USDC per share: int (subgraph) or Fraction (exact)
    realized: Any = 0  # micro-USDC
    bought: int = 0
    clamped: int = 0  # shares sold beyond the tracked amount (earn nothing)


@dataclass(frozen=True)
class AvgCostMarket:
    wallet: str
    condition_id: str
    realized: Any
    unrealized: Any
    clamped_shares: int

    @property
    def total(self) -> Any:
        return self.realized + self.unrealized


@dataclass
class AvgCostPnl:
    tokens: dict[tuple[str, int], TokenState] = field(default_factory=dict)
    markets: dict[tuple[str, str], AvgCostMarket] = field(default_factory=dict)

    def wallet_total(self, wallet: str) -> Any:
        return sum((m.total for (w, _c), m in self.markets.items() if w == wallet), 0)

    def wallet_realized(self, wallet: str) -> Any:
        return sum((m.realized for (w, _c), m in self.markets.items() if w == wallet), 0)


class _Book:
    def __init__(self, exact: bool):
        self.exact = exact
        self.tokens: dict[tuple[str, int], TokenState] = defaultdict(TokenState)

    def div(self, a, b):
        return Fraction(a) / b if self.exact else tdiv(a, b)

    def buy(self, wallet: str, tok: int, price, amount: int) -> None:
        s = self.tokens[(wallet, tok)]
        if amount > 0:
            s.avg = self.div(s.avg * s.amount + price * amount, s.amount + amount)
            s.amount += amount
            s.bought += amount

    def sell(self, wallet: str, tok: int, price, amount: int) -> None:
        s = self.tokens[(wallet, tok)]
        adj = min(amount, s.amount)
        s.clamped += amount - adj
        s.realized += self.div(adj * (price - s.avg), SCALE)
        s.amount -= adj


def _chain_events(tables: Tables, cutoff: int | None) -> list[tuple[tuple, str, Row]]:
    ev = []
    for name in ("trades_raw", "ctf_actions", "neg_risk_conversions", "condition_resolutions", "fpmm_trades",
                 "fpmm_funding"):
        for r in live(tables, name, cutoff):
            ev.append(((int(r["block_number"]), int(r["log_index"])), name, r))
    for r in live(tables, "neg_risk_questions", None):  # market structure: no cutoff, like token_map
        ev.append(((int(r["block_number"]), int(r["log_index"])), "neg_risk_questions", r))
    ev.sort(key=lambda e: e[0])
    return ev


def avg_cost_pnl(tables: Tables, *, cutoff: int | None = None, excluded: Iterable[str] | None = None,
                 rounding: str = "subgraph") -> AvgCostPnl:
    """Average-cost P&L per (wallet, condition): realized by the subgraph's rules in chain order, unrealized as
    tracked amount x (mark - average), mark = payout share when resolved else market price (unpriced = 0)."""
    if rounding not in ("subgraph", "exact"):
        raise ValueError(f"rounding {rounding!r}: choose subgraph or exact")
    fpmms = fpmm_markets(tables)
    ex = set(excluded_addresses() if excluded is None else excluded) | fpmm_addresses(tables)
    book = _Book(rounding == "exact")
    tmap = {int(r["token_id"]): (r["condition_id"], int(r["outcome_index"])) for r in live(tables, "token_map", None)}
    by_cond: dict[str, dict[int, int]] = defaultdict(dict)
    for t, (c, o) in tmap.items():
        by_cond[c][o] = t
    tmap.update({int(f, 16): (c, LP_OUTCOME) for f, c in fpmms.items()})  # LP shares: marked at 0
    payouts: dict[str, list[int]] = {}
    questions: dict[str, dict[int, str]] = defaultdict(dict)
    users_by_cond, users_by_tx = adapter_users(tables, tmap, ex)
    adapters = set(collateral_adapters())
    for _k, name, r in _chain_events(tables, cutoff):
        if name == "trades_raw":
            shares, tok = int(r["shares"]), int(r["token_id"])
            if r["wallet"] in ex or shares == 0 or tok not in tmap:
                continue
            price = book.div(int(r["usdc"]) * SCALE, shares)
            (book.buy if r["side"] in ("BUY", 0) else book.sell)(r["wallet"], tok, price, shares)
        elif name == "condition_resolutions":
            cid = r["condition_id"].lower()
            payouts.setdefault(cid if cid.startswith("0x") else "0x" + cid, [int(x) for x in r["payout_numerators"]])
        elif name == "neg_risk_questions":
            questions[r["market_id"]].setdefault(int(r["question_index"]), r["condition_id"])
        elif name == "ctf_actions":
            w, cid, toks = r["stakeholder"], r["condition_id"], by_cond.get(r["condition_id"], {})
            if w in adapters:  # a V2 collateral adapter acted for the user behind its transfers
                w = users_by_cond.get((r["tx_hash"], cid), "")
            if not w or w in ex or not toks:
                continue
            if r["action"] in ("split", "merge"):
                price = book.div(SCALE, len(toks))
                for o in sorted(toks):
                    (book.buy if r["action"] == "split" else book.sell)(w, toks[o], price, int(r["amount"]))
            elif r["action"] == "redeem" and cid in payouts and sum(payouts[cid]) > 0:
                nums, den = payouts[cid], sum(payouts[cid])
                amounts = [int(a) for a in (r.get("amounts") or [])]
                for o in sorted(toks):
                    price = book.div((nums[o] if o < len(nums) else 0) * SCALE, den)
                    whole = book.tokens[(w, toks[o])].amount
                    amt = amounts[o] if r.get("source") == "neg_risk_adapter" and o < len(amounts) else whole
                    book.sell(w, toks[o], price, amt)
        elif name in ("fpmm_trades", "fpmm_funding"):
            cid = fpmms.get(r["fpmm"])
            if cid is not None:
                _fpmm(book, r, by_cond.get(cid, {}), int(r["fpmm"], 16), ex)
        elif name == "neg_risk_conversions":
            if r["stakeholder"] in adapters:
                r = {**r, "stakeholder": users_by_tx.get(r["tx_hash"], "")}
            if r["stakeholder"]:
                _convert(book, r, questions[r["market_id"]], by_cond, ex)
    res = AvgCostPnl(tokens=dict(book.tokens))
    px = prices(tables, cutoff)
    acc: dict[tuple[str, str], list] = defaultdict(lambda: [0, 0, 0])
    for (w, tok), s in book.tokens.items():
        c, o = tmap[tok]
        if c in payouts and sum(payouts[c]) > 0:
            mark = book.div((payouts[c][o] if o < len(payouts[c]) else 0) * SCALE, sum(payouts[c]))
        else:
            mark = px.get((c, o), 0)
        a = acc[(w, c)]
        a[0] += s.realized
        a[1] += book.div(s.amount * (mark - s.avg), SCALE)
        a[2] += s.clamped
    res.markets = {k: AvgCostMarket(k[0], k[1], a[0], a[1], a[2]) for k, a in acc.items()}
    return res


def _fpmm(book: _Book, r: Row, toks: Mapping[int, int], lp: int, ex: set) -> None:
    """One FPMM log by the pnl-subgraph's FixedProductMarketMakerMapping (binary markets, outcomes 0 and 1):
    buy / sell outcomeIndex at usdc / shares; funding added buys the shares sent back (the smaller side's
    difference) at the other side's share of the amounts, and the LP shares (token ``lp``) at what is left of the
    deposit per share; funding removed buys both outcomes' amounts at the pool price and sells the burnt LP shares
    at (collateralRemovedFromFeePool - those tokens' cost) per share (the subgraph's rule, sign included)."""
    if "side" in r:
        w, shares, o = r["trader"], int(r["shares"]), int(r["outcome_index"])
        if w in ex or shares == 0 or o not in toks:
            return
        price = book.div(int(r["usdc"]) * SCALE, shares)
        (book.buy if r["side"] in ("BUY", 0) else book.sell)(w, toks[o], price, shares)
        return
    w, amounts, shares = r["funder"], [int(a) for a in r["amounts"]], int(r["shares"])
    a = (amounts + [0, 0])[:2]
    if w in ex or a[0] + a[1] == 0 or 0 not in toks or 1 not in toks:
        return
    if r["action"] in ("add", 1):
        o = 1 if a[0] > a[1] else 0  # the side sent back: the smaller amount added
        amount, price = a[1 - o] - a[o], book.div(a[1 - o] * SCALE, a[0] + a[1])
        book.buy(w, toks[o], price, amount)
        if shares:
            lp_cost = max(a) - book.div(amount * price, SCALE)
            book.buy(w, lp, book.div(lp_cost * SCALE, shares), shares)
        return
    cost = 0
    for o in (0, 1):
        price = book.div(a[1 - o] * SCALE, a[0] + a[1])
        book.buy(w, toks[o], price, a[o])
        cost += book.div(price * a[o], SCALE)
    if shares:
        book.sell(w, lp, book.div((int(r["collateral_removed"]) - cost) * SCALE, shares), shares)


def _convert(book: _Book, r: Row, qs: dict[int, str], by_cond: Mapping[str, dict[int, int]], ex: set) -> None:
    """PositionsConverted: sell each converted NO at its own average (0 realized), buy YES of the other questions
    at yesPrice = (noPrice * noCount - 1 * (noCount - 1)) / (questionCount - noCount), noPrice = mean NO average."""
    w, iset, amount = r["stakeholder"], int(r["index_set"]), int(r["amount"])
    count = len(qs)
    if w in ex:
        return
    no_idx = [i for i in range(count) if iset >> i & 1 and 1 in by_cond.get(qs.get(i, ""), {})]
    if not no_idx:
        return
    total = 0
    for i in no_idx:
        tok = by_cond[qs[i]][1]
        avg = book.tokens[(w, tok)].avg
        book.sell(w, tok, avg, amount)
        total += avg
    if count == len(no_idx):
        return
    no_price = book.div(total, len(no_idx))
    yes_price = book.div(no_price * len(no_idx) - SCALE * (len(no_idx) - 1), count - len(no_idx))
    for i in range(count):
        if not iset >> i & 1 and 0 in by_cond.get(qs.get(i, ""), {}):
            book.buy(w, by_cond[qs[i]][0], yes_price, amount)


def yes_price(no_price, no_count: int, question_count: int, *, exact: bool = False):
    """The subgraph's negRisk YES price in micro-USDC (truncated unless exact), exposed for the test vectors."""
    num = no_price * no_count - SCALE * (no_count - 1)
    return Fraction(num, question_count - no_count) if exact else tdiv(num, question_count - no_count)
