"""Pure-Python cash-flow P&L oracle: the SQL build (sql/build, sql/views) is checked against this, row for row, to
the micro-dollar. The average-cost (UI) book is harness.pnl.avgcost; where the two differ, harness.pnl.explain.
Money is always an int in micro-USDC; no floats anywhere.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

from harness.pnl.rows import (
    SCALE,
    Row,
    Tables,
    adapter_users,
    collateral_adapters,
    excluded_addresses,
    floor_div,
    fpmm_addresses,
    fpmm_markets,
    live,
    prices,
    resolutions,
)


def fpmm_cash(r: Row) -> int:
    """Collateral an FPMM log moves for its trader or funder (micro-USDC, + received): a buy pays
    investmentAmount (fee included), a sell receives returnAmount, adding funding pays the largest of amountsAdded
    (the whole deposit: what did not stay in the pool came back as shares), removing it receives
    collateralRemovedFromFeePool (the funder's fees). The shares move by ERC1155 transfers, counted apart."""
    if "side" in r:
        return -int(r["usdc"]) if r["side"] in ("BUY", 0) else int(r["usdc"])
    if r["action"] in ("add", 1):
        return -max((int(a) for a in r["amounts"]), default=0)
    return int(r["collateral_removed"])


def conversion_cash(index_set: int, amount: int) -> list[tuple[int, int]]:
    """(question index, micro-USDC) of a negRisk conversion's returned collateral, amount * (k - 1) for k NO given
    up, shared by those k questions: floor(total / k) each, the first total mod k (in question order) one more."""
    qs = [i for i in range(index_set.bit_length()) if index_set >> i & 1]
    if not qs:
        return []
    total = amount * (len(qs) - 1)
    base, rem = divmod(total, len(qs))
    return [(q, base + (1 if rank < rem else 0)) for rank, q in enumerate(qs)]


@dataclass(frozen=True)
class MarketPnl:
    wallet: str
    condition_id: str
    resolved: bool
    cashflow: int
    value: int
    pnl: int  # realized when resolved, else unrealized
    fees: int = 0
    fee_shares: int = 0
    value_exact: Fraction = Fraction(0)  # the value before its one floor (for exact comparisons)


@dataclass(frozen=True)
class WalletPnl:
    wallet: str
    realized: int
    unrealized: int
    total: int
    markets_resolved: int
    markets_open: int


@dataclass
class CashflowPnl:
    positions: dict[tuple[str, str, int], int] = field(default_factory=dict)
    cashflows: dict[tuple[str, str], int] = field(default_factory=dict)
    resolutions: dict[str, list[int]] = field(default_factory=dict)
    markets: dict[tuple[str, str], MarketPnl] = field(default_factory=dict)
    wallets: dict[str, WalletPnl] = field(default_factory=dict)


def cashflow_pnl(tables: Tables, *, cutoff: int | None = None, excluded: Iterable[str] | None = None) -> CashflowPnl:
    """The plan's cash-flow P&L per (wallet, condition) and per wallet, from raw rows, as the SQL build defines it."""
    fpmms = fpmm_markets(tables)
    ex = set(excluded_addresses() if excluded is None else excluded) | fpmm_addresses(tables)
    tmap = {int(r["token_id"]): (r["condition_id"], int(r["outcome_index"])) for r in live(tables, "token_map", None)}
    res = CashflowPnl()
    pos: dict[tuple[str, str, int], int] = defaultdict(int)
    for r in live(tables, "erc1155_transfers", cutoff):
        m = tmap.get(int(r["token_id"]))
        if m is None:
            continue
        v = int(r["value"])
        for wallet, delta in ((r["to_addr"], v), (r["from_addr"], -v)):
            if wallet not in ex:
                pos[(wallet, m[0], m[1])] += delta
    cash: dict[tuple[str, str], int] = defaultdict(int)
    fees: dict[tuple[str, str], int] = defaultdict(int)
    fee_sh: dict[tuple[str, str], int] = defaultdict(int)
    touched: set[tuple[str, str]] = set()
    for r in live(tables, "trades_raw", cutoff):
        m = tmap.get(int(r["token_id"]))
        if m is None or r["wallet"] in ex:
            continue
        k = (r["wallet"], m[0])
        usdc, fee = int(r["usdc"]), int(r.get("fee_usdc", 0))
        cash[k] += (-usdc if r["side"] in ("BUY", 0) else usdc) - fee
        fees[k] += fee
        fee_sh[k] += int(r.get("fee_shares", 0))
        touched.add(k)
    orders = {(r["tx_hash"], r["order_hash"]): int(r["token_id"]) for r in live(tables, "trades_raw", None)}
    for r in live(tables, "fee_refunds", cutoff):  # FeeModule refunds: collateral back, or fewer fee shares
        tok, refund, who = int(r["token_id"]), int(r["refund"]), r["to_addr"]
        m = tmap.get(orders.get((r["tx_hash"], r["order_hash"]), -1))  # booked on the refunded order's market
        if m is None or who in ex:
            continue
        k = (who, m[0])
        if tok == 0:
            cash[k] += refund
            fees[k] -= refund
        else:
            fee_sh[k] -= refund
        touched.add(k)
    by_cond, by_tx = adapter_users(tables, tmap, ex)
    adapters = set(collateral_adapters())
    for r in live(tables, "ctf_actions", cutoff):
        who = r["stakeholder"]
        if who in adapters:
            who = by_cond.get((r["tx_hash"], r["condition_id"]), "")
        if not who or who in ex:
            continue
        k = (who, r["condition_id"])
        a = r["action"]
        cash[k] += {"split": -int(r["amount"]), "merge": int(r["amount"])}.get(a, int(r["payout"]) if a == "redeem" else 0)
        touched.add(k)
    questions: dict[tuple[str, int], str] = {}
    for r in live(tables, "neg_risk_questions", None):
        questions.setdefault((r["market_id"], int(r["question_index"])), r["condition_id"])
    for r in live(tables, "neg_risk_conversions", cutoff):
        iset = int(r["index_set"])
        who = r["stakeholder"]
        if who in adapters:
            who = by_tx.get(r["tx_hash"], "")
        if iset == 0 or not who or who in ex:
            continue
        for qi, share in conversion_cash(iset, int(r["amount"])):
            cid = questions.get((r["market_id"], qi))
            if cid is None:
                continue
            k = (who, cid)
            cash[k] += share
            touched.add(k)
    for name, who_col in (("fpmm_trades", "trader"), ("fpmm_funding", "funder")):  # the legacy AMM's collateral
        for r in live(tables, name, cutoff):
            cid, who = fpmms.get(r["fpmm"]), r[who_col]
            if cid is None or who in ex:
                continue
            cash[(who, cid)] += fpmm_cash(r)
            touched.add((who, cid))
    res.positions = dict(pos)
    res.cashflows = {k: cash[k] for k in touched}
    res.resolutions = resolutions(tables, cutoff)
    px = prices(tables, cutoff)
    keys = {(w, c) for (w, c, _o) in pos} | touched
    gross: dict[tuple[str, str], int] = defaultdict(int)
    for (w, c, o), n in pos.items():
        if c in res.resolutions:
            nums = res.resolutions[c]
            gross[(w, c)] += n * (nums[o] if o < len(nums) else 0)
        else:
            gross[(w, c)] += n * px.get((c, o), 0)
    for w, c in keys:
        if c in res.resolutions:
            den = sum(res.resolutions[c])
            exact = Fraction(gross[(w, c)], den) if den > 0 else Fraction(0)
            resolved = True
        else:
            exact, resolved = Fraction(gross[(w, c)], SCALE), False
        value = floor_div(exact.numerator, exact.denominator)
        cf = cash.get((w, c), 0)
        res.markets[(w, c)] = MarketPnl(w, c, resolved, cf, value, cf + value, fees.get((w, c), 0),
                                        fee_sh.get((w, c), 0), exact)
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for m in res.markets.values():
        a = acc[m.wallet]
        if m.resolved:
            a[0] += m.pnl
            a[2] += 1
        else:
            a[1] += m.pnl
            a[3] += 1
    res.wallets = {w: WalletPnl(w, a[0], a[1], a[0] + a[1], a[2], a[3]) for w, a in acc.items()}
    return res
