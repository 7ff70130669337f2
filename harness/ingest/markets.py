"""Market metadata from files, for ranges whose markets were prepared before them: Gamma markets (JSON / JSON
lines) or a token map CSV. Each token id is checked against the position-id math (harness.chain.tokens) before
it enters token_map, so a wrong file cannot silently attribute shares to the wrong market.

Token map CSV: header ``token_id,condition_id,outcome_index`` and optionally ``neg_risk`` (0/1, default 0); one
row per outcome token, token ids in decimal or 0x hex.
Gamma markets: the /markets API objects (``conditionId``, ``clobTokenIds``, ``negRisk``, ``outcomePrices``,
``updatedAt``), one per line or as a JSON array, or records wrapping them (``condition_id``, ``token_ids``,
``outcome_prices``, ``raw``); .gz allowed. ``outcomePrices`` become imported prices dated ``updatedAt``.
"""
from __future__ import annotations

import csv
import gzip
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from clickhouse_connect.driver.client import Client

from harness.chain.decode import COLUMNS
from harness.chain.tokens import collateral_for, token_id


class MarketsFileError(ValueError):
    """``<file>:<line>: <problem>``."""


@dataclass(frozen=True)
class MarketTokens:
    condition_id: str
    tokens: tuple[int, ...]  # by outcome index
    neg_risk: bool
    prices: tuple[int, ...] | None = None  # micro-USDC per outcome, when the file gives them
    as_of: int | None = None  # unix time the prices are from


def _int(v) -> int:
    return int(v, 16) if isinstance(v, str) and v.strip().lower().startswith("0x") else int(str(v).strip())


def _bool(v) -> bool:
    return v is True or str(v).strip().lower() in ("1", "true", "yes")


def _cid(v, where: str) -> str:
    c = str(v or "").strip().lower()
    c = c if c.startswith("0x") else "0x" + c
    try:
        int(c, 16)
    except ValueError:
        raise MarketsFileError(f"{where}: condition id {v!r} is not hex") from None
    if len(c) != 66:
        raise MarketsFileError(f"{where}: condition id {v!r} is not 32 bytes")
    return c


def _check(cid: str, tokens: list[int], neg_risk: bool, where: str) -> bool:
    """The collateral flag under which every token is its outcome's position id (the other one is tried too)."""
    for neg in (neg_risk, not neg_risk):
        if all(token_id(cid, i, neg_risk=neg) == t for i, t in enumerate(tokens)):
            return neg
    raise MarketsFileError(f"{where}: token ids of {cid} are not its outcomes' position ids (USDC.e or wcol "
                           "collateral, index sets 1, 2, ...): wrong file or wrong outcome order")


def _open_text(path: Path) -> str:
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            return fh.read()
    except (OSError, EOFError) as exc:
        raise MarketsFileError(f"{path}: cannot read ({exc})") from exc


def _listish(v):
    return json.loads(v) if isinstance(v, str) else v


def _when(v) -> int | None:
    if not v:
        return None
    try:
        d = datetime.fromisoformat(str(v).strip().replace(" ", "T"))
    except ValueError:
        return None
    return int((d if d.tzinfo else d.replace(tzinfo=UTC)).timestamp())


def read_gamma_markets(path: str | Path) -> list[MarketTokens]:
    """Markets of a Gamma file, token ids checked; a record without a condition id or tokens is an error."""
    path = Path(path)
    text = _open_text(path)
    if text.lstrip().startswith("["):
        try:
            items = list(enumerate(json.loads(text), 1))
        except json.JSONDecodeError as exc:
            raise MarketsFileError(f"{path}: not JSON ({exc.msg})") from None
    else:
        items = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    items.append((n, json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise MarketsFileError(f"{path}:{n}: not JSON ({exc.msg})") from None
    out = []
    for n, rec in items:
        where = f"{path}:{n}"
        if not isinstance(rec, dict):
            raise MarketsFileError(f"{where}: not a market object")
        m = {**(rec.get("raw") or {}), **rec} if isinstance(rec.get("raw"), dict) else rec
        cid = _cid(m.get("conditionId") or m.get("condition_id"), where)
        try:
            tokens = [_int(t) for t in _listish(m.get("clobTokenIds") or m.get("token_ids") or [])]
        except (ValueError, TypeError):
            raise MarketsFileError(f"{where}: clobTokenIds must be a list of integers") from None
        if len(tokens) < 2:
            raise MarketsFileError(f"{where}: {cid} has no clobTokenIds")
        neg = _check(cid, tokens, _bool(m.get("negRisk", False)), where)
        prices = None
        raw = m.get("outcomePrices") or m.get("outcome_prices")
        if raw:
            try:
                ps = [Decimal(str(x)) for x in _listish(raw)]
            except (InvalidOperation, ValueError, TypeError):
                raise MarketsFileError(f"{where}: outcomePrices {raw!r} are not numbers") from None
            if len(ps) != len(tokens) or any(not 0 <= p <= 1 for p in ps):
                raise MarketsFileError(f"{where}: outcomePrices {raw!r}: one price in 0..1 per token")
            prices = tuple(int(p * 1_000_000) for p in ps)
        out.append(MarketTokens(cid, tuple(tokens), neg, prices, _when(m.get("updatedAt") or m.get("closedTime"))))
    return out


def read_token_map(path: str | Path) -> list[MarketTokens]:
    """Markets of a token map CSV (see the module docstring), token ids checked."""
    path = Path(path)
    reader = csv.DictReader(_open_text(path).splitlines())
    need = {"token_id", "condition_id", "outcome_index"}
    if not reader.fieldnames or not need <= set(reader.fieldnames):
        raise MarketsFileError(f"{path}: header must have {sorted(need)}, got {reader.fieldnames}")
    by: dict[str, dict] = {}
    for row in reader:
        where = f"{path}:{reader.line_num}"
        cid = _cid(row["condition_id"], where)
        try:
            tok, idx = _int(row["token_id"]), int(row["outcome_index"])
        except (TypeError, ValueError):
            raise MarketsFileError(f"{where}: token_id and outcome_index must be integers") from None
        if not 0 <= idx <= 255:
            raise MarketsFileError(f"{where}: outcome_index {idx} outside 0..255")
        m = by.setdefault(cid, {"tokens": {}, "neg": _bool(row.get("neg_risk") or 0), "where": where})
        m["tokens"][idx] = tok
    out = []
    for cid, m in by.items():
        toks = m["tokens"]
        if sorted(toks) != list(range(len(toks))):
            raise MarketsFileError(f"{m['where']}: {cid} has outcomes {sorted(toks)}, not 0..{len(toks) - 1}")
        tokens = [toks[i] for i in range(len(toks))]
        out.append(MarketTokens(cid, tuple(tokens), _check(cid, tokens, m["neg"], m["where"])))
    return out


def insert_markets(client: Client, markets: list[MarketTokens], *, version: int, source: str,
                   default_as_of: int | None) -> tuple[int, int]:
    """token_map rows for every outcome, and imported prices where given; returns (tokens, prices)."""
    tm, px = [], []
    for m in markets:
        coll = collateral_for(m.neg_risk)
        tm.extend((t, m.condition_id, i, 1 << i, coll, int(m.neg_risk), version) for i, t in enumerate(m.tokens))
        when = m.as_of if m.as_of is not None else default_as_of
        if m.prices is not None and when is not None:
            px.extend([m.condition_id, i, p, datetime.fromtimestamp(when, UTC), source]
                      for i, p in enumerate(m.prices))
    if tm:
        client.insert("token_map", tm, column_names=list(COLUMNS["token_map"]))
    if px:
        client.insert("imported_prices", px,
                      column_names=["condition_id", "outcome_index", "price_micros", "as_of", "source"])
    return len(tm), len(px)
