"""Shared reading of decoded raw rows for the pure-Python P&L oracles (cash flow, average cost, explain): what
``FINAL`` keeps, the time cutoff, which addresses are never wallets, FPMMs, collateral-adapter users, resolutions and
mark prices. Rows are dicts keyed by the sql/schema column names; money is an int in micro-USDC, never a float.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
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


def fpmm_markets(tables: Tables) -> dict[str, str]:
    """FPMM address -> its condition (conditionIds[0], as the pnl-subgraph reads it), for every FPMM the known
    factory created (fpmm_creations; market structure, so no cutoff). Only these FPMMs' trades and funding count,
    and none of them is ever a wallet."""
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


def live(tables: Tables, name: str, cutoff: int | None) -> list[Row]:
    """FINAL rows of one table up to the cutoff (token_map is market structure: never cut)."""
    rows = final(name, tables.get(name, ()))
    if cutoff is not None and name != "token_map":
        rows = [r for r in rows if unix_time(r["block_time"]) <= cutoff]
    return rows


def resolutions(tables: Tables, cutoff: int | None = None) -> dict[str, list[int]]:
    """condition -> payout numerators of its first resolution (by block, log index) up to the cutoff."""
    out: dict[str, tuple] = {}
    for r in live(tables, "condition_resolutions", cutoff):
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
    tmap = {int(r["token_id"]): (r["condition_id"], int(r["outcome_index"])) for r in live(tables, "token_map", None)}
    n_out: dict[str, int] = defaultdict(int)
    for c, _o in tmap.values():
        n_out[c] += 1
    last: dict[tuple, tuple[tuple[int, int], int]] = {}  # (cid,) or (cid, outcome) -> (position, price)
    for r in live(tables, "trades_raw", cutoff):
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
    for r in live(tables, "erc1155_transfers", None):
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
