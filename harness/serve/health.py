"""GET /health: is the warehouse reachable, and how old is the newest block in it. 503 while the warehouse does not
answer, so a load balancer or monitor needs only the status code."""
from __future__ import annotations

import time
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from harness.serve.models import WatermarkOut, wm_out
from harness.serve.routes import Routes
from harness.serve.warehouse import WarehouseUnavailable


class HealthOut(BaseModel):
    status: Literal["ok", "stale", "unavailable"]
    warehouse_reachable: bool
    watermark: WatermarkOut | None
    data_age_seconds: int | None
    detail: str


def router(routes: Routes, stale_after_seconds: int) -> APIRouter:
    r = APIRouter(tags=["ops"])
    wh = routes.wh

    @r.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
    def health() -> HealthOut | JSONResponse:
        """Is the warehouse reachable, and how old is the newest block in it?"""
        try:
            wm = wh.watermark()
        except WarehouseUnavailable as exc:
            body = HealthOut(status="unavailable", warehouse_reachable=wh.ping(), watermark=None,
                             data_age_seconds=None, detail=str(exc))
            return JSONResponse(status_code=503, content=body.model_dump())
        if wm.block == 0:
            return HealthOut(status="stale", warehouse_reachable=True, watermark=wm_out(wm),
                             data_age_seconds=None, detail="no blocks ingested")
        age = max(0, int(time.time()) - wm.time)
        stale = age > stale_after_seconds
        return HealthOut(status="stale" if stale else "ok", warehouse_reachable=True, watermark=wm_out(wm),
                         data_age_seconds=age,
                         detail=f"newest block {wm.block} is {age} s old"
                                + (f" (more than {stale_after_seconds} s)" if stale else ""))

    return r
