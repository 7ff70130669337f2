"""Pure-Python P&L oracle: the SQL build is checked against this, row for row, to the micro-dollar.

Two definitions over the same decoded rows (dicts keyed by the sql/schema column names):

* ``cashflow_pnl``: the plan's cash-flow P&L (see the shared definition; the SQL in sql/build and sql/views).
* ``avg_cost_pnl``: Polymarket's pnl-subgraph average-cost P&L, per user and token, in chain order.

``explain`` says, per wallet and condition, why the two differ (fees, plain transfers, clamped sells, negRisk
conversions that move basis between conditions). Money is always an int in micro-USDC; no floats anywhere.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any

from harness.config import addresses_with_role, non_wallets

SCALE = 1_000_000  # micro-USDC per USDC; also micro-units per share
ZERO_ADDRESS = "0x" + "0" * 40
Row = Mapping[str, Any]
Tables = Mapping[str, Iterable[Row]]

#: ReplacingMergeTree keys of the raw tables (what FINAL collapses on).
KEYS = {
    "trades_raw": ("tx_hash", "log_index"),
    "erc1155_transfers": ("tx_hash", "log_index", "sub_index"),
    "ctf_actions": ("tx_hash", "log_index"),
    "condition_preparations": ("tx_hash", "log_index"),
    "condition_resolutions": ("tx_hash", "log_index"),
    "neg_risk_conversions": ("tx_hash", "log_index"),
    "neg_risk_questions": ("tx_hash", "log_index"),
    "orders_matched": ("tx_hash", "log_index"),
    "fee_charged": ("tx_hash", "log_index"),
    "fee_refunds": ("tx_hash", "log_index"),
    "wallet_proxies": ("tx_hash", "log_index"),
    "fpmm_creations": ("tx_hash", "log_index"),
    "fpmm_trades": ("tx_hash", "log_index"),
    "fpmm_funding": ("tx_hash", "log_index"),
    "token_map": ("token_id",),
    "market_prices": ("condition_id", "outcome_index"),
}
_VERSION = {"market_prices": "as_of"}


def excluded_addresses() -> list[str]:
    """Addresses that are never wallets: every protocol contract in contracts.yaml (exchanges, adapters, fee
    modules, the NO-token burn address, collateral tokens) and 0x0."""
    return sorted(set(non_wallets()) | {ZERO_ADDRESS})


#: The average-cost book's outcome index for an FPMM's LP shares (token id = the FPMM address as a number, as the
#: pnl-subgraph keys them): no condition has 256 outcomes, so no payout or price ever marks them (valued at 0).
LP_OUTCOME = 255


def fpmm_markets(tables: Tables) -> dict[str, str]:
    """FPMM address -> its condition (conditionIds[0], as the pnl-subgraph reads it), for every FPMM the known
    factory created (fpmm_creations; market structure, so no cutoff). Only these FPMMs' trades and funding count,
    and none of them is ever a wallet."""
    from harness.config import addresses_with_role

    factories = set(addresses_with_role("fpmm_factory"))
    out: dict[str, tuple[tuple[int, int], str]] = {}
    for r in final("fpmm_creations", tables.get("fpmm_creations", ())):
        cids = list(r["condition_ids"])
        if r["factory"] not in factories or not cids:
            continue
        k = (int(r["block_number"]), int(r["log_index"]))
        if r["fpmm"] not in out or k < out[r["fpmm"]][0]:
            out[r["fpmm"]] = (k, cids[0].lower())
    return {f: c for f, (_k, c) in out.items()}


def fpmm_addresses(tables: Tables) -> set[str]:
    """Every FPMM in fpmm_creations: contracts, never wallets (whatever their conditions)."""
    return {r["fpmm"] for r in final("fpmm_creations", tables.get("fpmm_creations", ()))}


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


def rows_as_dicts(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """Decoder tuples (in ``columns`` order) as dicts, the oracle's input form."""
    return [dict(zip(columns, r)) for r in rows]


def unix_time(v: Any) -> int:
    return int(v.timestamp()) if isinstance(v, datetime) else int(v)


def final(table: str, rows: Iterable[Row]) -> list[Row]:
    """What ``SELECT ... FINAL`` returns: per key the highest version (last inserted on a tie), minus deleted."""
    key, ver = KEYS[table], _VERSION.get(table, "_version")
    best: dict[tuple, Row] = {}
    for r in rows:
        k = tuple(r[c] for c in key)
        if k not in best or _ver(r[ver]) >= _ver(best[k][ver]):
            best[k] = r
    return [r for r in best.values() if not r.get("_deleted", 0)]


def _ver(v: Any) -> Any:
    return unix_time(v) if isinstance(v, datetime) else v


def floor_div(a: int, b: int) -> int:
    """Floor division on exact ints (Python's //), the rounding every P&L value uses."""
    return a // b


def _live(tables: Tables, name: str, cutoff: int | None) -> list[Row]:
    rows = final(name, tables.get(name, ()))
    if cutoff is not None and name != "token_map":
        rows = [r for r in rows if unix_time(r["block_time"]) <= cutoff]
    return rows


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


def resolutions(tables: Tables, cutoff: int | None = None) -> dict[str, list[int]]:
    """condition -> payout numerators of its first resolution (by block, log index) up to the cutoff."""
    out: dict[str, tuple] = {}
    for r in _live(tables, "condition_resolutions", cutoff):
        cid = r["condition_id"].lower()
        cid = cid if cid.startswith("0x") else "0x" + cid
        k = (r["block_number"], r["log_index"])
        if cid not in out or k < out[cid][0]:
            out[cid] = (k, [int(x) for x in r["payout_numerators"]])
    return {c: v[1] for c, v in out.items()}


def prices(tables: Tables, cutoff: int | None = None) -> dict[tuple[str, int], int]:
    """(condition, outcome) -> mark price in micro-USDC at ``cutoff``.

    Given ``market_prices`` rows (already derived marks), those. Otherwise derived as the build derives them: the
    last fill at or before the cutoff (price = usdc * 1e6 // shares, at most 1e6); a binary condition takes both
    outcomes from its latest fill (p and 1e6 - p), other conditions each outcome's own last fill; the latest
    ``imported_prices`` row dated at or before the cutoff overrides its outcome.
    """
    if "market_prices" in tables:
        return {(r["condition_id"], int(r["outcome_index"])): int(r["price_micros"])
                for r in final("market_prices", tables["market_prices"])}
    tmap = {int(r["token_id"]): (r["condition_id"], int(r["outcome_index"])) for r in _live(tables, "token_map", None)}
    n_out: dict[str, int] = defaultdict(int)
    for c, _o in tmap.values():
        n_out[c] += 1
    last: dict[tuple, tuple[tuple[int, int], int]] = {}  # (cid,) or (cid, outcome) -> (position, price)
    for r in _live(tables, "trades_raw", cutoff):
        m, shares = tmap.get(int(r["token_id"])), int(r["shares"])
        if m is None or shares == 0:
            continue
        px = min(int(r["usdc"]) * SCALE // shares, SCALE)
        pos = (int(r["block_number"]), int(r["log_index"]))
        key = (m[0],) if n_out[m[0]] == 2 else m
        if key not in last or pos > last[key][0]:
            last[key] = (pos, px if len(key) == 2 else (m[1], px))
    out: dict[tuple[str, int], int] = {}
    for key, (_pos, v) in last.items():
        if len(key) == 2:
            out[key] = v
        else:
            o, px = v
            out[(key[0], o)], out[(key[0], 1 - o)] = px, SCALE - px
    imported: dict[tuple[str, int], tuple[int, int]] = {}
    for r in tables.get("imported_prices", ()):
        t = unix_time(r["as_of"])
        k = (r["condition_id"], int(r["outcome_index"]))
        if (cutoff is None or t <= cutoff) and (k not in imported or t >= imported[k][0]):
            imported[k] = (t, int(r["price_micros"]))
    out.update({k: v for k, (_t, v) in imported.items()})
    return out


def collateral_adapters() -> list[str]:
    """The V2 collateral adapters: contracts that route a user's flows and emit no event of their own."""
    return addresses_with_role("collateral_adapter")


def adapter_users(tables: Tables, tmap: Mapping[int, tuple[str, int]], ex: set[str]
                  ) -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """Who a collateral adapter acted for: the non-contract address on the other side of the adapter's share
    transfers in the same transaction, per (tx, condition) and per tx (the smallest address if several)."""
    adapters = set(collateral_adapters())
    by_cond: dict[tuple[str, str], str] = {}
    by_tx: dict[str, str] = {}
    for r in _live(tables, "erc1155_transfers", None):
        frm, to = r["from_addr"], r["to_addr"]
        if frm in adapters:
            user = to
        elif to in adapters:
            user = frm
        else:
            continue
        if user in ex:
            continue
        tx = r["tx_hash"]
        by_tx[tx] = min(by_tx.get(tx, user), user)
        m = tmap.get(int(r["token_id"]))
        if m is not None:
            k = (tx, m[0])
            by_cond[k] = min(by_cond.get(k, user), user)
    return by_cond, by_tx


def cashflow_pnl(tables: Tables, *, cutoff: int | None = None, excluded: Iterable[str] | None = None) -> CashflowPnl:
    """The plan's cash-flow P&L per (wallet, condition) and per wallet, from raw rows, as the SQL build defines it."""
    fpmms = fpmm_markets(tables)
    ex = set(excluded_addresses() if excluded is None else excluded) | fpmm_addresses(tables)
    tmap = {int(r["token_id"]): (r["condition_id"], int(r["outcome_index"])) for r in _live(tables, "token_map", None)}
    res = CashflowPnl()
    pos: dict[tuple[str, str, int], int] = defaultdict(int)
    for r in _live(tables, "erc1155_transfers", cutoff):
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
    for r in _live(tables, "trades_raw", cutoff):
        m = tmap.get(int(r["token_id"]))
        if m is None or r["wallet"] in ex:
            continue
        k = (r["wallet"], m[0])
        usdc, fee = int(r["usdc"]), int(r.get("fee_usdc", 0))
        cash[k] += (-usdc if r["side"] in ("BUY", 0) else usdc) - fee
        fees[k] += fee
        fee_sh[k] += int(r.get("fee_shares", 0))
        touched.add(k)
    orders = {(r["tx_hash"], r["order_hash"]): int(r["token_id"]) for r in _live(tables, "trades_raw", None)}
    for r in _live(tables, "fee_refunds", cutoff):  # FeeModule refunds: collateral back, or fewer fee shares
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
    for r in _live(tables, "ctf_actions", cutoff):
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
    for r in _live(tables, "neg_risk_questions", None):
        questions.setdefault((r["market_id"], int(r["question_index"])), r["condition_id"])
    for r in _live(tables, "neg_risk_conversions", cutoff):
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
        for r in _live(tables, name, cutoff):
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


# ---- average-cost P&L (Polymarket pnl-subgraph rules) ----------------------------------------------------------
#
# Units as in the subgraph: prices in micro-USDC per whole share (1 USDC = 1_000_000), amounts in base units.
# rounding="subgraph": every division truncates toward zero like graph-ts BigInt.div (fill price, average price,
# each realized delta, noPrice, yesPrice). rounding="exact": the same rules on Fractions, no rounding at all; this
# is the form in which the average-cost total equals the cash-flow total (no transfers, no fees).


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
        for r in _live(tables, name, cutoff):
            ev.append(((int(r["block_number"]), int(r["log_index"])), name, r))
    for r in _live(tables, "neg_risk_questions", None):  # market structure: no cutoff, like token_map
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
    tmap = {int(r["token_id"]): (r["condition_id"], int(r["outcome_index"])) for r in _live(tables, "token_map", None)}
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


# ---- where the two definitions differ ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    wallet: str
    condition_id: str
    cashflow_pnl: int
    avg_cost_pnl: int  # subgraph rounding, realized + unrealized
    diff: int
    fees_usdc: int
    fee_shares: int
    transfer_in: int  # shares received by plain wallet-to-wallet transfers (the subgraph does not track them)
    transfer_out: int
    clamped_shares: int
    untracked_shares: int  # sum over outcomes of |shares held - shares the average-cost book tracks|
    converted: bool
    reasons: tuple[str, ...]


def explain(tables: Tables, *, cutoff: int | None = None, excluded: Iterable[str] | None = None) -> list[Difference]:
    """Per (wallet, condition): both P&Ls and the causes that separate them, worst difference first."""
    ex = set(excluded_addresses() if excluded is None else excluded) | fpmm_addresses(tables)
    cf = cashflow_pnl(tables, cutoff=cutoff, excluded=ex)
    ac = avg_cost_pnl(tables, cutoff=cutoff, excluded=ex)
    tmap = {int(r["token_id"]): r["condition_id"] for r in _live(tables, "token_map", None)}
    busy_tx = {r["tx_hash"] for n in ("trades_raw", "ctf_actions", "neg_risk_conversions", "fpmm_trades",
                                      "fpmm_funding") for r in _live(tables, n, cutoff)}
    tin: dict[tuple[str, str], int] = defaultdict(int)
    tout: dict[tuple[str, str], int] = defaultdict(int)
    for r in _live(tables, "erc1155_transfers", cutoff):
        c = tmap.get(int(r["token_id"]))
        if c is None or r["tx_hash"] in busy_tx or r["from_addr"] in ex or r["to_addr"] in ex:
            continue
        tin[(r["to_addr"], c)] += int(r["value"])
        tout[(r["from_addr"], c)] += int(r["value"])
    untracked: dict[tuple[str, str], int] = defaultdict(int)
    tracked: dict[tuple[str, int], int] = {}
    for (w, tok), st in ac.tokens.items():
        if tok in tmap:
            tracked[(w, tok)] = st.amount
    tok_of = {(r["condition_id"], int(r["outcome_index"])): int(r["token_id"]) for r in _live(tables, "token_map", None)}
    seen = set()
    for (w, c, o), n in cf.positions.items():
        tok = tok_of.get((c, o))
        seen.add((w, tok))
        untracked[(w, c)] += abs(n - tracked.get((w, tok), 0))
    for (w, tok), amount in tracked.items():
        if (w, tok) not in seen and amount:
            untracked[(w, tmap[tok])] += abs(amount)
    fpmms = fpmm_markets(tables)
    funded = {(r["funder"], fpmms[r["fpmm"]]) for r in _live(tables, "fpmm_funding", cutoff) if r["fpmm"] in fpmms}
    conv_markets = {r["market_id"] for r in _live(tables, "neg_risk_conversions", cutoff)}
    conv_conds = {r["condition_id"] for r in _live(tables, "neg_risk_questions", None) if r["market_id"] in conv_markets}
    out = []
    for k in set(cf.markets) | set(ac.markets):
        m = cf.markets.get(k)
        a = ac.markets.get(k)
        cpnl = m.pnl if m else 0
        apnl = int(a.total) if a else 0
        reasons = []
        if m and (m.fees or m.fee_shares):
            reasons.append(f"fees: {m.fees} micro-USDC and {m.fee_shares} share units in cash-flow, ignored by avg-cost")
        if tin[k] or tout[k]:
            reasons.append(f"plain transfers: +{tin[k]} / -{tout[k]} shares valued by cash-flow, untracked by avg-cost")
        if untracked[k]:
            reasons.append(f"untracked shares: {untracked[k]} share units held differ from the avg-cost book "
                           "(transfers, fee shares): cash-flow values what is held")
        if a and a.clamped_shares:
            reasons.append(f"clamped sells: {a.clamped_shares} shares sold without tracked basis earn 0 in avg-cost")
        if k[1] in conv_conds:
            reasons.append("negRisk conversion: basis moves between conditions (wallet totals still comparable)")
        if k in funded:
            reasons.append("FPMM liquidity: LP shares count 0 in both; a funding removal's shares are booked "
                           "against the LP sale in avg-cost (the pnl-subgraph's rule), 2x their cost lower")
        if cpnl != apnl and not reasons:
            reasons.append("rounding: subgraph truncates prices and each realized delta")
        out.append(Difference(k[0], k[1], cpnl, apnl, cpnl - apnl, m.fees if m else 0, m.fee_shares if m else 0,
                              tin[k], tout[k], a.clamped_shares if a else 0, untracked[k], k[1] in conv_conds,
                              tuple(reasons)))
    return sorted(out, key=lambda d: (-abs(d.diff), d.wallet, d.condition_id))
