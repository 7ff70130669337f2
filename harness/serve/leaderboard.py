"""GET /leaderboard (wallets ranked by P&L or volume) and /leaderboard/rank/{a} (one wallet's place), both read from
the build's pre-ranked table (wallet_leaderboard), which is made from the same rows as the final views."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from harness.pnl.money import micros_to_decimal
from harness.serve.models import (
    ERRORS,
    Address,
    Money,
    iso_time,
    json_answer,
    normalise_address,
)
from harness.serve.routes import Routes

Window = Literal["1d", "7d", "30d", "all"]
Metric = Literal["total", "realized", "ui_total", "volume"]
LEADERBOARD_DOC = """Wallets ranked by P&L, best first, from the build's pre-ranked table (wallet_leaderboard), which is
made from the same rows as the final views.

**window** (the period ends at `as_of`: the newest ingested block's time, or the build's cutoff when earlier):
- `all`: every market; `total` and `realized` equal wallet_pnl_summary_final's total_pnl / realized_pnl and
  `ui_total` equals ui_wallet_pnl_summary's ui_total_pnl.
- `1d` / `7d` / `30d`: the markets **resolved** in the 1 / 7 / 30 days ending at `as_of`. `realized` is their cash-flow P&L
  (a wallet with no market resolved in the period is not listed); `total` adds the unrealized P&L of the wallet's
  markets that are still open (marked to the current price); `ui_total` is the average-cost P&L of the same
  markets (resolved in the period, or open).

It is not the change of P&L over the period: positions are not revalued at the period's start (the warehouse
keeps prices as of the build only).

**metric**: `total` and `realized` are cash-flow P&L (the plan's), `ui_total` Polymarket UI's average-cost
P&L, `volume` the collateral of the wallet's order-book fills as maker (FPMM trades not counted) in the
window by the hour of the fill (`1d` / `7d` / `30d`: hours ending in the last 1 / 7 / 30 days). Ties rank by wallet
address. `GET /leaderboard/rank/{address}` gives one wallet's rank."""


class LeaderRowOut(BaseModel):
    rank: int = Field(description="1 = best")
    wallet: str
    pnl: Money = Field(description="the metric's value (for metric=volume: the volume); same as value")
    value: Money = Field(description="the metric's value: P&L, or volume for metric=volume")


class LeaderboardOut(BaseModel):
    window: Window
    metric: Metric
    as_of: int | None = Field(description="unix time the windows end at; null when nothing is built yet")
    as_of_iso: str | None
    rows: list[LeaderRowOut]


class RankOut(BaseModel):
    wallet: str
    window: Window
    metric: Metric
    rank: int | None = Field(description="1 = best; null when the wallet has no row that counts in the window")
    value: Money | None = Field(description="the wallet's P&L (or volume) in the window; null when not ranked")
    ranked: int = Field(description="wallets ranked in this window and metric")
    as_of: int | None = Field(description="unix time the windows end at; null when the wallet is not ranked")
    as_of_iso: str | None


def router(routes: Routes) -> APIRouter:
    r = APIRouter(tags=["wallets"])
    wh = routes.wh

    @r.get("/leaderboard", response_model=LeaderboardOut, responses={422: ERRORS[422], 503: ERRORS[503]},
           description=LEADERBOARD_DOC, summary="Wallets ranked by P&L or volume")
    def leaderboard(window: Annotated[Window, Query(description="all, or the last 1d / 7d / 30d")] = "all",
                    metric: Annotated[Metric, Query(description="total, realized (cash flow), ui_total "
                                                                "(average cost) or volume")] = "total",
                    limit: Annotated[int, Query(ge=1, le=1000, description="rows to return")] = 100) -> Response:
        rows = wh.rows("api/leaderboard", period=window, metric=metric, limit=limit)
        as_of = int(rows[0][2]) if rows else None
        out = []
        for i, (w, p, _) in enumerate(rows, 1):
            money = micros_to_decimal(int(p))
            out.append({"rank": i, "wallet": w, "pnl": money, "value": money})
        return json_answer({"window": window, "metric": metric, "as_of": as_of,
                            "as_of_iso": None if as_of is None else iso_time(as_of), "rows": out})

    @r.get("/leaderboard/rank/{address}", response_model=RankOut,
           responses={422: ERRORS[422], 503: ERRORS[503]}, summary="One wallet's rank on the leaderboard")
    def leaderboard_rank(address: Address,
                         window: Annotated[Window, Query(description="as /leaderboard")] = "all",
                         metric: Annotated[Metric, Query(description="as /leaderboard")] = "total") -> RankOut:
        """The wallet's rank, value and the number of wallets ranked, in the window and metric of /leaderboard
        (the address as given: an EOA is ranked only if it has P&L of its own)."""
        wallet = normalise_address(address)
        rows = wh.rows("api/leaderboard_rank", period=window, metric=metric, wallet=wallet)
        if not rows:
            ranked = wh.rows("api/leaderboard_count", period=window, metric=metric)[0][0]
            return RankOut(wallet=wallet, window=window, metric=metric, rank=None, value=None, ranked=int(ranked),
                           as_of=None, as_of_iso=None)
        value, ahead, ranked, as_of = rows[0]
        return RankOut(wallet=wallet, window=window, metric=metric, rank=int(ahead) + 1,
                       value=micros_to_decimal(int(value)), ranked=int(ranked), as_of=int(as_of),
                       as_of_iso=iso_time(int(as_of)))

    return r
