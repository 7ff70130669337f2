"""One wallet's P&L per market as a file: CSV (one row per market, header first) or JSON, money as exact decimal
USD strings. The rows are the final views' (sql/api/wallet_markets.sql), so the CSV's pnl column sums to the
summary view's total_pnl exactly."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from harness.pnl.money import micros_to_decimal as usd
from harness.warehouse.sql import load

CSV_COLUMNS = ("wallet", "condition_id", "status", "resolved_time", "cashflow_usd", "value_usd", "pnl_usd")


@dataclass(frozen=True)
class MarketRow:
    wallet: str
    condition_id: str
    status: str  # resolved | open
    resolved_time: str  # ISO UTC time of the resolution; empty for open markets
    cashflow_usd: str
    value_usd: str
    pnl_usd: str


def market_rows(rows: list[tuple], wallet: str) -> list[MarketRow]:
    """MarketRows from sql/api/wallet_markets.sql rows (condition, status, cashflow, value, pnl, resolved_time)."""
    out = []
    for cid, status, cf, value, pnl, t in rows:
        when = datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if status == "resolved" else ""
        out.append(MarketRow(wallet, cid, status, when, usd(int(cf)), usd(int(value)), usd(int(pnl))))
    return out


def wallet_market_rows(client, wallet: str, *, market_view: str = "realized_pnl_by_market_final") -> list[MarketRow]:
    """The per-market rows of ``wallet`` (lower-case 0x address) from the final views (or their ``_test`` /
    ``_build`` twins named by ``market_view``)."""
    rows = client.query(load("api/wallet_markets"), parameters={"market_view": market_view, "wallet": wallet})
    return market_rows(rows.result_rows, wallet)


def to_csv(rows: list[MarketRow]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for r in rows:
        w.writerow([getattr(r, c) for c in CSV_COLUMNS])
    return buf.getvalue()


def to_json(rows: list[MarketRow], wallet: str, resolved_from: dict | None = None) -> str:
    """{"wallet", "resolved_from", "markets": [...], "totals": {realized, unrealized, total}} (exact strings)."""
    # the strings are always -?digits.6digits: without the point they are the exact micro-USDC integers
    realized = sum(int(r.pnl_usd.replace(".", "")) for r in rows if r.status == "resolved")
    unrealized = sum(int(r.pnl_usd.replace(".", "")) for r in rows if r.status == "open")
    body = {"wallet": wallet, "resolved_from": resolved_from, "markets": [asdict(r) for r in rows],
            "totals": {"realized_usd": usd(realized), "unrealized_usd": usd(unrealized),
                       "total_usd": usd(realized + unrealized)}}
    return json.dumps(body, indent=2) + "\n"
