"""GET /wallets/{a}/activity and /activity.csv: what the wallet did, newest first, one row per on-chain event:
fills (order book and FPMM), splits, merges, redemptions, negRisk conversions and plain share transfers, with the
market's names. Pages follow a cursor (``before`` = the last row's block:log:sub), so a page is a bounded read
however long the history (see sql/api/wallet_activity.sql); the CSV walks every page."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from harness.pnl.money import micros_to_decimal
from harness.pnl.rows import excluded_addresses
from harness.serve.models import (
    ERRORS,
    RESOLVED_FROM,
    Address,
    Money,
    ProxyOut,
    Shares,
    WatermarkOut,
    normalise_address,
    wm_out,
)
from harness.serve.routes import Routes

NEWEST = 2**63
CURSOR = r"^[0-9]{1,19}:[0-9]{1,10}:[0-9]{1,10}$"
CSV_COLUMNS = ("type", "side", "time", "time_iso", "tx_hash", "block_number", "log_index", "condition_id",
               "question", "slug", "outcome_index", "outcome", "market_id", "shares", "price", "usdc", "fee")
Before = Annotated[str | None, Query(pattern=CURSOR, description="cursor from next_before: rows older than it "
                                                                 "(block:log:sub)")]
Kind = Literal["fill", "split", "merge", "redemption", "conversion", "transfer"]


class ActivityRow(BaseModel):
    type: Kind
    side: str | None = Field(description="fill: BUY or SELL; transfer: IN or OUT; null otherwise")
    time: int
    time_iso: str
    tx_hash: str
    block_number: int
    log_index: int
    condition_id: str | None = Field(description="the market; null for a negRisk conversion (see market_id)")
    question: str | None = None
    slug: str | None = None
    outcome_index: int | None = Field(description="the outcome filled or transferred; null for splits, merges, "
                                                  "redemptions and conversions (all outcomes)")
    outcome: str | None = Field(default=None, description="that outcome's name; null when unknown")
    market_id: str | None = Field(description="negRisk market of a conversion; null otherwise")
    shares: Shares = Field(description="shares filled, split, merged, redeemed or converted; a transfer's signed "
                                       "(+ in, - out)")
    price: Money | None = Field(description="fill price per share (collateral / shares); null for other rows")
    usdc: Money = Field(description="collateral: paid or received by a fill, put in by a split, returned by a "
                                    "merge, paid out by a redemption or returned by a conversion; 0 for transfers")
    fee: Money = Field(description="fee the fill's maker paid in collateral; 0 otherwise")


class ActivityOut(BaseModel):
    wallet: str
    activity: list[ActivityRow]
    next_before: str | None = Field(description="pass as ?before= for the next (older) page; null at the end")
    watermark: WatermarkOut
    resolved_from: ProxyOut | None = RESOLVED_FROM


def _cursor(before: str | None) -> tuple[int, int, int]:
    if not before:
        return NEWEST, 0, 0
    b, lg, s = (int(x) for x in before.split(":"))
    return b, lg, s


def page(wh, wallet: str, limit: int, before: str | None) -> tuple[list[ActivityRow], str | None]:
    """One page of rows, and the cursor of the next page (None when this one was the last)."""
    b, lg, s = _cursor(before)
    rows = wh.rows("api/wallet_activity", wallet=wallet, limit=limit + 1, before_block=b, before_log=lg,
                   before_sub=s, excluded=excluded_addresses())
    more, rows = len(rows) > limit, rows[:limit]
    names = wh.names(sorted({r[7] for r in rows if r[7]}))
    out = []
    for kind, side, t, block, log, sub, tx, cid, oi, market, shares, price, usdc, fee in rows:
        q, slug, outcomes = names.get(cid) or (None, None, [])
        out.append(ActivityRow(
            type=kind, side=side or None, time=int(t),
            time_iso=datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), tx_hash=tx,
            block_number=int(block), log_index=int(log), condition_id=cid or None, question=q or None,
            slug=slug or None, outcome_index=None if oi is None else int(oi),
            outcome=(outcomes[int(oi)] or None) if oi is not None and int(oi) < len(outcomes) else None,
            market_id=market or None, shares=micros_to_decimal(int(shares)),
            price=None if price is None else micros_to_decimal(int(price)), usdc=micros_to_decimal(int(usdc)),
            fee=micros_to_decimal(int(fee))))
    last = rows[-1] if rows else None
    return out, f"{last[3]}:{last[4]}:{last[5]}" if more and last else None


def router(routes: Routes) -> APIRouter:
    r = APIRouter(tags=["wallets"])
    wh = routes.wh

    def resolve(address: str):
        """(wallet, link): the proxy-aware owner of the address (404 when unknown)."""
        wallet, _rows, link = routes.answer_for(
            normalise_address(address),
            lambda w: wh.rows("api/wallet_activity", wallet=w, limit=1, before_block=NEWEST, before_log=0,
                              before_sub=0, excluded=excluded_addresses()))
        return wallet, link

    @r.get("/wallets/{address}/activity", response_model=ActivityOut, responses=ERRORS)
    def wallet_activity(address: Address,
                        limit: Annotated[int, Query(ge=1, le=1000, description="rows per page")] = 100,
                        before: Before = None) -> ActivityOut:
        """The wallet's fills, splits, merges, redemptions, conversions and transfers, newest first, paginated."""
        wallet, link = resolve(address)
        rows, nxt = page(wh, wallet, limit, before)
        return ActivityOut(wallet=wallet, activity=rows, next_before=nxt, watermark=wm_out(wh.watermark()),
                           resolved_from=link)

    @r.get("/wallets/{address}/activity.csv", response_class=StreamingResponse,
           responses={200: {"content": {"text/csv": {}}, "description": "header row, then every activity row, "
                                                                        "newest first"},
                      404: ERRORS[404], 422: ERRORS[422], 503: ERRORS[503]})
    def wallet_activity_csv(address: Address) -> StreamingResponse:
        """Every activity row as CSV (the trade export), newest first; money as exact decimal strings."""
        wallet, link = resolve(address)
        first, nxt = page(wh, wallet, 1000, None)

        def lines() -> Iterator[str]:
            rows, cursor = first, nxt
            yield _csv([CSV_COLUMNS])
            while True:
                yield _csv([[_cell(getattr(row, c)) for c in CSV_COLUMNS] for row in rows])
                if cursor is None:
                    return
                rows, cursor = page(wh, wallet, 1000, cursor)

        headers = {"Content-Disposition": f'attachment; filename="activity-{wallet}.csv"'}
        if link is not None:
            headers["X-Resolved-From"] = link.owner
        return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers=headers)

    return r


def _cell(v) -> str:
    return "" if v is None else str(v)


def _csv(rows) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()
