"""GET /wallets/{a}/pnl/history: the wallet's cash-flow P&L over time, realized and total, with open positions marked
at the prices of each moment (the last fill at or before it, or a later-dated import), hourly over a day and daily
over a week, a month or all time. The points come from the build's snapshots (wallet_pnl_flows, price_history:
written by every build, per touched condition by the daily sync) read for one wallet on its primary-key ranges;
the last point is the build's own state, so it equals /pnl's total and realized."""
from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from harness.pnl.money import micros_to_decimal
from harness.serve.models import (
    ERRORS,
    RESOLVED_FROM,
    Address,
    Money,
    ProxyOut,
    WatermarkOut,
    normalise_address,
    wm_out,
)
from harness.serve.routes import Routes

HOUR, DAY = 3600, 86400
#: The "everything" point: later than any DateTime, so the last point reads every flow, resolution and price.
EVERYTHING = 2**32
#: range -> (step seconds, number of steps back from the end)
RANGES = {"1d": (HOUR, 24), "1w": (DAY, 7), "1m": (DAY, 30), "all": (DAY, None)}
Range = Literal["1d", "1w", "1m", "all"]


class HistoryPoint(BaseModel):
    time: int = Field(description="unix time the P&L is as of (events at or before it); the last point is the "
                                  "data's end (the watermark)")
    time_iso: str
    realized: Money = Field(description="P&L of the markets resolved by then (cash flow)")
    total: Money = Field(description="realized + open markets marked at the prices of that moment")
    value: Money = Field(description="the metric asked for (total or realized)")


class HistoryOut(BaseModel):
    wallet: str
    range: Range
    metric: Literal["total", "realized"]
    step_seconds: int = Field(description="3600 for 1d, 86400 otherwise")
    points: list[HistoryPoint]
    watermark: WatermarkOut
    resolved_from: ProxyOut | None = RESOLVED_FROM


def point_times(rng: str, end: int, first: int | None) -> list[int]:
    """Ascending point times on step boundaries, ending at the last boundary at or before ``end``: 24 hours, 7 or
    30 days, or every day from the one holding ``first`` (all); the caller appends the end itself."""
    step, count = RANGES[rng]
    last = end - end % step
    if count is None:
        start = last if first is None else min(last, first - first % step)
        count = (last - start) // step + 1
    return [last - i * step for i in range(count - 1, -1, -1)]


def combine(times: list[int], rows: list[tuple]) -> list[tuple[int, int, int]]:
    """(time, realized, total) per point from sql/api/wallet_pnl_history.sql rows: the conditions evaluated at
    each point plus every condition whose P&L was final ('end') by then."""
    at_total: dict[int, int] = defaultdict(int)
    at_real: dict[int, int] = defaultdict(int)
    ends = []
    for kind, t, _c, pnl, resolved in rows:
        if kind == "end":
            ends.append((int(t), int(pnl)))
        else:
            at_total[int(t)] += int(pnl)
            at_real[int(t)] += int(pnl) if resolved else 0
    ends.sort()
    out, i, done = [], 0, 0
    for t in times:
        while i < len(ends) and ends[i][0] <= t:
            done += ends[i][1]
            i += 1
        out.append((t, done + at_real[t], done + at_total[t]))
    return out


def router(routes: Routes) -> APIRouter:
    r = APIRouter(tags=["wallets"])
    wh = routes.wh

    @r.get("/wallets/{address}/pnl/history", response_model=HistoryOut, responses=ERRORS)
    def wallet_pnl_history(
        address: Address,
        range: Annotated[Range, Query(description="1d: hourly points over the last day; 1w / 1m: daily over 7 / "
                                                  "30 days; all: daily from the wallet's first flow")] = "1m",
        metric: Annotated[Literal["total", "realized"], Query(description="which figure `value` carries")] = "total",
    ) -> HistoryOut:
        """Cash-flow P&L over time (realized, and total with open positions marked at the prices of each moment);
        the last point is the data's end and equals /pnl's realized and total."""
        wallet, first, link = routes.answer_for(normalise_address(address),
                                                lambda w: wh.rows("api/wallet_first_flow", wallet=w))
        wm = wh.watermark()
        end = wm.time
        times = [t for t in point_times(range, end, int(first[0][0]) if first else None) if 0 < t < end]
        rows = wh.rows("api/wallet_pnl_history", wallet=wallet, points=[*times, EVERYTHING]) if first else []
        points = []
        for t, realized, total in combine([*times, EVERYTHING], rows):
            shown = end if t == EVERYTHING else t
            points.append(HistoryPoint(
                time=shown, time_iso=datetime.fromtimestamp(shown, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                realized=micros_to_decimal(realized), total=micros_to_decimal(total),
                value=micros_to_decimal(total if metric == "total" else realized)))
        return HistoryOut(wallet=wallet, range=range, metric=metric, step_seconds=RANGES[range][0], points=points,
                          watermark=wm_out(wm), resolved_from=link)

    return r
