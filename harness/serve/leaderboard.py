"""GET /leaderboard/rank/{a}: one wallet's place on the leaderboard (window, metric as /leaderboard), read from the
build's pre-ranked table: its value, rank and how many wallets are ranked."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from harness.serve.app import ERRORS, Address, Metric, Money, Window, micros_to_decimal, normalise_address


class RankOut(BaseModel):
    wallet: str
    window: Window
    metric: Metric
    rank: int | None = Field(description="1 = best; null when the wallet has no row that counts in the window")
    value: Money | None = Field(description="the wallet's P&L (or volume) in the window; null when not ranked")
    ranked: int = Field(description="wallets ranked in this window and metric")
    as_of: int | None = Field(description="unix time the windows end at; null when the wallet is not ranked")
    as_of_iso: str | None


def router(routes) -> APIRouter:
    r = APIRouter(tags=["wallets"])
    wh = routes.wh

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
                       as_of_iso=datetime.fromtimestamp(int(as_of), UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))

    return r
