"""The P&L core of the API: GET /wallets/{a}/pnl (realized, unrealized and total with the per-market breakdown),
/timeline (cumulative P&L for the dashboard's chart) and /pnl.csv. They serve what the final views say and never
recompute P&L: the views own the formula."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from harness.pnl.money import micros_to_decimal
from harness.serve import export
from harness.serve.models import (
    ERRORS,
    RESOLVED_FROM,
    Address,
    Money,
    NotFound,
    ProxyOut,
    WatermarkOut,
    json_answer,
    normalise_address,
    wm_dict,
    wm_out,
)
from harness.serve.routes import Routes

UI_LABEL = "Polymarket UI (average cost)"


class MarketOut(BaseModel):
    condition_id: str
    status: Literal["resolved", "open"]
    cashflow: Money
    value: Money = Field(description="resolved: payout value of the shares; open: shares marked to price")
    pnl: Money
    resolved_time: int | None = Field(description="unix time of resolution; null for open markets")
    question: str | None = Field(default=None, description="the market's question (Gamma metadata, "
                                 "ingest-markets); null when unknown")
    slug: str | None = Field(default=None, description="the market's Gamma slug; null when unknown")
    outcomes: list[str] | None = Field(default=None, description="outcome names by outcome index; null when unknown")


class UiPnlOut(BaseModel):
    method: Literal["average_cost"] = "average_cost"
    label: str = Field(default=UI_LABEL,
                       description="what these figures are: Polymarket's pnl-subgraph average-cost P&L")
    realized: Money = Field(description="realized on sells, merges and redemptions at the average cost")
    unrealized: Money = Field(description="tracked shares x (price or payout - average cost)")
    total: Money


class PnlOut(BaseModel):
    wallet: str
    method: Literal["cash_flow"] = Field(default="cash_flow",
                                         description="realized / unrealized / total are cash-flow P&L (the plan's)")
    realized: Money = Field(description="P&L of resolved markets")
    unrealized: Money = Field(description="P&L of open markets marked to the current price")
    total: Money
    ui: UiPnlOut | None = Field(default=None, description="the same wallet by Polymarket UI's average-cost method; "
                                "null when the warehouse has no average-cost rows for it")
    markets_resolved: int
    markets_open: int
    markets_total: int = Field(description="rows in the breakdown before the limit")
    markets: list[MarketOut]
    watermark: WatermarkOut
    resolved_from: ProxyOut | None = RESOLVED_FROM


class TimelinePoint(BaseModel):
    time: int
    kind: Literal["resolved", "open"]
    condition_id: str | None = Field(description="the market resolved at this time; null for the open-markets point")
    question: str | None = Field(default=None, description="that market's question; null when unknown")
    pnl: Money
    cumulative: Money


class TimelineOut(BaseModel):
    wallet: str
    points: list[TimelinePoint] = Field(
        description="realized P&L accumulated in order of resolution, then one point adding the unrealized P&L of "
                    "open markets at the watermark time")
    watermark: WatermarkOut
    resolved_from: ProxyOut | None = RESOLVED_FROM


def _names_out(found: tuple[str, str, list[str]] | None) -> dict:
    """question / slug / outcomes of a market row: null when the market has no metadata or Gamma left it empty."""
    if not found:
        return {}
    q, s, o = found
    return {"question": q or None, "slug": s or None, "outcomes": list(o) or None}


def timeline_points(markets: list[tuple]) -> list[tuple[int | None, str, str | None, int, int]]:
    """(time, kind, condition_id, pnl, cumulative) in micro-USDC, from wallet_markets rows; open point time None."""
    resolved = sorted((int(t), cid, int(pnl)) for cid, status, _cf, _v, pnl, t in markets if status == "resolved")
    out, running = [], 0
    for t, cid, pnl in resolved:
        running += pnl
        out.append((t, "resolved", cid, pnl, running))
    open_pnl = sum(int(r[4]) for r in markets if r[1] == "open")
    if any(r[1] == "open" for r in markets):
        out.append((None, "open", None, open_pnl, running + open_pnl))
    return out


def router(routes: Routes) -> APIRouter:
    r = APIRouter(tags=["wallets"])
    wh = routes.wh

    @r.get("/wallets/{address}/pnl", response_model=PnlOut, responses=ERRORS)
    def wallet_pnl(address: Address,
                   limit: Annotated[int, Query(ge=1, le=10000, description="markets to list")] = 1000) -> Response:
        """Realized, unrealized and total P&L with a per-market breakdown (largest absolute P&L first)."""
        wallet = normalise_address(address)
        # One statement (two primary-key ranges, no view planning or join): the per-market rows of
        # wallet_market_pnl, whose sums are what the summary view reports, and the wallet's average-cost totals.
        # Resolution times and names come from caches filled once per condition.
        wh.require_views()
        wm = wh.watermark()  # first: a change it notices empties the per-condition caches before this request
        wallet, rows, link = routes.answer_for(wallet, wh.pnl_rows)
        ui_rows = [r for r in rows if r[5]]
        rows = [r[:5] for r in rows if not r[5]]
        if not rows:
            raise NotFound(f"wallet {wallet} not found in {wh.summary_view}")
        realized = sum(int(r[4]) for r in rows if r[1])
        unrealized = sum(int(r[4]) for r in rows if not r[1])
        resolved_ids = [r[0] for r in rows if r[1]]
        times = wh.resolved_times(resolved_ids)
        shown = sorted(rows, key=lambda r: (-abs(int(r[4])), r[0], bool(r[1])))[:limit]  # open before resolved
        names = wh.names([r[0] for r in shown])
        markets = []
        for cid, res, cf, v, p in shown:
            q, slug, outcomes = names.get(cid) or (None, None, None)
            t = times.get(cid) if res else None
            markets.append({"condition_id": cid, "status": "resolved" if res else "open",
                            "cashflow": micros_to_decimal(int(cf)), "value": micros_to_decimal(int(v)),
                            "pnl": micros_to_decimal(int(p)), "resolved_time": int(t) if t else None,
                            "question": q or None, "slug": slug or None, "outcomes": list(outcomes or ()) or None})
        ui = None
        if ui_rows:
            ui = {"method": "average_cost", "label": UI_LABEL, "realized": micros_to_decimal(int(ui_rows[0][2])),
                  "unrealized": micros_to_decimal(int(ui_rows[0][3])), "total": micros_to_decimal(int(ui_rows[0][4]))}
        return json_answer({
            "wallet": wallet, "method": "cash_flow", "realized": micros_to_decimal(realized),
            "unrealized": micros_to_decimal(unrealized), "total": micros_to_decimal(realized + unrealized), "ui": ui,
            "markets_resolved": len(resolved_ids), "markets_open": len(rows) - len(resolved_ids),
            "markets_total": len(rows), "markets": markets, "watermark": wm_dict(wm),
            "resolved_from": None if link is None else link.model_dump()})

    @r.get("/wallets/{address}/timeline", response_model=TimelineOut, responses=ERRORS)
    def wallet_timeline(address: Address) -> TimelineOut:
        """Cumulative P&L over time, for the dashboard chart."""
        wallet = normalise_address(address)
        # 404 unless the summary view knows it (then: a wallet with no markets, empty chart) or it owns a proxy
        wallet, markets, link = routes.answer_for(
            wallet, lambda w: wh.rows("api/wallet_markets", market_view=wh.market_view, wallet=w))
        wm = wh.watermark()
        points, last = [], 0
        rows = timeline_points(markets)
        names = wh.names([r[2] for r in rows if r[2]])
        for t, kind, cid, pnl, cum in rows:
            last = max(last, t) if t is not None else max(last, wm.time)
            points.append(TimelinePoint(time=last if t is None else t, kind=kind, condition_id=cid,
                                        question=_names_out(names.get(cid)).get("question"),
                                        pnl=micros_to_decimal(pnl), cumulative=micros_to_decimal(cum)))
        return TimelineOut(wallet=wallet, points=points, watermark=wm_out(wm), resolved_from=link)

    @r.get("/wallets/{address}/pnl.csv", response_class=Response,
           responses={200: {"content": {"text/csv": {}}, "description": "header row, then one row per market"},
                      404: ERRORS[404], 422: ERRORS[422], 503: ERRORS[503]})
    def wallet_pnl_csv(address: Address) -> Response:
        """One row per market (resolved and open) with exact decimal USD strings: the pnl_usd column sums to the
        wallet's total. An EOA with no rows of its own is answered with its proxy wallet's rows (the wallet
        column names the proxy; the X-Resolved-From header the address asked for)."""
        wallet = normalise_address(address)
        wallet, rows, link = routes.answer_for(
            wallet, lambda w: wh.rows("api/wallet_markets", market_view=wh.market_view, wallet=w))
        headers = {"Content-Disposition": f'attachment; filename="pnl-{wallet}.csv"'}
        if link is not None:
            headers["X-Resolved-From"] = link.owner
        return Response(export.to_csv(export.market_rows(rows, wallet)), media_type="text/csv; charset=utf-8",
                        headers=headers)

    return r
