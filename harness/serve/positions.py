"""GET /wallets/{a}/positions: per market and outcome, the average-cost book (Polymarket UI's method) beside the
shares held, so the page can show what Polymarket's profile shows: shares, average price, current price, cost,
value, P&L and P&L %. The P&L of a position is its realized P&L plus the unrealized P&L of the tracked shares,
computed by the warehouse with the build's own rule, so the positions of a wallet sum to its UI total exactly."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from harness.pnl.money import MICROS, micros_to_decimal
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


class PositionOut(BaseModel):
    condition_id: str
    outcome_index: int = Field(description="outcome index; 255 marks an FPMM's liquidity shares (valued at 0)")
    net_shares: Shares = Field(description="shares held on chain (ERC1155 balance as the warehouse has it)")
    shares: Shares = Field(description="shares the average-cost book tracks (differs from net_shares by shares "
                                       "moved by plain transfers or paid as fees, which the UI method ignores)")
    avg_price: Money = Field(description="average price paid per tracked share (USDC)")
    price: Money | None = Field(description="current price per share: the payout share when resolved, else the "
                                            "market price; null when an open outcome has no price")
    cost_usd: Money = Field(description="shares x avg_price")
    value_usd: Money = Field(description="shares x price (0 when unpriced)")
    realized_usd: Money = Field(description="P&L realized on this outcome's sells, merges and redemptions")
    pnl_usd: Money = Field(description="realized + unrealized (shares x (price - avg_price)), average cost; the "
                                       "positions of a wallet sum to its /pnl ui.total")
    pnl_pct: float | None = Field(description="pnl_usd / cost_usd x 100, rounded to 2 places; null when nothing "
                                              "is held at a cost (a closed position)")
    status: Literal["open", "resolved", "redeemable"] = Field(
        description="open: market not resolved; redeemable: resolved and shares of a paying outcome still held; "
                    "resolved: resolved, nothing to redeem")
    question: str | None = Field(default=None, description="the market's question; null when unknown")
    slug: str | None = Field(default=None, description="the market's Gamma slug; null when unknown")
    outcome: str | None = Field(default=None, description="this outcome's name (e.g. Yes, Up); null when unknown")


class PositionsOut(BaseModel):
    wallet: str
    positions: list[PositionOut]
    pnl_total: Money = Field(description="sum of pnl_usd: the wallet's average-cost (UI) total")
    watermark: WatermarkOut
    resolved_from: ProxyOut | None = RESOLVED_FROM


def pnl_pct(pnl: int, cost: int) -> float | None:
    """Percent of cost, 2 places (half away from zero, from exact integers); None without a positive cost."""
    if cost <= 0:
        return None
    q, r = divmod(abs(pnl) * 10_000, cost)  # basis points
    q += 1 if 2 * r >= cost else 0
    return (q if pnl >= 0 else -q) / 100


def position(row: tuple) -> dict:
    """One row of sql/api/wallet_positions_book.sql as PositionOut fields (names added by the caller)."""
    cid, oi, held, amount, avg, realized, resolved, payout, mark, price, pnl = row
    amount, avg, mark, pnl = int(amount), int(avg), int(mark), int(pnl)
    cost, value = _trunc(amount * avg), _trunc(amount * mark)
    priced = payout is not None or price is not None
    if not resolved:
        status = "open"
    else:
        status = "redeemable" if int(held) > 0 and payout is not None and int(payout) > 0 else "resolved"
    return {"condition_id": cid, "outcome_index": int(oi), "net_shares": micros_to_decimal(int(held)),
            "shares": micros_to_decimal(amount), "avg_price": micros_to_decimal(avg),
            "price": micros_to_decimal(mark) if priced else None, "cost_usd": micros_to_decimal(cost),
            "value_usd": micros_to_decimal(value), "realized_usd": micros_to_decimal(int(realized)),
            "pnl_usd": micros_to_decimal(pnl), "pnl_pct": pnl_pct(pnl, cost), "status": status}


def _trunc(n: int) -> int:
    """micro-shares x micro-USDC per share -> micro-USDC, truncated toward zero (as the warehouse's intDiv)."""
    q = abs(n) // MICROS
    return q if n >= 0 else -q


def _position_names(found: tuple[str, str, list[str]] | None, outcome_index: int) -> dict:
    if not found:
        return {}
    q, s, o = found
    return {"question": q or None, "slug": s or None,
            "outcome": o[outcome_index] or None if outcome_index < len(o) else None}


def router(routes: Routes) -> APIRouter:
    r = APIRouter(tags=["wallets"])
    wh = routes.wh

    @r.get("/wallets/{address}/positions", response_model=PositionsOut, responses=ERRORS)
    def wallet_positions(address: Address) -> PositionsOut:
        """Positions per market and outcome with average price, current price, cost, value, P&L and P&L % by
        Polymarket UI's average-cost method (open, resolved or redeemable); closed positions with realized P&L are
        listed too, so pnl_usd sums to the wallet's UI total."""
        wm = wh.watermark()  # first: a change it notices empties the names cache before this request reads it
        wallet, rows, link = routes.answer_for(normalise_address(address),
                                               lambda w: wh.rows("api/wallet_positions_book", wallet=w))
        names = wh.names(sorted({row[0] for row in rows}))
        out = [PositionOut(**position(row), **_position_names(names.get(row[0]), int(row[1]))) for row in rows]
        return PositionsOut(wallet=wallet, positions=out, pnl_total=micros_to_decimal(sum(int(row[10]) for row in rows)),
                            watermark=wm_out(wm), resolved_from=link)

    return r
