"""Polymarket's data API ``/positions`` for a wallet: parsed from a saved file or fetched page by page, money as
micro-USDC ints; and the per-position comparison row (ours beside theirs)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from harness.gates.checkwallet import CheckWalletError

_POSITION_FIELDS = ("proxyWallet", "asset", "conditionId", "size", "avgPrice", "initialValue", "currentValue",
                    "cashPnl", "realizedPnl", "curPrice")


@dataclass(frozen=True)
class Position:
    """One row of the data API's ``/positions`` (money in micro-USDC, shares in micro-units, prices in
    micro-USDC per share, rounded half-even from the API's decimal numbers)."""

    proxy_wallet: str
    asset: int
    condition_id: str
    size: int
    avg_price: int
    initial_value: int
    current_value: int
    cash_pnl: int
    realized_pnl: int
    cur_price: int
    title: str = ""
    outcome: str = ""
    redeemable: bool = False

    @property
    def pnl(self) -> int:
        return self.cash_pnl + self.realized_pnl


def _micro(v, where: str) -> int:
    try:
        d = Decimal(str(v))
    except (InvalidOperation, ValueError):
        raise CheckWalletError(f"{where}: {v!r} is not a number") from None
    if not d.is_finite():
        raise CheckWalletError(f"{where}: {v!r} is not a finite number")
    return int((d * 10**6).to_integral_value())


def parse_positions(data, source: str) -> list[Position]:
    """The data API's ``/positions`` answer (a JSON array of objects); a bad row names ``source`` and its index."""
    if not isinstance(data, list):
        raise CheckWalletError(f"{source}: expected a JSON array of positions, got {type(data).__name__}")
    out = []
    for i, r in enumerate(data):
        where = f"{source}: position #{i}"
        if not isinstance(r, dict):
            raise CheckWalletError(f"{where}: not an object")
        missing = [k for k in _POSITION_FIELDS if k not in r]
        if missing:
            raise CheckWalletError(f"{where}: missing {', '.join(missing)}")
        try:
            asset = int(str(r["asset"]))
        except ValueError:
            raise CheckWalletError(f"{where}: asset {r['asset']!r} is not a token id") from None
        cid = str(r["conditionId"]).lower()
        if not (cid.startswith("0x") and len(cid) == 66):
            raise CheckWalletError(f"{where}: conditionId {r['conditionId']!r} is not 0x + 64 hex digits")
        out.append(Position(str(r["proxyWallet"]).lower(), asset, cid,
                            *(_micro(r[k], f"{where}: {k}") for k in _POSITION_FIELDS[3:]),
                            title=str(r.get("title") or ""), outcome=str(r.get("outcome") or ""),
                            redeemable=bool(r.get("redeemable"))))
    return out


def load_positions(path: str | Path) -> list[Position]:
    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except OSError as exc:
        raise CheckWalletError(f"{p}: cannot read ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise CheckWalletError(f"{p}: not JSON ({exc.msg} at line {exc.lineno})") from None
    return parse_positions(data, str(p))


def fetch_positions(base_url: str, user: str, *, page: int = 500, timeout: float = 30.0) -> list[Position]:
    """GET {base_url}/positions?user=...&sizeThreshold=0, page by page (limit / offset), as the data API serves.
    Each page has a total deadline (2 x ``timeout``): a server trickling its answer cannot hold the check."""
    import requests

    from harness.deadline import DeadlineExceeded, within
    from harness.errors import redact, redact_url

    out: list[Position] = []
    offset = 0
    while True:
        try:
            def get(offset=offset):
                resp = requests.get(f"{base_url.rstrip('/')}/positions", timeout=timeout,
                                    params={"user": user, "sizeThreshold": 0, "limit": page, "offset": offset})
                resp.raise_for_status()
                return resp.json()

            data = within(2 * timeout, get, "data API /positions")
        except (requests.RequestException, ValueError, DeadlineExceeded) as exc:
            raise CheckWalletError(f"data API {redact_url(base_url)}: {type(exc).__name__}: "
                                   f"{redact(str(exc))[:300]}") from None
        rows = parse_positions(data, f"{redact_url(base_url)}/positions offset {offset}")
        out += rows
        if len(rows) < page:
            return out
        offset += page


@dataclass
class PositionCheck:
    """Polymarket's position beside ours: size, average price and P&L (realized + unrealized, average cost)."""

    position: Position
    size: int | None  # ours, None when we hold no such token
    avg_price: int | None
    pnl: int | None
    ok: bool
    problems: tuple[str, ...] = ()
