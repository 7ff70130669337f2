"""What every route shares: money as exact decimal strings from integer micro-USDC (so no client ever sees a
float), the address and money types the OpenAPI spec validates, the watermark and proxy parts of each answer, and
the error bodies."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

import orjson
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, Field

from harness import gates

ADDRESS_PATTERN = r"^0[xX][0-9a-fA-F]{40}$"
MONEY_PATTERN = r"^-?[0-9]+\.[0-9]{6}$"


def normalise_address(address: str) -> str:
    """Lower-case 0x address; ValueError naming the input when it is not 0x + 40 hex."""
    if not re.fullmatch(ADDRESS_PATTERN, address or ""):
        raise ValueError(f"address {address!r} is not 0x followed by 40 hex digits")
    return "0x" + address[2:].lower()


def iso_time(t: int) -> str:
    """Unix time as an ISO UTC string with a Z."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


Money = Annotated[str, Field(pattern=MONEY_PATTERN, description="exact decimal USDC (6 places)",
                             examples=["-12.345678"])]
Shares = Annotated[str, Field(pattern=MONEY_PATTERN, description="exact decimal shares (6 places)")]
Address = Annotated[str, PathParam(pattern=ADDRESS_PATTERN, description="wallet, 0x + 40 hex, any case",
                                   examples=["0x00000000000000000000000000000000000000aa"])]


class ProxyOut(BaseModel):
    owner: str = Field(description="the address asked for: the EOA that signs for the proxy")
    proxy: str = Field(description="the proxy wallet whose P&L this is (the response's wallet)")
    kind: Literal["safe", "proxy"] = Field(description="safe: Polymarket SafeProxyFactory; proxy: ProxyWalletFactory")
    source: str = Field(description="how the link is known: the ProxyCreation event, or CREATE2 derivation from "
                                    "the owner (the ProxyWalletFactory emits no event)")


RESOLVED_FROM = Field(default=None, description="set when the address asked for is an EOA with no P&L rows of "
                      "its own and the answer is its proxy wallet's; null otherwise")


class WatermarkOut(BaseModel):
    block: int = Field(description="highest block ingested")
    time: int = Field(description="its unix time")
    time_iso: str


def wm_out(wm: gates.Watermark) -> WatermarkOut:
    return WatermarkOut(block=wm.block, time=wm.time, time_iso=iso_time(wm.time))


def wm_dict(wm: gates.Watermark) -> dict:
    """WatermarkOut as a plain dict, for the routes that answer with pre-serialised JSON."""
    return {"block": wm.block, "time": wm.time, "time_iso": iso_time(wm.time)}


def json_answer(body: dict) -> Response:
    """A 200 whose body is already JSON: the hot routes build plain dicts of their response model's fields and
    skip FastAPI's per-request validation and encoding (their ``response_model`` still documents the answer, and
    the schema tests check the answers against it)."""
    return Response(orjson.dumps(body), media_type="application/json")


class ErrorOut(BaseModel):
    error: str = Field(description="short machine-readable kind, e.g. wallet_not_found")
    detail: str


class ValidationErrorOut(BaseModel):
    error: Literal["invalid_request"]
    detail: list[dict] = Field(description="FastAPI's validation errors: location, message, input")


ERRORS = {404: {"model": ErrorOut, "description": "wallet unknown to the warehouse"},
          422: {"model": ValidationErrorOut, "description": "malformed address or parameter"},
          503: {"model": ErrorOut, "description": "warehouse unreachable or failing"}}


class NotFound(Exception):
    """An unknown wallet: answered with 404 wallet_not_found."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail
