"""Pure-Python P&L oracle: the SQL build is checked against this, row for row, to the micro-dollar.

Two definitions over the same decoded rows (dicts keyed by the sql/schema column names):

* ``cashflow_pnl``: the plan's cash-flow P&L (see the shared definition; the SQL in sql/build and sql/views).
* ``avg_cost_pnl``: Polymarket's pnl-subgraph average-cost P&L, per user and token, in chain order.

``explain`` says, per wallet and condition, why the two differ (fees, plain transfers, clamped sells, negRisk
conversions that move basis between conditions). Money is always an int in micro-USDC; no floats anywhere.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any, Iterable, Mapping, Sequence

from harness.config import contracts

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
    "token_map": ("token_id",),
    "market_prices": ("condition_id", "outcome_index"),
}
_VERSION = {"market_prices": "as_of"}


def excluded_addresses() -> list[str]:
    """Addresses that are never wallets: the exchanges (V1, V2), the NegRiskAdapter and 0x0."""
    keys = ("ctf_exchange", "neg_risk_exchange", "ctf_exchange_v2", "neg_risk_exchange_v2", "neg_risk_adapter")
    c = contracts()
    return sorted({c[k].address for k in keys if k in c} | {ZERO_ADDRESS})


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


def _lowest_bit(x: int) -> int:
    return (x & -x).bit_length() - 1


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


def prices(tables: Tables) -> dict[tuple[str, int], int]:
    return {(r["condition_id"], int(r["outcome_index"])): int(r["price_micros"])
            for r in final("market_prices", tables.get("market_prices", ()))}


def cashflow_pnl(tables: Tables, *, cutoff: int | None = None, excluded: Iterable[str] | None = None) -> CashflowPnl:
    """The plan's cash-flow P&L per (wallet, condition) and per wallet, from raw rows, as the SQL build defines it."""
    ex = set(excluded_addresses() if excluded is None else excluded)
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
    for r in _live(tables, "ctf_actions", cutoff):
        if r["stakeholder"] in ex:
            continue
        k = (r["stakeholder"], r["condition_id"])
        a = r["action"]
        cash[k] += {"split": -int(r["amount"]), "merge": int(r["amount"])}.get(a, int(r["payout"]) if a == "redeem" else 0)
        touched.add(k)
    questions: dict[tuple[str, int], str] = {}
    for r in _live(tables, "neg_risk_questions", None):
        questions.setdefault((r["market_id"], int(r["question_index"])), r["condition_id"])
    for r in _live(tables, "neg_risk_conversions", cutoff):
        iset = int(r["index_set"])
        if iset == 0 or r["stakeholder"] in ex:
            continue
        cid = questions.get((r["market_id"], _lowest_bit(iset)))
        if cid is None:
            continue
        k = (r["stakeholder"], cid)
        cash[k] += int(r["amount"]) * (bin(iset).count("1") - 1)
        touched.add(k)
    res.positions = dict(pos)
    res.cashflows = {k: cash[k] for k in touched}
    res.resolutions = resolutions(tables, cutoff)
    px = prices(tables)
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
            value = floor_div(gross[(w, c)], den) if den > 0 else 0
            resolved = True
        else:
            value, resolved = floor_div(gross[(w, c)], SCALE), False
        cf = cash.get((w, c), 0)
        res.markets[(w, c)] = MarketPnl(w, c, resolved, cf, value, cf + value, fees.get((w, c), 0),
                                        fee_sh.get((w, c), 0))
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
